fn main() -> std::process::ExitCode {
    lp_tests::restarts::main()
}
