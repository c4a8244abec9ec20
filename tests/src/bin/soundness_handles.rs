//! The `handles` program of `soundness.lp`.

fn main() -> std::process::ExitCode {
    lp_tests::handles::main()
}
