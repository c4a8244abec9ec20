//! The VS Code extension package is consistent: its manifest contributes the `lp` language with
//! the grammar and configuration files that exist, the grammar's scope name matches, the
//! language configuration has comments, brackets, auto-closing pairs and folding, and
//! `extension.js` is valid JavaScript that starts `lpc lsp`.

use lp_editors::{repo_root, require_tool, run_with_timeout};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn vscode() -> PathBuf {
    repo_root().join("editors/vscode")
}

fn json(path: &str) -> Value {
    let text = std::fs::read_to_string(vscode().join(path))
        .unwrap_or_else(|e| panic!("cannot read editors/vscode/{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("editors/vscode/{path} is not JSON: {e}"))
}

#[test]
fn the_manifest_contributes_the_language_grammar_and_configuration() {
    let manifest = json("package.json");
    let language = &manifest["contributes"]["languages"][0];
    assert_eq!(language["id"], "lp", "{language}");
    assert_eq!(
        language["extensions"],
        serde_json::json!([".lp"]),
        "{language}"
    );
    let configuration = language["configuration"].as_str().unwrap_or("");
    assert!(vscode().join(configuration).is_file(), "no {configuration}");
    let grammar = &manifest["contributes"]["grammars"][0];
    assert_eq!(grammar["language"], "lp", "{grammar}");
    let path = grammar["path"].as_str().unwrap_or("");
    assert!(vscode().join(path).is_file(), "no {path}");
    assert_eq!(
        json(path.trim_start_matches("./"))["scopeName"],
        grammar["scopeName"],
        "the grammar's scopeName differs from the manifest's"
    );
    let main = manifest["main"].as_str().unwrap_or("");
    assert!(vscode().join(main).is_file(), "no {main}");
    assert!(
        manifest["dependencies"]["vscode-languageclient"].is_string(),
        "{manifest}"
    );
}

#[test]
fn the_language_configuration_has_comments_brackets_pairs_and_folding() {
    let config = json("language-configuration.json");
    assert_eq!(config["comments"]["lineComment"], "//");
    assert_eq!(
        config["comments"]["blockComment"],
        serde_json::json!(["/*", "*/"])
    );
    for pair in [["{", "}"], ["[", "]"], ["(", ")"]] {
        assert!(
            config["brackets"]
                .as_array()
                .is_some_and(|b| b.iter().any(|p| p == &serde_json::json!(pair))),
            "no bracket pair {pair:?}"
        );
        assert!(
            config["autoClosingPairs"].as_array().is_some_and(|b| b
                .iter()
                .any(|p| p["open"] == pair[0] && p["close"] == pair[1])),
            "no auto-closing pair {pair:?}"
        );
    }
    assert!(config["folding"]["markers"]["start"].is_string());
}

#[test]
fn extension_js_is_valid_and_starts_lpc_lsp() {
    let source = std::fs::read_to_string(vscode().join("extension.js")).expect("extension.js");
    assert!(
        source.contains(r#"args: ["lsp"]"#),
        "extension.js does not start `lpc lsp`"
    );
    let Some(node) = require_tool("node", "the VS Code extension's JavaScript") else {
        return;
    };
    run_with_timeout(
        Command::new(node)
            .arg("--check")
            .arg(vscode().join("extension.js")),
        Duration::from_secs(30),
    );
}
