fn main() -> std::process::ExitCode {
    lp_tests::blobs::main()
}
