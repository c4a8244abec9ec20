//! The shared corpus: every `.lp` file of the repository (`examples/`, `tests/`, `bench/`, …)
//! but the compiler's test cases, of which only the valid ones; this crate's `corpus/` holds what
//! the others lack (nested comments, escapes, blocks with `batch` and `restart`).

use std::path::{Path, PathBuf};

/// The repository root (this crate is `editors/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Every `.lp` file below `dir`, outside build output, hidden directories and `skip`.
fn lp_files(dir: &Path, skip: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            let output = name == "target" || name.starts_with("target-") || name == "node_modules";
            if !name.starts_with('.') && !output && path != skip {
                lp_files(&path, skip, out);
            }
        } else if path.extension().is_some_and(|e| e == "lp") {
            out.push(path);
        }
    }
}

/// One case of `compiler/build/tests/cases`: its `main.lp` and what its snapshot says.
#[derive(Debug, Clone)]
pub struct Case {
    pub path: PathBuf,
    /// The snapshot reports no error (warnings allowed): `lpc check` accepts the case.
    pub valid: bool,
    /// The snapshot reports text outside the grammar: a syntax error (`E0001`) or a control
    /// character (`E0003`).
    pub syntax_error: bool,
}

/// Every case of `compiler/build/tests/cases`, classified by its snapshot the way
/// `compiler/build/tests/diagnostics.rs` renders it (`error[CODE]` lines).
pub fn syntax_cases() -> Vec<Case> {
    let root = repo_root().join("compiler/build/tests");
    let Ok(entries) = std::fs::read_dir(root.join("cases")) else {
        return Vec::new();
    };
    let mut cases: Vec<Case> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path().join("main.lp");
            let snapshot = root
                .join("snapshots")
                .join(format!("diagnostics__diagnostics@{name}__main.lp.snap"));
            let snapshot = std::fs::read_to_string(snapshot).ok()?;
            // The marker also appears in the snapshot's header (its `expression:`): take the last part.
            let diagnostics = snapshot.rsplit("----- diagnostics -----").next()?;
            path.is_file().then(|| Case {
                path,
                valid: !diagnostics.contains("error["),
                syntax_error: ["error[E0001]", "error[E0003]"]
                    .iter()
                    .any(|code| diagnostics.contains(code)),
            })
        })
        .collect();
    cases.sort_by(|a, b| a.path.cmp(&b.path));
    cases
}

/// The corpus every editor grammar is tested on, sorted.
pub fn corpus() -> Vec<PathBuf> {
    let root = repo_root();
    let mut files = Vec::new();
    lp_files(&root, &root.join("compiler/build/tests/cases"), &mut files);
    files.extend(
        syntax_cases()
            .into_iter()
            .filter(|c| c.valid)
            .map(|c| c.path),
    );
    files.sort();
    files.dedup();
    files
}

/// The keywords of `grammar/lp.pest`: the words of the `keyword` rule and of every `kw_*` rule.
pub fn pest_keywords(pest: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rules = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in pest.lines() {
        let code = line.split("//").next().unwrap_or("");
        if let Some((name, rest)) = code.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                rules.extend(current.take());
                current = Some((name.to_string(), rest.to_string()));
                continue;
            }
        }
        if let Some((_, body)) = current.as_mut() {
            body.push('\n');
            body.push_str(code);
        }
    }
    rules.extend(current);
    for (name, body) in rules {
        if name != "keyword" && !name.starts_with("kw_") {
            continue;
        }
        for literal in body.split('"').skip(1).step_by(2) {
            if literal.chars().all(|c| c.is_alphanumeric() || c == '_') && !literal.is_empty() {
                words.push(literal.to_string());
            }
        }
    }
    words.sort();
    words.dedup();
    words
}
