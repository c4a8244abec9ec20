//! Checks the package's `.lp` programs against `src/` and generates their launch code.

fn main() -> Result<(), lpc_build::BuildError> {
    lpc_build::Build::new().compile()
}
