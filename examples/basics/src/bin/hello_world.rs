fn main() -> std::process::ExitCode {
    basics::hello_world::main()
}
