//! Keeps the editor grammars honest: every keyword of `grammar/lp.pest` appears in each of them,
//! and the test crate's own keyword list is exactly the pest grammar's.

use lp_editors::{pest_keywords, repo_root};

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|e| panic!("cannot read `{path}`: {e}"))
}

fn pest() -> Vec<String> {
    let keywords = pest_keywords(&read("grammar/lp.pest"));
    assert!(
        keywords.len() >= 10 && keywords.iter().any(|k| k == "program"),
        "could not read the keywords of grammar/lp.pest (got {keywords:?})"
    );
    keywords
}

/// Whether `word` occurs in `text` as a whole word (not inside a longer identifier).
fn has_word(text: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].ends_with(is_ident) && !text[i + word.len()..].starts_with(is_ident)
    })
}

fn missing(keywords: &[String], present: impl Fn(&str) -> bool) -> Vec<String> {
    keywords.iter().filter(|k| !present(k)).cloned().collect()
}

#[test]
fn the_reference_list_is_the_pest_grammars() {
    let mut ours: Vec<String> = lp_editors::classify::KEYWORDS
        .iter()
        .map(|k| k.to_string())
        .collect();
    ours.sort();
    assert_eq!(
        ours,
        pest(),
        "editors/tests/src/classify.rs KEYWORDS differs from grammar/lp.pest: update it, then \
         every editor grammar"
    );
}

#[test]
fn every_keyword_is_in_the_textmate_grammar() {
    let grammar: serde_json::Value =
        serde_json::from_str(&read("editors/vscode/syntaxes/lp.tmLanguage.json"))
            .expect("the TextMate grammar is JSON");
    // Only the `match`/`begin` regexes count: a keyword named in a description does not.
    let mut regexes = String::new();
    collect_regexes(&grammar, &mut regexes);
    let missing = missing(&pest(), |k| has_word(&regexes, k));
    assert!(missing.is_empty(), "not in any TextMate regex: {missing:?}");
}

fn collect_regexes(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                if let ("match" | "begin", serde_json::Value::String(s)) = (key.as_str(), value) {
                    out.push_str(s);
                    out.push('\n');
                } else {
                    collect_regexes(value, out);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_regexes(v, out)),
        _ => {}
    }
}

#[test]
fn every_keyword_is_a_vim_syntax_keyword() {
    // Keywords are `syn match`es (so that `node:` can be an argument name), `use` a region's start.
    let syntax = read("editors/vim/syntax/lp.vim");
    let keyword_lines: String = syntax
        .lines()
        .map(str::trim_start)
        .filter(|l| {
            ["syn keyword", "syn match", "syn region"]
                .iter()
                .any(|s| l.starts_with(s))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let missing = missing(&pest(), |k| has_word(&keyword_lines, k));
    assert!(
        missing.is_empty(),
        "no `syn keyword`/`match`/`region` line has {missing:?}"
    );
}

#[test]
fn every_keyword_is_a_token_of_the_tree_sitter_grammar_and_highlighted() {
    let source = read("editors/tree-sitter-lp/grammar.js");
    let missing_source = missing(&pest(), |k| source.contains(&format!("'{k}'")));
    assert!(
        missing_source.is_empty(),
        "grammar.js has no '…' token for {missing_source:?}"
    );
    // The generated grammar, so a keyword added to grammar.js but not regenerated is caught.
    let generated: serde_json::Value =
        serde_json::from_str(&read("editors/tree-sitter-lp/src/grammar.json"))
            .expect("src/grammar.json is JSON");
    let mut strings = Vec::new();
    collect_strings(&generated, &mut strings);
    let missing_generated = missing(&pest(), |k| strings.iter().any(|s| s == k));
    assert!(
        missing_generated.is_empty(),
        "src/grammar.json lacks {missing_generated:?}: run `tree-sitter generate` in \
         editors/tree-sitter-lp (see editors/README.md)"
    );
    let highlights = read("editors/tree-sitter-lp/queries/highlights.scm");
    // `true`/`false` and `replica`/`replicas` are highlighted as their nodes.
    let missing_highlight = missing(&pest(), |k| {
        highlights.contains(&format!("\"{k}\""))
            || match k {
                "true" | "false" => highlights.contains("(boolean)"),
                "replica" => highlights.contains("(replica)"),
                "replicas" => highlights.contains("(replicas)"),
                _ => false,
            }
    });
    assert!(
        missing_highlight.is_empty(),
        "queries/highlights.scm does not highlight {missing_highlight:?}"
    );
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("type").and_then(|t| t.as_str()) == Some("STRING") {
                if let Some(s) = map.get("value").and_then(|v| v.as_str()) {
                    out.push(s.to_string());
                }
            }
            map.values().for_each(|v| collect_strings(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}
