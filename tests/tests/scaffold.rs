//! `lpc new NAME --from FILE.lp`: a package around an existing `.lp` file. Every example's
//! `.lp` file, and one with groups, indices, lists, `fn` nodes, `process` blocks, nested
//! modules and two programs, is scaffolded and checks clean at once; what the scaffold cannot
//! make is a clear error. Slow (only with `LP_SLOW_TESTS=1` or in CI): each package builds,
//! passes its test, and `cargo run` runs it to completion.

use lp_tests::packages::{cargo, share_lock_file, slow_tests, target_dir};
use lp_tests::support::{binary, run, workspace};
use lpc::new::{create_from, Deps, NewError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every type of value a constructor can be passed, `fn` nodes (imported and by path, with and
/// without arguments), a `process` block, a module two levels deep, a type used by two
/// programs (once with an empty list), and a param without a default.
const SHOWCASE: &str = r#"use crate::nodes::{Actor, Echo, Learner};
use crate::tasks::announce;

/// Everything a scaffold must type.
program showcase {
    /// How many actors.
    param num_actors: u32 = 2;
    param rate: f64 = 0.5;
    param period: Duration = 50ms;
    param tag: String = "demo";

    group echo[2] = courier Echo::new(index: replica, peers: echo);
    node learner = courier Learner::new(
        first_echo: echo[0],
        echoes: [echo[0], echo[1]],
        rate: rate,
        weights: [0.5, 1.5],
        names: ["a", "b"],
        period: period,
    );

    process acting {
        group actor[num_actors] = worker Actor::new(
            learner: learner,
            seed: 42 + replica,
            budget: num_actors * 2,
            tag: tag,
        );
        node announcer = fn announce(learner: learner, times: 3);
    }

    node deep = worker crate::deep::inner::Deep::new(enabled: true, offset: -3, timeout: 2s);
}

/// A second program: its own binary, a required param.
program second {
    param label: String;

    node echo = courier Echo::new(index: 0, peers: []);
    node ping = fn crate::tasks::ping(label: label);
}
"#;

/// The `.lp` files of the examples.
fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace().join("examples"))
        .expect("examples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten())
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "lp"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    files
}

/// `file`'s scaffold in `dir`, checked: no diagnostic at all.
fn scaffold_checked(dir: &Path, name: &str, file: &Path) -> PathBuf {
    let package = create_from(dir, name, file, Deps::Workspace)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let lp_files = lpc_build::driver::lp_files(&package);
    assert_eq!(lp_files.len(), 1, "{lp_files:?}");
    assert!(lp_files[0].starts_with(package.join("src")), "{lp_files:?}");
    let checked = lpc_build::driver::check_package(&package, &lp_files).expect("checks");
    let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
    assert!(
        diagnostics.is_empty(),
        "{}: {}",
        file.display(),
        lpc_build::diag::render::human_string(&checked.sources, &diagnostics)
    );
    package
}

/// The showcase `.lp` file, written into `dir`.
fn showcase(dir: &Path) -> PathBuf {
    let file = dir.join("showcase.lp");
    std::fs::write(&file, SHOWCASE).expect("write");
    file
}

#[test]
fn every_example_and_the_showcase_scaffold_and_check_clean() {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in examples() {
        let stem = file.file_stem().expect("stem").to_string_lossy();
        scaffold_checked(dir.path(), &format!("from_{stem}"), &file);
    }
    let package = scaffold_checked(dir.path(), "showcase", &showcase(dir.path()));
    let read = |path: &str| std::fs::read_to_string(package.join(path)).expect(path);
    for (path, expected) in [
        ("src/showcase.lp", "program second {"),
        ("src/lib.rs", "pub mod deep;"),
        ("src/deep/mod.rs", "pub mod inner;"),
        ("src/deep/inner.rs", "pub fn new(enabled: bool, offset: i64, timeout: std::time::Duration) -> Self"),
        ("src/nodes.rs", "first_echo: lp::Handle<crate::nodes::Echo>,"),
        ("src/nodes.rs", "echoes: Vec<lp::Handle<crate::nodes::Echo>>,"),
        ("src/nodes.rs", "weights: Vec<f64>,"),
        ("src/nodes.rs", "names: Vec<String>,"),
        ("src/nodes.rs", "period: std::time::Duration,"),
        ("src/nodes.rs", "rate: f64,"),
        ("src/nodes.rs", "peers: Vec<lp::Handle<crate::nodes::Echo>>,"),
        ("src/nodes.rs", "seed: u64,"),
        ("src/nodes.rs", "budget: u32,"),
        ("src/nodes.rs", "impl lp::Run for Actor {"),
        ("src/nodes.rs", "pub fn status(&self) -> EchoStatus {"),
        ("src/nodes.rs", "#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]"),
        ("src/tasks.rs", "pub async fn announce(\n    learner: lp::Handle<crate::nodes::Learner>,\n    times: u64,\n    ctx: lp::Context,\n) -> lp::Result<()> {"),
        ("src/tasks.rs", "if matches!(ctx.label(), \"ping\") {"),
        ("src/main.rs", "showcase::showcase::main()"),
        ("src/bin/second.rs", "showcase::second::main()"),
        ("tests/showcase.rs", "make_program(Params { label: String::from(\"example\") })"),
        ("Cargo.toml", "default-run = \"showcase\""),
        ("Cargo.toml", "serde = { version = \"1\", features = [\"derive\"] }"),
        ("Dockerfile", "--bin showcase"),
    ] {
        let text = read(path);
        assert!(text.contains(expected), "{path}: no `{expected}` in\n{text}");
    }
    // The worker `deep` ends the showcase (its couriers serve until stopped).
    assert!(read("src/deep/inner.rs").contains("if matches!(ctx.label(), \"deep\") {"));
    assert!(!read("src/nodes.rs").contains("todo!"));
}

/// What the scaffold cannot make is an error that says where and what to do, and leaves
/// nothing behind.
#[test]
fn what_cannot_be_scaffolded_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "use std::time::Instant;\nprogram p { node a = worker Instant::new(); }\n",
            "bad.lp:1:5: `std::time::Instant` is not a path in this crate",
        ),
        (
            "use crate::n::A;\nprogram p {\n    node a = worker A::new(x: 1);\n    node b = worker A::new(y: 1);\n}\n",
            "bad.lp:4:21: `A::new` is called with other arguments than at bad.lp:3:21",
        ),
        (
            "use crate::n::A;\nprogram p {\n    node a = worker A::new(x: 1);\n    node b = worker A::new(x: \"one\");\n}\n",
            "`x` of `A::new` is a `String` here but a `u64` at bad.lp:3:21",
        ),
        (
            "use crate::n::A;\nprogram p { node a = worker A::new(b: nowhere); }\n",
            "`nowhere` is not a param, node or group of program `p`",
        ),
        (
            "use crate::n::{A, B};\nprogram p {\n    node a = worker A::new();\n    node b = worker B::new(a: a);\n}\n",
            "a handle to `A`, which no node serves",
        ),
        (
            "use crate::p::A;\nprogram p { node a = worker A::new(); }\n",
            "module `p` would clash with program `p`'s generated module",
        ),
        (
            "program p { node a = worker A::new() }\n",
            "`bad.lp` has syntax errors; fix them, then run `lpc new` again",
        ),
        ("use crate::n::A;\n", "it holds no program"),
    ];
    for (text, expected) in cases {
        let file = dir.path().join("bad.lp");
        std::fs::write(&file, text).expect("write");
        let error = create_from(dir.path(), "demo", &file, Deps::Workspace)
            .expect_err(text)
            .to_string();
        assert!(
            error.contains(expected),
            "{text}: `{error}` lacks `{expected}`"
        );
        assert!(!dir.path().join("demo").exists(), "{text}: nothing written");
    }
    let error = create_from(
        dir.path(),
        "demo",
        &dir.path().join("none.lp"),
        Deps::Workspace,
    )
    .expect_err("no file");
    assert!(matches!(error, NewError::Read { .. }), "{error}");
    let error = create_from(dir.path(), "demo", Path::new("Cargo.toml"), Deps::Workspace)
        .expect_err("not .lp");
    assert!(error.to_string().contains("is not a `.lp` file"), "{error}");
}

