//! The corpus tests of `test/corpus/*.txt`, as `tree-sitter test` runs them, but through the
//! `tree-sitter` crate and the committed generated parser (CI has no tree-sitter CLI): each
//! case's input must parse to exactly its expected tree.

use std::path::Path;

/// One corpus case: its name, input and expected S-expression.
struct Case {
    file: String,
    name: String,
    input: String,
    expected: String,
}

fn is_rule(line: &str, c: char) -> bool {
    line.len() >= 3 && line.chars().all(|x| x == c)
}

/// Parses the tree-sitter corpus format: `===` header `===`, input, `---`, expected tree.
fn cases(file: &str, text: &str) -> Vec<Case> {
    let lines: Vec<&str> = text.lines().collect();
    let mut cases = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_rule(lines[i], '=') {
            i += 1;
            continue;
        }
        let name = lines.get(i + 1).copied().unwrap_or("").trim().to_string();
        i += 3; // rule, name, rule
        let start = i;
        while i < lines.len() && !is_rule(lines[i], '-') {
            i += 1;
        }
        let input = lines[start..i.min(lines.len())].join("\n");
        i += 1;
        let start = i;
        while i < lines.len() && !is_rule(lines[i], '=') {
            i += 1;
        }
        let expected = lines[start.min(lines.len())..i].join("\n");
        cases.push(Case {
            file: file.to_string(),
            name,
            input: input.trim().to_string() + "\n",
            expected,
        });
    }
    cases
}

/// An S-expression with single spaces and, unless `keep_fields`, no `field:` names.
fn normalize(sexp: &str, keep_fields: bool) -> String {
    let spaced = sexp.replace('(', " (").replace(')', ") ");
    spaced
        .split_whitespace()
        .filter(|word| keep_fields || !word.ends_with(':'))
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(" )", ")")
}

#[test]
fn every_corpus_case_parses_to_its_expected_tree() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test/corpus");
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("test/corpus exists") {
        let path = entry.expect("a directory entry").path();
        let text = std::fs::read_to_string(&path).expect("a readable corpus file");
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        all.extend(cases(&name.unwrap_or_default(), &text));
    }
    assert!(all.len() >= 10, "only {} corpus cases found", all.len());
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_lp::LANGUAGE.into())
        .expect("the lp grammar loads");
    let mut failures = Vec::new();
    for case in &all {
        let tree = parser.parse(&case.input, None).expect("a tree");
        let keep_fields = case.expected.contains(": (");
        let got = normalize(&tree.root_node().to_sexp(), keep_fields);
        let expected = normalize(&case.expected, keep_fields);
        if got != expected {
            failures.push(format!(
                "{} / {}:\n  expected {expected}\n       got {got}",
                case.file, case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
