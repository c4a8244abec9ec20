//! What a user's package compiles: the seed example depends on the runtime `lp` and, for its
//! build script, on `lpc-build`, like every package `lpc new` makes. That build stays small —
//! at most 90 crates, none of the `lpc` command's (clap, the language server, the graph
//! layout), one major version of syn — as `cargo tree` says from the lock file. (It was 79
//! before cluster traffic was encrypted: snow, ring and ring's C build brought 9.)

use lp_tests::support::workspace;
use std::collections::BTreeSet;
use std::process::Command;

/// The crates (`name vX.Y.Z`) `cargo tree` lists for `package` along `edges`.
fn crates(package: &str, edges: &str) -> BTreeSet<String> {
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "tree", "--locked", "--prefix", "none", "-e", edges, "-p", package,
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some(format!("{} {}", words.next()?, words.next()?))
        })
        .collect()
}

fn names(crates: &BTreeSet<String>) -> BTreeSet<&str> {
    crates
        .iter()
        .filter_map(|c| c.split_whitespace().next())
        .collect()
}

#[test]
fn a_user_build_is_at_most_90_crates() {
    let all = crates("consumer_producers", "normal,build");
    assert!(
        all.len() <= 90,
        "{} crates in the seed example's build: {all:#?}",
        all.len()
    );
}

#[test]
fn a_build_script_compiles_none_of_the_commands_dependencies() {
    let build = crates("lpc-build", "normal");
    let build = names(&build);
    for command_only in [
        "lpc",
        "clap",
        "lsp-server",
        "lsp-types",
        "layout-rs",
        "serde_json",
    ] {
        assert!(
            !build.contains(command_only),
            "lpc-build depends on `{command_only}`: {build:#?}"
        );
    }
    let all = crates("consumer_producers", "normal,build");
    assert!(
        !names(&all).contains("lpc"),
        "the seed example's build holds the lpc command"
    );
}

#[test]
fn a_user_build_has_one_major_version_of_syn() {
    let all = crates("consumer_producers", "normal,build");
    let majors: BTreeSet<&str> = all
        .iter()
        .filter_map(|c| c.strip_prefix("syn v"))
        .filter_map(|version| version.split('.').next())
        .collect();
    assert_eq!(majors.len(), 1, "syn versions: {majors:?}");
}
