//! `lpc check` on every diagnostic case (`build/tests/cases/`): the text on stderr and the JSON
//! lines on stdout (`--format json`) say the same, and the exit status agrees.

mod common;

use common::seed_package;
use lpc_build::diag::render;
use std::path::Path;
use std::process::Command;

/// The diagnostic cases' directory.
fn cases() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("build/tests/cases")
}

/// Every case renders as JSON lines, one per diagnostic, each with its code and severity and,
/// when it has a primary label, the file and range of it.
#[test]
fn every_case_renders_as_json_lines() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("build/tests/fixtures/seed");
    let mut seen = 0;
    for entry in std::fs::read_dir(cases()).expect("the cases") {
        let case = entry.expect("a case").path();
        let package = if case.join("src/lib.rs").is_file() {
            case.clone()
        } else {
            fixture.clone()
        };
        let checked = lpc_build::driver::check_package(&package, &[case.join("main.lp")])
            .expect("case checks");
        let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
        let json = lpc::json::lines(&checked.sources, &diagnostics);
        assert_eq!(
            json.lines().count(),
            diagnostics.len(),
            "{}",
            case.display()
        );
        for (line, diagnostic) in json.lines().zip(&diagnostics) {
            let value: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
            assert_eq!(value["code"], diagnostic.code.as_str(), "{line}");
            assert!(value["severity"].is_string(), "{line}");
            let primary = diagnostic.labels.iter().any(|l| l.primary);
            assert_eq!(value["range"].is_object(), primary, "{line}");
        }
        // The human rendering of the same diagnostics is the snapshot's (lpc-build's test).
        render::human_string(&checked.sources, &diagnostics);
        seen += 1;
    }
    assert!(seen > 20, "only {seen} cases");
}

/// `lpc check` on a case: its exit status, the severities it prints as text, and those it
/// prints as JSON.
fn lpc_check(case: &str) -> (i32, Vec<String>, Vec<String>) {
    let package = seed_package();
    let cases = cases();
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
