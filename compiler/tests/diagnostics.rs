//! Golden tests of diagnostics: each case is `tests/cases/<name>/main.lp`, checked against the
//! case's own `src/lib.rs` when it has one, else against `tests/fixtures/seed`. The snapshot
//! shows the source, then the rendered diagnostics, colour-free. See `tests/README.md`.

mod common;

use common::seed_package;
use lpc::diag::render;
use std::path::Path;
use std::process::Command;

#[test]
fn diagnostics() {
    insta::glob!("cases/*/main.lp", |path| {
        let case = path.parent().expect("a case directory");
        let package = if case.join("src/lib.rs").is_file() {
            case.to_path_buf()
        } else {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed")
        };
        let source = shown(&std::fs::read(path).expect("readable case"));
        let relative = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .expect("case inside the crate")
            .to_path_buf();
        let checked = lpc::driver::check_package(&package, &[relative]).expect("case checks");
        let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
        let rendered = render::human_string(&checked.sources, &diagnostics);
        let json = render::json_lines(&checked.sources, &diagnostics);
        for line in json.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
            assert!(
                value["code"].is_string(),
                "json diagnostic without code: {line}"
            );
        }
        insta::assert_snapshot!(format!("{source}\n----- diagnostics -----\n{rendered}"));
    });
}

/// A case's text for its snapshot: bytes that are not UTF-8 (E0004) decoded as `lpc check`
/// decodes them, control characters (E0003) escaped so that the snapshot stays text.
fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| match c {
            '\n' | '\t' | '\r' => c.to_string(),
            _ if c.is_control() => c.escape_debug().to_string(),
            _ => c.to_string(),
        })
        .collect()
}

/// `lpc check` on a case: its exit status, the severities it prints as text, and those it
/// prints as JSON.
fn lpc_check(case: &str) -> (i32, Vec<String>, Vec<String>) {
    let package = seed_package();
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let file = package.path().join("main.lp");
    std::fs::copy(cases.join(case).join("main.lp"), &file).expect("copy the case");
    let run = |format: &str| {
        Command::new(env!("CARGO_BIN_EXE_lpc"))
            .args(["check", "--format", format])
            .arg(&file)
            .output()
            .expect("lpc check runs")
    };
    let text = run("human");
    let severities_in_text = String::from_utf8_lossy(&text.stderr)
        .lines()
        .filter_map(|l| l.split_once('[').map(|(severity, _)| severity.to_string()))
        .filter(|severity| matches!(severity.as_str(), "error" | "warning"))
        .collect();
    let json = run("json");
    assert_eq!(
        json.status.code(),
        text.status.code(),
        "{case}: exit status"
    );
    let severities_in_json = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|l| {
            let value: serde_json::Value = serde_json::from_str(l).expect("a JSON diagnostic");
            value["severity"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    let status = text.status.code().expect("an exit status");
    (status, severities_in_text, severities_in_json)
}

/// Warnings are reported only when the whole package checked without errors: the text, the
/// JSON and the exit status say the same.
#[test]
fn warnings_only_without_errors() {
    let (status, text, json) = lpc_check("W0001_not_after_an_error");
    assert_eq!((status, &text[..]), (1, &["error".to_string()][..]));
    assert_eq!(json, text);

    let (status, text, json) = lpc_check("W0001_unused_param");
    assert_eq!((status, &text[..]), (0, &["warning".to_string()][..]));
    assert_eq!(json, text);
}
