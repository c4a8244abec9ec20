fn main() -> std::process::ExitCode {
    program_wait::program_wait::main()
}
