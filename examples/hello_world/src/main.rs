fn main() -> std::process::ExitCode {
    hello_world::hello_world::main()
}
