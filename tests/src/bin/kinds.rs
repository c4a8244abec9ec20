fn main() -> std::process::ExitCode {
    lp_tests::kinds::main()
}
