//! Checks `kinds.lp` against `src/` and generates its launch code.

fn main() -> Result<(), lpc_build::BuildError> {
    lpc_build::Build::new().compile()
}
