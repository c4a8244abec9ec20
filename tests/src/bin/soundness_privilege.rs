//! The `privilege` program of `soundness.lp`.

fn main() -> std::process::ExitCode {
    lp_tests::privilege::main()
}
