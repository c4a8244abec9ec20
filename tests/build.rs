//! Checks `kinds.lp` against `src/` and generates its launch code.

fn main() -> Result<(), lpc::BuildError> {
    lpc::Build::new().compile()
}
