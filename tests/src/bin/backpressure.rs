fn main() -> std::process::ExitCode {
    lp_tests::backpressure::main()
}
