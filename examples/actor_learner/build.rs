//! Checks the package's `.lp` programs against `src/` and generates their launch code.

fn main() -> Result<(), lpc::BuildError> {
    lpc::Build::new().compile()
}
