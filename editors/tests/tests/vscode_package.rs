//! The VS Code extension package is consistent: its manifest contributes the `lp` language with
//! the grammar and configuration files that exist, the grammar's scope name matches, the
//! language configuration has comments, brackets, auto-closing pairs and folding, and
//! `extension.js` is valid JavaScript that starts `lpc lsp` (from `lp.server.path`, `~` expanded,
//! with a notification when it is missing, and no file watcher of its own), and `vsce package`
//! packages the extension, its license and its language client without a warning.

use lp_editors::{repo_root, require_tool, run_with_timeout};
use serde_json::Value;
use std::path::{Path, PathBuf};
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
    // `main` is extension.js bundled with its language client (`npm run bundle`), which
    // `vsce package` (`vscode:prepublish`) and `npm install` (`prepare`) run.
    assert_eq!(manifest["main"], "./dist/extension.js", "{manifest}");
    let bundle = manifest["scripts"]["bundle"].as_str().unwrap_or("");
    assert!(
        bundle.starts_with("esbuild extension.js --bundle")
            && bundle.contains("--external:vscode")
            && bundle.ends_with("--outfile=dist/extension.js"),
        "{manifest}"
    );
    for script in ["vscode:prepublish", "prepare"] {
        assert_eq!(manifest["scripts"][script], "npm run bundle", "{manifest}");
    }
    assert!(
        manifest["devDependencies"]["esbuild"].is_string(),
        "{manifest}"
    );
    assert!(
        manifest["repository"]["url"].is_string() && vscode().join("LICENSE").is_file(),
        "vsce needs a repository and a LICENSE"
    );
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

/// Runs `activate` of `extension.js` in node with fake `vscode` modules (`vscode_activate.js`),
/// `lp.server.path` set to `setting` and HOME to `home`; returns what it did.
fn activate(node: &Path, setting: &str, home: &Path) -> Value {
    let output = run_with_timeout(
        Command::new(node)
            .current_dir(repo_root().join("editors/tests"))
            .env("HOME", home)
            .env("PATH", home.join("empty"))
            .arg("vscode_activate.js")
            .arg(vscode().join("extension.js"))
            .arg(setting),
        Duration::from_secs(30),
    );
    serde_json::from_slice(&output.stdout).expect("vscode_activate.js prints JSON")
}

#[test]
fn extension_js_expands_tilde_warns_without_lpc_and_leaves_watching_to_the_server() {
    let Some(node) = require_tool("node", "the VS Code extension's activation") else {
        return;
    };
    let home = tempfile::tempdir().expect("a temporary directory");
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).expect("a bin directory");
    let lpc = bin.join("lpc");
    std::fs::write(&lpc, "#!/bin/sh\n").expect("a fake lpc");
    std::fs::set_permissions(&lpc, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("an executable fake lpc");

    // `~/bin/lpc` is the home directory's: the client starts it, and watches no files itself
    // (`lpc lsp` registers its watcher through the client; two would report every change twice).
    let seen = activate(&node, "~/bin/lpc", home.path());
    let clients = seen["clients"].as_array().cloned().unwrap_or_default();
    assert_eq!(clients.len(), 1, "{seen}");
    assert_eq!(
        clients[0]["command"],
        lpc.to_string_lossy().as_ref(),
        "{seen}"
    );
    assert_eq!(clients[0]["args"], serde_json::json!(["lsp"]), "{seen}");
    assert!(
        clients[0]["options"]["synchronize"]["fileEvents"].is_null(),
        "{seen}"
    );
    assert_eq!(
        seen["watchers"], 0,
        "extension.js creates a file watcher: {seen}"
    );
    assert_eq!(seen["warnings"], serde_json::json!([]), "{seen}");

    // No `lpc` on PATH, or not at the configured path: a notification says so, no client.
    for setting in ["lpc", "~/missing/lpc"] {
        let seen = activate(&node, setting, home.path());
        assert_eq!(seen["clients"], serde_json::json!([]), "{setting}: {seen}");
        let message = seen["warnings"][0]["message"].as_str().unwrap_or("");
        assert!(
            message.contains("`lpc` was not found") && message.contains("lp.server.path"),
            "{setting}: no clear notification: {seen}"
        );
        assert_eq!(
            seen["warnings"][0]["items"],
            serde_json::json!(["Open Settings"])
        );
    }
}

/// `vsce` (editors/tests/node_modules), with the extension's own dependencies installed
/// (editors/vscode/node_modules: the language client and esbuild), or `None` when missing
/// outside CI.
fn vsce() -> Option<PathBuf> {
    require_tool(
        "npm",
        "`vsce package` (it runs the bundle script and lists dependencies)",
    )?;
    let vsce = repo_root().join("editors/tests/node_modules/.bin/vsce");
    let installed = ["vscode-languageclient", "esbuild"].iter().all(|p| {
        vscode()
            .join("node_modules")
            .join(p)
            .join("package.json")
            .is_file()
    });
    if vsce.is_file() && installed {
        return Some(vsce);
    }
    let message = "`vsce package` cannot be tested: run scripts/setup (`npm ci` in editors/tests \
                   for @vscode/vsce and in editors/vscode for the language client and esbuild)";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{message} (CI=true: a failure)"
    );
    eprintln!("SKIPPED: {message}");
    None
}

#[test]
fn vsce_packages_the_extension_without_warnings() {
    let Some(node) = require_tool("node", "`vsce package`") else {
        return;
    };
    let Some(vsce) = vsce() else {
        return;
    };
    let out = tempfile::tempdir().expect("a temporary directory");
    let vsix = out.path().join("lp-lang.vsix");
    // stdin is /dev/null: a question (no LICENSE, no repository) fails instead of waiting.
    // `vscode:prepublish` bundles extension.js into dist/ (ignored by git).
    let output = run_with_timeout(
        Command::new(&vsce)
            .current_dir(vscode())
            .arg("package")
            .arg("--out")
            .arg(&vsix),
        Duration::from_secs(120),
    );
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !printed.contains("WARNING") && !printed.contains("ERROR"),
        "vsce package warns:\n{printed}"
    );
    assert!(vsix.is_file(), "no {}:\n{printed}", vsix.display());
    run_with_timeout(
        Command::new(node)
            .arg("--check")
            .arg(vscode().join("dist/extension.js")),
        Duration::from_secs(30),
    );

    // What the package holds: exactly the extension's files, its license and the bundle.
    let listed = run_with_timeout(
        Command::new(&vsce).current_dir(vscode()).arg("ls"),
        Duration::from_secs(120),
    );
    let mut files: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "LICENSE",
            "README.md",
            "dist/extension.js",
            "language-configuration.json",
            "package.json",
            "syntaxes/lp.tmLanguage.json",
        ],
        "vsce ls"
    );
}
