fn main() -> std::process::ExitCode {
    lp_tests::cluster_probe::main()
}
