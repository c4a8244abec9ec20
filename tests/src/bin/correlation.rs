fn main() -> std::process::ExitCode {
    lp_tests::correlation::main()
}
