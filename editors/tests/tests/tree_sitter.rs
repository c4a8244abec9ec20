//! The tree-sitter grammar (`editors/tree-sitter-lp`, its committed generated parser compiled
//! by the `tree-sitter-lp` crate): no corpus file parses with an ERROR or MISSING node, the
//! compiler's cases with a syntax error do not parse cleanly, the queries compile, and the
//! highlight query gives every classified token of the corpus its capture.

use lp_editors::{assert_no_mismatches, corpus, relative, syntax_cases, Class, Highlighter};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use streaming_iterator::StreamingIterator;
use tree_sitter::{Parser, Query, QueryCursor, Tree};

fn parse(text: &str) -> Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_lp::LANGUAGE.into())
        .expect("the lp grammar loads");
    parser
        .parse(text, None)
        .expect("a tree (no timeout is set)")
}

/// The ERROR and MISSING nodes of a tree, as `line:col kind` (1-based).
fn errors(tree: &Tree) -> Vec<String> {
    let mut found = Vec::new();
    let mut cursor = tree.walk();
    let mut visit = true;
    loop {
        let node = cursor.node();
        if visit && (node.is_error() || node.is_missing()) {
            let p = node.start_position();
            found.push(format!(
                "{}:{} {}",
                p.row + 1,
                p.column + 1,
                if node.is_missing() {
                    format!("MISSING {}", node.kind())
                } else {
                    "ERROR".to_string()
                }
            ));
        }
        if visit && cursor.goto_first_child() {
            continue;
        }
        if cursor.goto_next_sibling() {
            visit = true;
            continue;
        }
        if !cursor.goto_parent() {
            break;
        }
        visit = false;
    }
    found
}

