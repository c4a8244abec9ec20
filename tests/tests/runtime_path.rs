//! `lpc_build::Build::runtime_path`: a package that depends on the runtime under another name
//! (`my_lp = { package = "lp", … }`, so no crate `lp` is in scope) builds, with
//! `#![deny(warnings)]`, and runs. Its program uses every construct whose generated code names
//! the runtime: params and values computed from them, a group, handles, a courier method that
//! returns a `Result` (`__remote_error!`), a batched method, a restart policy and a `fn` node.
//! Slow (a real `cargo build`), so only with `LP_SLOW_TESTS=1` or in CI.

use lp_tests::packages::{cargo, share_lock_file, slow_tests};
use lp_tests::support::{run, workspace};
use std::path::Path;
use std::time::Duration;

const PROGRAM: &str = r#"use crate::nodes::{Caller, Echo};

/// Callers call every echo; the last caller to finish stops the program.
program renamed {
    /// How many echoes there are, less one.
    param n: u32 = 1;

    group echo[n + 1] = courier Echo::new(id: replica) {
        batch twice { size: 4, timeout: 10ms }
        restart: on_failure(max: 1, backoff: 10ms)
    }
    node caller = worker Caller::new(echoes: echo, first: echo[0]);
    node hello = fn crate::nodes::hello(times: n * 2);
}
"#;

const NODES: &str = r#"//! Nodes that only know the runtime as `my_lp`.

use my_lp::Handle;

/// Answers calls.
#[derive(Debug)]
pub struct Echo {
    id: u64,
}

impl Echo {
    /// Echo number `id`.
    pub fn new(id: u64) -> Self {
        Echo { id }
    }

    /// Its number, or an error for zero.
    pub fn id(&self, zero_is_error: bool) -> Result<u64, String> {
        if zero_is_error && self.id == 0 {
            return Err("echo 0 refuses".to_string());
        }
        Ok(self.id)
    }

    /// Doubles a batch of numbers.
    pub fn twice(&self, xs: Vec<u64>) -> Vec<u64> {
        xs.into_iter().map(|x| 2 * x).collect()
    }
}

/// Calls every echo, then stops the program.
pub struct Caller {
    echoes: Vec<Handle<Echo>>,
    first: Handle<Echo>,
}

impl Caller {
    /// A caller of `echoes`, the first of which is `first`.
    pub fn new(echoes: Vec<Handle<Echo>>, first: Handle<Echo>) -> Self {
        Caller { echoes, first }
    }
}

impl my_lp::Run for Caller {
    async fn run(&self, ctx: my_lp::Context) -> my_lp::Result<()> {
        let mut ids = Vec::new();
        for echo in &self.echoes {
            ids.push(echo.id(false).await?);
        }
        let refused = self.first.id(true).await.expect_err("echo 0 refuses");
        let doubled = self.first.twice(21).await?;
        my_lp::tracing::info!("ids {ids:?}, doubled {doubled}, refused: {refused}");
        ctx.stop();
        Ok(())
    }
}

/// Says hello `times` times.
pub async fn hello(times: u32) -> my_lp::Result<()> {
    for _ in 0..times {
        my_lp::tracing::info!("hello");
    }
    Ok(())
}
"#;

/// Writes the package into `dir`.
fn write_package(dir: &Path) {
    let runtime = workspace().join("runtime");
    let compiler = workspace().join("compiler/build");
    let files = [
        (
            "Cargo.toml",
            format!(
                "[package]\nname = \"renamed\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [dependencies]\nmy_lp = {{ package = \"lp\", path = {runtime:?} }}\n\n\
                 [build-dependencies]\nlpc-build = {{ path = {compiler:?} }}\n\n[workspace]\n"
            ),
        ),
        (
            "build.rs",
            "fn main() -> Result<(), lpc_build::BuildError> {\n    \
             lpc_build::Build::new().runtime_path(\"::my_lp\").compile()\n}\n"
                .to_string(),
        ),
        ("src/renamed.lp", PROGRAM.to_string()),
        ("src/nodes.rs", NODES.to_string()),
        (
            "src/lib.rs",
            "#![deny(warnings)]\n\npub mod nodes;\n\nmy_lp::include_generated!();\n".to_string(),
        ),
        (
            "src/main.rs",
            "fn main() -> std::process::ExitCode {\n    renamed::renamed::main()\n}\n".to_string(),
        ),
    ];
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("dirs");
        std::fs::write(path, text).expect("written");
    }
}

#[test]
fn a_package_that_renames_the_runtime_builds_and_runs() {
    if !slow_tests() {
        eprintln!("skipped: building a package takes minutes; set LP_SLOW_TESTS=1 to run it");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let package = dir.path().join("renamed");
    write_package(&package);
    share_lock_file(&package);
    let out = run(
        cargo(&package, &["run", "--", "--n", "2"]),
        Duration::from_secs(600),
    );
    assert_eq!(out.status, Some(0), "{out:#?}");
    let all = out.all();
    for expected in [
        "[caller] ids [0, 1, 2], doubled 42, refused: ",
        "echo 0 refuses",
    ] {
        assert!(all.contains(expected), "missing `{expected}` in:\n{all}");
    }
}
