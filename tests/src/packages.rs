//! Building packages made by `lpc new` with cargo, as a user would, but fast: into this
//! workspace's target directory, with its dev profile and its lock file, so the dependencies
//! already built there are reused and nothing is resolved anew.

use crate::support::workspace;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether the slow end-to-end tests (each builds a package) should run: with
/// `LP_SLOW_TESTS=1`, and always in CI (`CI=true`).
pub fn slow_tests() -> bool {
    std::env::var("LP_SLOW_TESTS").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The target directory this test was built in (`…/target/debug/deps/<test>-…`), so that building
/// a new package reuses the dependencies already built there.
pub fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .filter(|dir| dir.join("debug").is_dir())
        .unwrap_or_else(|| workspace().join("target"))
}

/// Copies the workspace's lock file into `package`: it pins the versions already built; cargo
/// drops what the package does not use, and resolves nothing anew.
pub fn share_lock_file(package: &Path) {
    std::fs::copy(workspace().join("Cargo.lock"), package.join("Cargo.lock")).expect("lock file");
}

/// `cargo ARGS --manifest-path PACKAGE/Cargo.toml`, building into [`target_dir`] with this
/// workspace's dev profile (so the artifacts built for the workspace are reused).
pub fn cargo(package: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .arg(args[0])
        .arg("--manifest-path")
        .arg(package.join("Cargo.toml"))
        .args([
            "--config",
            "profile.dev.debug=\"line-tables-only\"",
            "--config",
            "profile.dev.package.\"*\".debug=false",
        ])
        .args(&args[1..])
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_TERM_COLOR", "never");
    command
}
