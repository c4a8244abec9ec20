//! Generated code names every standard item by its absolute path and is clippy-clean on its
//! own: the package `compiler/build/tests/packages/shadowed_prelude` has
//! `#![no_implicit_prelude]` (no module of it, the generated ones included, sees the standard or
//! the extern prelude) and defines `Ok`, `Err`, `Some`, `None`, `Result`, `Option`, `Box`,
//! `Vec`, `String`, `Default`, `Clone`, `Arc` and `Duration` at its root, where the generated
//! code is included; its program uses every construct of generated code. The package builds,
//! and clippy finds nothing in it with `-D warnings`. Slow (a real cargo build), so only with
//! `LP_SLOW_TESTS=1` or in CI.

use lp_tests::packages::{cargo, share_lock_file, slow_tests};
use lp_tests::support::{run, workspace};
use std::path::Path;
use std::time::Duration;

/// Copies the files of `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dirs");
    for entry in std::fs::read_dir(from).expect("readable dir") {
        let path = entry.expect("an entry").path();
        let target = to.join(path.file_name().expect("a name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copied");
        }
    }
}

/// Writes the package into `dir`: its sources, with a manifest and a build script.
fn write_package(dir: &Path) {
    let runtime = workspace().join("runtime");
    let compiler = workspace().join("compiler/build");
    copy_dir(
        &compiler.join("tests/packages/shadowed_prelude/src"),
        &dir.join("src"),
    );
    let manifest = format!(
        "[package]\nname = \"shadowed_prelude\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
         publish = false\n\n[dependencies]\nlp = {{ path = {runtime:?} }}\n\n\
         [build-dependencies]\nlpc-build = {{ path = {compiler:?} }}\n\n[workspace]\n"
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("written");
    std::fs::write(
        dir.join("build.rs"),
        "fn main() -> Result<(), lpc_build::BuildError> {\n    \
         lpc_build::Build::new().compile()\n}\n",
    )
    .expect("written");
}

#[test]
fn a_package_without_the_prelude_builds_clippy_clean() {
    if !slow_tests() {
        eprintln!("skipped: building a package takes minutes; set LP_SLOW_TESTS=1 to run it");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let package = dir.path().join("shadowed_prelude");
    write_package(&package);
    share_lock_file(&package);
    let out = run(
        cargo(
            &package,
            &["clippy", "--all-targets", "--", "-D", "warnings"],
        ),
        Duration::from_secs(600),
    );
    assert_eq!(out.status, Some(0), "{}", out.all());
}
