fn main() -> std::process::ExitCode {
    lp_bench::bench::main()
}
