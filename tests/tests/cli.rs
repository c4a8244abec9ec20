//! `lpc check` on broken input, as a user would run it: diagnostics with the right codes,
//! exit status 1, never a panic.

use lp_tests::support::{binary, run, workspace, Output};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const SEED: &str = "examples/consumer_producers/consumer_producers.lp";

/// A copy of the seed package's sources in a temporary package, with `edit` applied to the
/// `.lp` text; returns the directory and the `.lp` path.
fn seed_variant(edit: impl FnOnce(&str) -> String) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("src dir");
    let example = workspace().join("examples/consumer_producers");
    std::fs::copy(example.join("src/nodes.rs"), src.join("nodes.rs")).expect("copy nodes.rs");
    std::fs::write(src.join("lib.rs"), "pub mod nodes;\n").expect("lib.rs");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"variant\"\n",
    )
    .expect("manifest");
    let text = std::fs::read_to_string(workspace().join(SEED)).expect("seed program");
    let lp = dir.path().join("variant.lp");
    std::fs::write(&lp, edit(&text)).expect("variant .lp");
    (dir, lp)
}

fn check(path: &Path) -> Output {
    let mut command = Command::new(binary("lpc"));
    command.arg("check").arg(path);
    run(command, Duration::from_secs(60))
}

fn assert_fails_with(out: &Output, code: &str) {
    assert_eq!(out.status, Some(1), "{out:#?}");
    assert!(
        out.stderr.contains(&format!("error[{code}]")),
        "expected {code}: {out:#?}"
    );
    assert!(!out.stderr.contains("panicked"), "{out:#?}");
}

#[test]
fn typo_in_group_name() {
    let (_dir, lp) = seed_variant(|t| t.replace("producers: producer)", "producers: prodcer)"));
    let out = check(&lp);
    assert_fails_with(&out, "E0100");
    assert!(out.stderr.contains("did you mean `producer`?"), "{out:#?}");
}

#[test]
fn wrong_argument_name() {
    let (_dir, lp) = seed_variant(|t| t.replace("producers: producer)", "producer: producer)"));
    let out = check(&lp);
    assert_fails_with(&out, "E0203");
    assert!(
        out.stderr.contains("src/nodes.rs"),
        "the Rust parameter is labelled too: {out:#?}"
    );
}

#[test]
fn string_for_u32_param() {
    let (_dir, lp) = seed_variant(|t| t.replace("u32 = 2", "u32 = \"two\""));
    assert_fails_with(&check(&lp), "E0305");
}

#[test]
fn mut_self_courier_method() {
    let (dir, lp) = seed_variant(str::to_string);
    let nodes = dir.path().join("src/nodes.rs");
    let text = std::fs::read_to_string(&nodes).expect("nodes.rs");
    std::fs::write(
        &nodes,
        text.replace("pub fn work(&self", "pub fn work(&mut self"),
    )
    .expect("write");
    let out = check(&lp);
    assert_fails_with(&out, "E0300");
    assert!(out.stderr.contains("&mut self"), "{out:#?}");
}

#[test]
fn json_format_has_one_object_per_diagnostic() {
    let (_dir, lp) =
        seed_variant(|t| t.replace("producers: producer)", "producers: prodcer, extra: 1)"));
    let mut command = Command::new(binary("lpc"));
    command.args(["check", "--format", "json"]).arg(&lp);
    let out = run(command, Duration::from_secs(60));
    assert_eq!(out.status, Some(1), "{out:#?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{out:#?}");
    assert!(lines[0].contains("\"code\":\"E0100\""), "{out:#?}");
    assert!(lines[0].contains("\"start_line\":10"), "{out:#?}");
    assert!(lines[1].contains("\"code\":\"E0203\""), "{out:#?}");
}

#[test]
fn hostile_inputs_give_diagnostics_not_panics() {
    let deep = format!(
        "program p {{ node n = courier A::new(x: {}1{}); }}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let long_ident = format!(
        "program p {{ node {} = courier Missing::new(); }}",
        "a".repeat(1 << 20)
    );
    let many_lines = "// comment\n".repeat(100_000) + "program p { param x: u32 = 1 }";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("binary", (0..=255u8).cycle().take(4096).collect()),
        ("nul", b"program p {\0}".to_vec()),
        ("deep", deep.into_bytes()),
        ("long identifier", long_ident.into_bytes()),
        ("100k lines", many_lines.into_bytes()),
        (
            "huge integer",
            b"program p { param x: u64 = 999999999999999999999999999999999999999999; }".to_vec(),
        ),
    ];
    for (name, bytes) in cases {
        let (_dir, lp) = seed_variant(|_| String::new());
        std::fs::write(&lp, bytes).expect("write case");
        let out = check(&lp);
        assert_eq!(out.status, Some(1), "{name}: {out:#?}");
        assert!(out.stderr.contains("error"), "{name}: {out:#?}");
        assert!(!out.stderr.contains("panicked"), "{name}: {out:#?}");
    }
}

#[test]
fn fmt_check_then_format() {
    let (_dir, lp) = seed_variant(|t| {
        t.replace(
            "    param num_producers: u32 = 2;",
            "param   num_producers:u32=2;",
        )
    });
    let lpc = |args: &[&str]| {
        let mut command = Command::new(binary("lpc"));
        command.args(args).arg(&lp);
        run(command, Duration::from_secs(60))
    };
    let out = lpc(&["fmt", "--check"]);
    assert_eq!(out.status, Some(1), "{out:#?}");
    assert!(out.stderr.contains("is not formatted"), "{out:#?}");
    assert_eq!(lpc(&["fmt"]).status, Some(0));
    let formatted = std::fs::read_to_string(&lp).expect("formatted file");
    assert!(
        formatted.contains("    param num_producers: u32 = 2;\n"),
        "{formatted}"
    );
    assert_eq!(lpc(&["fmt", "--check"]).status, Some(0));
}