#[test]
fn no_corpus_file_parses_with_an_error_node() {
    let mut failures = Vec::new();
    for file in corpus() {
        let text = std::fs::read_to_string(&file).expect("a readable corpus file");
        let tree = parse(&text);
        let errors = errors(&tree);
        if !errors.is_empty() {
            failures.push(format!(
                "{}: {}\n{}",
                relative(&file),
                errors.join(", "),
                tree.root_node().to_sexp()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn compiler_cases_parse_cleanly_exactly_when_lpc_finds_no_syntax_error() {
    let cases = syntax_cases();
    assert!(!cases.is_empty(), "no compiler cases found");
    let mut wrong = Vec::new();
    for case in &cases {
        let bytes = std::fs::read(&case.path).expect("a readable case");
        let Ok(text) = String::from_utf8(bytes) else {
            continue; // not text (an E0004 case): no grammar applies
        };
        let errors = errors(&parse(&text));
        match (case.syntax_error, errors.is_empty()) {
            (true, true) => wrong.push(format!(
                "{}: lpc reports a syntax error (E0001, E0003), tree-sitter parses it cleanly",
                relative(&case.path)
            )),
            (false, false) => wrong.push(format!(
                "{}: lpc finds no syntax error, tree-sitter finds {errors:?}",
                relative(&case.path)
            )),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_query_compiles() {
    let language = tree_sitter_lp::LANGUAGE.into();
    for (name, source) in [
        ("highlights.scm", tree_sitter_lp::HIGHLIGHTS_QUERY),
        ("locals.scm", tree_sitter_lp::LOCALS_QUERY),
        ("folds.scm", tree_sitter_lp::FOLDS_QUERY),
    ] {
        if let Err(e) = Query::new(&language, source) {
            panic!("queries/{name} does not compile: {e}");
        }
    }
}

/// The highlight captures of every corpus file: per file, `(start, end, capture)`.
struct Highlights {
    captures: BTreeMap<PathBuf, Vec<(usize, usize, String)>>,
}

impl Highlights {
    fn new(files: &[PathBuf]) -> Self {
        let language = tree_sitter_lp::LANGUAGE.into();
        let query = Query::new(&language, tree_sitter_lp::HIGHLIGHTS_QUERY)
            .expect("highlights.scm compiles");
        let mut captures = BTreeMap::new();
        for file in files {
            let text = std::fs::read_to_string(file).expect("a readable corpus file");
            let tree = parse(&text);
            let mut cursor = QueryCursor::new();
            let mut found = Vec::new();
            let mut matches = cursor.matches(&query, tree.root_node(), text.as_bytes());
            while let Some(m) = matches.next() {
                for capture in m.captures {
                    let name = query.capture_names()[capture.index as usize].to_string();
                    found.push((capture.node.start_byte(), capture.node.end_byte(), name));
                }
            }
            found.sort();
            found.dedup();
            captures.insert(file.clone(), found);
        }
        Highlights { captures }
    }
}

impl Highlighter for Highlights {
    fn name(&self) -> &'static str {
        "the tree-sitter highlight query"
    }

    /// The capture of the smallest captured node around `byte`; two different captures of that
    /// same node are reported as `A|B` (never accepted: the query must not depend on which
    /// pattern an editor prefers).
    fn at(&self, file: &Path, byte: usize) -> Option<String> {
        let around: Vec<&(usize, usize, String)> = self
            .captures
            .get(file)?
            .iter()
            .filter(|(start, end, _)| *start <= byte && byte < *end)
            .collect();
        let smallest = around.iter().map(|(s, e, _)| e - s).min()?;
        let mut names: Vec<&str> = around
            .iter()
            .filter(|(s, e, _)| e - s == smallest)
            .map(|(_, _, n)| n.as_str())
            .collect();
        names.dedup();
        Some(names.join("|"))
    }

    fn accepts(&self, class: Class, got: &str) -> bool {
        let expected = self.expected(class);
        match class {
            Class::FunctionName => got == "function" || got.starts_with("function."),
            _ => got == expected,
        }
    }

    fn expected(&self, class: Class) -> &'static str {
        match class {
            Class::LineComment | Class::BlockComment => "comment",
            Class::DocComment => "comment.documentation",
            Class::String => "string",
            Class::Escape => "string.escape",
            Class::Integer | Class::Duration | Class::DurationUnit => "number",
            Class::Float => "number.float",
            Class::Import => "keyword.import",
            Class::Item | Class::Batch => "keyword",
            Class::Kind => "keyword.modifier",
            Class::Boolean => "boolean",
            Class::Replica => "variable.builtin",
            Class::ProgramName => "type.definition",
            Class::ParamName => "variable.parameter",
            Class::ParamType => "type.builtin",
            Class::NodeName => "variable",
            Class::TypeName => "type",
            Class::FunctionName => "function",
        }
    }
}

#[test]
fn the_highlight_query_captures_every_classified_token_of_the_corpus() {
    let files = corpus();
    assert_no_mismatches(&Highlights::new(&files), &files);
}

/// The CLI that generated the committed parser (editors/README.md says so too).
const GENERATED_WITH: &str = "tree-sitter 0.27.1";

/// The ABI the committed parser is generated for: 14, which older editors (Neovim before 0.11,
/// Helix, Zed) load too; the `tree-sitter` crate loads 13 to 15.
const GENERATED_ABI: &str = "14";

/// Where the tree-sitter CLI is installed (it is optional: CI tests the committed parser), the
/// committed generated files must be what `tree-sitter generate` makes of `grammar.js` today.
#[test]
fn the_committed_parser_is_generated_from_grammar_js() {
    let cli = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("tree-sitter"))
            .find(|p| p.is_file())
    });
    let Some(cli) = cli else {
        eprintln!(
            "not checked: no tree-sitter CLI on PATH (optional; `cargo install --locked \
             tree-sitter-cli` to regenerate, see editors/README.md)"
        );
        return;
    };
    // Another CLI version generates other (equally valid) C: compare only with the one used.
    let version = std::process::Command::new(&cli).arg("--version").output();
    let version = version.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if version.as_deref().ok() != Some(GENERATED_WITH) {
        eprintln!(
            "not checked: {version:?} is not the CLI that generated the parser ({GENERATED_WITH})"
        );
        return;
    }
    let grammar = lp_editors::repo_root().join("editors/tree-sitter-lp");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    for file in ["grammar.js", "tree-sitter.json"] {
        std::fs::copy(grammar.join(file), scratch.path().join(file)).expect("copy the grammar");
    }
    lp_editors::run_with_timeout(
        std::process::Command::new(cli)
            .current_dir(scratch.path())
            .args(["generate", "--abi", GENERATED_ABI]),
        std::time::Duration::from_secs(120),
    );
    for file in ["src/parser.c", "src/grammar.json", "src/node-types.json"] {
        let committed = std::fs::read_to_string(grammar.join(file)).unwrap_or_default();
        let fresh = std::fs::read_to_string(scratch.path().join(file)).unwrap_or_default();
        assert!(
            committed == fresh,
            "editors/tree-sitter-lp/{file} is stale: run `tree-sitter generate --abi {GENERATED_ABI}` there and commit it"
        );
    }
}
