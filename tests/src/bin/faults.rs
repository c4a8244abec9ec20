//! The `faults` test program (`tests/faults.lp`).

fn main() -> std::process::ExitCode {
    lp_tests::faults::main()
}
