//! Helpers shared by the integration tests that run `lpc` on a package.

use std::path::Path;

/// A package like the diagnostics cases' fixture: `Cargo.toml` + the seed crate's `src/`.
pub fn seed_package() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"seed\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .expect("write Cargo.toml");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("build/tests/fixtures/seed/src");
    std::fs::create_dir(dir.path().join("src")).expect("mkdir src");
    for entry in std::fs::read_dir(fixture).expect("the seed fixture") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), dir.path().join("src").join(entry.file_name()))
            .expect("copy the fixture");
    }
    dir
}
