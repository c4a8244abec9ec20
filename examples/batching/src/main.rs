fn main() -> std::process::ExitCode {
    batching::batching::main()
}
