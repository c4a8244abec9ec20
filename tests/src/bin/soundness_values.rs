//! The `values` program of `soundness.lp`.

fn main() -> std::process::ExitCode {
    lp_tests::values::main()
}
