//! The `failing` program of `soundness.lp`.

fn main() -> std::process::ExitCode {
    lp_tests::failing::main()
}