/// `lpc new --from` on the command line: a flag error exits 2 and names the flag; a file that
/// cannot be scaffolded exits 1 and says why; `--help` documents it.
#[test]
fn the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    // In the temporary directory (`support::run` would run it from the workspace root).
    let lpc = |args: &[&str]| {
        let out = std::process::Command::new(binary("lpc"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("lpc runs");
        lp_tests::support::Output {
            status: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: Duration::ZERO,
        }
    };
    let out = lpc(&["new", "demo", "--from"]);
    assert_eq!(out.status, Some(2), "{out:#?}");
    assert!(out.stderr.contains("--from <FILE.lp>"), "{out:#?}");
    let out = lpc(&["new", "demo", "--from", "missing.lp"]);
    assert_eq!(out.status, Some(1), "{out:#?}");
    assert!(out.stderr.contains("cannot read `missing.lp`"), "{out:#?}");
    assert!(!out.stderr.contains("panicked"), "{out:#?}");
    let file = showcase(dir.path());
    let out = lpc(&["new", "made", "--from", &file.to_string_lossy()]);
    assert_eq!(out.status, Some(0), "{out:#?}");
    assert!(dir.path().join("made/src/showcase.lp").is_file());
    let out = lpc(&["new", "--help"]);
    assert!(out.stdout.contains("--from <FILE.lp>"), "{out:#?}");
}

/// `cargo ARGS` for a scaffold, in a target directory of its own: its binaries are named after
/// the programs of the `.lp` it came from, so in the workspace's they would replace the
/// examples' binaries other tests run.
fn scaffold_cargo(package: &Path, args: &[&str]) -> std::process::Command {
    let mut command = cargo(package, args);
    command.env("CARGO_TARGET_DIR", target_dir().join("scaffolds"));
    command
}

/// Builds, tests and runs the scaffold of `file`.
fn builds_tests_and_runs(dir: &Path, name: &str, file: &Path) {
    let package = scaffold_checked(dir, name, file);
    share_lock_file(&package);
    let limit = Duration::from_secs(600);
    let out = run(scaffold_cargo(&package, &["test"]), limit);
    assert_eq!(out.status, Some(0), "{}: {out:#?}", file.display());
    assert!(out.all().contains("_runs_to_its_end ... ok"), "{out:#?}");
    for launch_type in ["local_mt", "local_mp"] {
        let out = run(
            scaffold_cargo(
                &package,
                &["run", "-q", "--", "--lp_launch_type", launch_type],
            ),
            limit,
        );
        assert_eq!(
            out.status,
            Some(0),
            "{} {launch_type}: {out:#?}",
            file.display()
        );
        assert!(out.all().contains(" is up"), "{out:#?}");
    }
}

#[test]
fn scaffolds_build_pass_their_tests_and_run() {
    if !slow_tests() {
        eprintln!("skipped: building packages takes minutes; set LP_SLOW_TESTS=1 to run them");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    builds_tests_and_runs(dir.path(), "showcase", &showcase(dir.path()));
    for file in examples() {
        let stem = file.file_stem().expect("stem").to_string_lossy();
        builds_tests_and_runs(dir.path(), &format!("from_{stem}"), &file);
    }
}
