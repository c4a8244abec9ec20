//! The `loop` program of `soundness.lp`.

fn main() -> std::process::ExitCode {
    lp_tests::r#loop::main()
}
