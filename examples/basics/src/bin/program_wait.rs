fn main() -> std::process::ExitCode {
    basics::program_wait::main()
}
