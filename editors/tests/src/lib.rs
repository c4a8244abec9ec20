//! Shared pieces of the editor tests (`tests/*.rs`): the corpus of `.lp` files, a reference
//! classification of their tokens, what each editor must call each class, and how to find (or
//! require, under `CI=true`) the external tools.
//!
//! The classification is deliberately small and independent of every editor grammar: comments
//! (three kinds), strings and their escapes, numbers, durations and their units, the keywords of
//! `grammar/lp.pest`, and the names whose role is plain from the tokens around them (the name
//! after `program`/`param`/`node`/`group`, a param's type, a type before `::`, a function or
//! constructor before `(`). Each editor test checks every byte of every such token in the corpus.

pub mod classify;
mod corpus;
mod tools;

pub use classify::{classify, Class, Token};
pub use corpus::{corpus, pest_keywords, repo_root, syntax_cases, Case};
pub use tools::{require_tool, run_with_timeout};

use std::fmt::Write as _;
use std::path::Path;

/// What one editor reports at a byte: a TextMate scope list, a Vim group, a tree-sitter capture.
pub trait Highlighter {
    /// The editor's name, for messages.
    fn name(&self) -> &'static str;
    /// What the editor reports at `byte` of `file` (`None`: nothing, or out of range).
    fn at(&self, file: &Path, byte: usize) -> Option<String>;
    /// Whether `got` is what this editor should report for `class`.
    fn accepts(&self, class: Class, got: &str) -> bool;
    /// What this editor should report for `class`, for messages.
    fn expected(&self, class: Class) -> &'static str;
}

/// Checks every byte of every classified token of every corpus file against `editor`; returns
/// one line per mismatch (`file:line:col` `token`: expected …, got …), at most one per token.
pub fn mismatches(editor: &dyn Highlighter, files: &[std::path::PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for token in classify(&text) {
            for byte in token.range.clone() {
                if text.as_bytes()[byte].is_ascii_whitespace() && byte != token.range.start {
                    continue; // a line break inside a block comment belongs to no line
                }
                let got = editor.at(file, byte);
                if got
                    .as_deref()
                    .is_some_and(|g| editor.accepts(token.class, g))
                {
                    continue;
                }
                let (line, col) = line_col(&text, byte);
                let mut message = String::new();
                let _ = write!(
                    message,
                    "{}:{line}:{col} `{}` ({:?}): {} expected {}, got {}",
                    relative(file),
                    text[token.range.clone()].lines().next().unwrap_or(""),
                    token.class,
                    editor.name(),
                    editor.expected(token.class),
                    got.as_deref().unwrap_or("nothing"),
                );
                out.push(message);
                break;
            }
        }
    }
    out
}

/// Panics with the first mismatches, if any, and says how many tokens were checked.
pub fn assert_no_mismatches(editor: &dyn Highlighter, files: &[std::path::PathBuf]) {
    let found = mismatches(editor, files);
    let tokens: usize = files
        .iter()
        .map(|f| classify(&std::fs::read_to_string(f).unwrap_or_default()).len())
        .sum();
    assert!(
        found.is_empty(),
        "{} of {tokens} classified tokens in {} corpus files are highlighted wrongly by {}:\n{}{}",
        found.len(),
        files.len(),
        editor.name(),
        found
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        if found.len() > 40 { "\n…" } else { "" },
    );
    eprintln!(
        "{}: {tokens} classified tokens in {} corpus files, all highlighted as expected",
        editor.name(),
        files.len()
    );
}

/// Where a chosen token is in `text`: the byte range of `needle` on (1-based) `line`, or with `|`
/// marks in `needle` (`"(|node|:"`), of the part between them; `None` when the line lacks it.
pub fn find_on_line(text: &str, line: usize, needle: &str) -> Option<std::ops::Range<usize>> {
    let start = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum::<usize>();
    let line_text = text[start..].lines().next()?;
    let (before, target) = match needle.split('|').collect::<Vec<_>>()[..] {
        [before, target, _] => (before, target),
        _ => ("", needle),
    };
    let column = line_text.find(&needle.replace('|', ""))? + before.len();
    Some(start + column..start + column + target.len())
}

/// 1-based line and byte column of `byte` in `text`.
pub fn line_col(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = byte - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// A path relative to the repository root, for messages.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}
