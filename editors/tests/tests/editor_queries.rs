//! The Helix and Zed configurations (`editors/helix`, `editors/zed`): the queries they ship are
//! those of `editors/tree-sitter-lp/queries`, with each capture renamed to the editor's own name
//! for it (the tables below; a capture missing from a table fails), and every query they ship
//! compiles against the grammar; their configuration files name the grammar and `lpc lsp`.
//!
//! `UPDATE_EDITOR_QUERIES=1 cargo test -p lp-editors --test editor_queries` rewrites the
//! generated copies after a change to the canonical queries.

use lp_editors::{relative, repo_root};
use std::path::Path;
use tree_sitter::Query;

/// Capture names: `(canonical, the editor's)`.
type Names = &'static [(&'static str, &'static str)];

/// nvim-treesitter's capture names (the canonical queries) → Helix's theme scopes.
const HELIX: Names = &[
    ("boolean", "constant.builtin.boolean"),
    ("comment", "comment"),
    ("comment.documentation", "comment.line.documentation"),
    ("function", "function"),
    ("function.call", "function"),
    ("function.method", "function.method"),
    ("keyword", "keyword"),
    ("keyword.import", "keyword.control.import"),
    ("keyword.modifier", "keyword.storage.modifier"),
    ("label", "label"),
    (
        "local.definition.parameter",
        "local.definition.variable.parameter",
    ),
    ("local.definition.var", "local.definition.variable"),
    ("local.reference", "local.reference"),
    ("local.scope", "local.scope"),
    ("module", "namespace"),
    ("number", "constant.numeric.integer"),
    ("number.float", "constant.numeric.float"),
    ("operator", "operator"),
    ("property", "variable.other.member"),
    ("punctuation.bracket", "punctuation.bracket"),
    ("punctuation.delimiter", "punctuation.delimiter"),
    ("string", "string"),
    ("string.escape", "constant.character.escape"),
    ("type", "type"),
    ("type.builtin", "type.builtin"),
    ("type.definition", "type"),
    ("variable", "variable"),
    ("variable.builtin", "variable.builtin"),
    ("variable.parameter", "variable.parameter"),
];

/// nvim-treesitter's capture names → Zed's (a theme matches the longest dot-separated prefix).
const ZED: Names = &[
    ("boolean", "boolean"),
    ("comment", "comment"),
    ("comment.documentation", "comment.doc"),
    ("function", "function"),
    ("function.call", "function"),
    ("function.method", "function.method"),
    ("keyword", "keyword"),
    ("keyword.import", "keyword"),
    ("keyword.modifier", "keyword"),
    ("label", "label"),
    ("module", "namespace"),
    ("number", "number"),
    ("number.float", "number"),
    ("operator", "operator"),
    ("property", "property"),
    ("punctuation.bracket", "punctuation.bracket"),
    ("punctuation.delimiter", "punctuation.delimiter"),
    ("string", "string"),
    ("string.escape", "string.escape"),
    ("type", "type"),
    ("type.builtin", "type.builtin"),
    ("type.definition", "type"),
    ("variable", "variable"),
    ("variable.builtin", "variable.special"),
    ("variable.parameter", "variable.parameter"),
];

/// `(canonical query, shipped copy, capture names)`: what each editor ships generated.
const GENERATED: &[(&str, &str, Names)] = &[
    (
        "highlights.scm",
        "helix/runtime/queries/lp/highlights.scm",
        HELIX,
    ),
    ("locals.scm", "helix/runtime/queries/lp/locals.scm", HELIX),
    ("highlights.scm", "zed/languages/lp/highlights.scm", ZED),
];

/// Queries an editor ships of its own (no canonical counterpart): they must compile.
const EDITOR_ONLY: &[&str] = &[
    "helix/runtime/queries/lp/indents.scm",
    "zed/languages/lp/brackets.scm",
    "zed/languages/lp/indents.scm",
    "zed/languages/lp/outline.scm",
];

fn editors() -> std::path::PathBuf {
    repo_root().join("editors")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", relative(path)))
}

/// `query` with every `@capture` (outside comments and strings) renamed by `names`; the
/// captures missing from `names` are the error.
fn rename(query: &str, names: &[(&str, &str)]) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(query.len());
    let mut missing = Vec::new();
    let mut chars = query.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            ';' => {
                let end = query[i..].find('\n').map_or(query.len(), |n| i + n);
                out.push_str(&query[i..end]);
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
            }
            '"' => {
                out.push(c);
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    out.push(c);
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
            }
            '@' => {
                let rest = &query[i + 1..];
                let len = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                    .unwrap_or(rest.len());
                let name = &rest[..len];
                match names.iter().find(|(from, _)| *from == name) {
                    Some((_, to)) => {
                        out.push('@');
                        out.push_str(to);
                    }
                    None => missing.push(name.to_string()),
                }
                while chars.peek().is_some_and(|&(j, _)| j <= i + len) {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        missing.sort();
        missing.dedup();
        Err(missing)
    }
}

/// What a generated copy must hold: a header naming its source, then the renamed query.
fn expected(canonical: &str, names: &[(&str, &str)]) -> String {
    let source = read(&editors().join("tree-sitter-lp/queries").join(canonical));
    let renamed = rename(&source, names).unwrap_or_else(|missing| {
        panic!("queries/{canonical} has captures with no name in the table: {missing:?}")
    });
    format!(
        "; Generated from editors/tree-sitter-lp/queries/{canonical}, with this editor's capture\n\
         ; names, by editors/tests/tests/editor_queries.rs: edit the source, then run\n\
         ; UPDATE_EDITOR_QUERIES=1 cargo test -p lp-editors --test editor_queries\n\n{renamed}"
    )
}

#[test]
fn the_shipped_queries_are_the_canonical_ones_with_the_editors_capture_names() {
    let update = std::env::var_os("UPDATE_EDITOR_QUERIES").is_some();
    let mut stale = Vec::new();
    for &(canonical, copy, names) in GENERATED {
        let want = expected(canonical, names);
        let path = editors().join(copy);
        if update {
            std::fs::write(&path, &want).unwrap_or_else(|e| panic!("writing {copy}: {e}"));
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(format!("editors/{copy} (from queries/{canonical})"));
        }
    }
    assert!(
        stale.is_empty(),
        "out of date with editors/tree-sitter-lp/queries: {stale:?}; run \
         UPDATE_EDITOR_QUERIES=1 cargo test -p lp-editors --test editor_queries"
    );
}

#[test]
fn the_renaming_keeps_comments_strings_and_predicates_consistent() {
    let query = "; a @comment\n((identifier) @type (#match? @type \"^@x\")) @module\n";
    assert_eq!(
        rename(query, HELIX).as_deref(),
        Ok("; a @comment\n((identifier) @type (#match? @type \"^@x\")) @namespace\n")
    );
    assert_eq!(rename("(x) @nope", HELIX), Err(vec!["nope".to_string()]));
}

#[test]
fn every_query_helix_and_zed_ship_compiles() {
    let language = tree_sitter_lp::LANGUAGE.into();
    let shipped = GENERATED
        .iter()
        .map(|(_, copy, _)| *copy)
        .chain(EDITOR_ONLY.iter().copied());
    for copy in shipped {
        let text = read(&editors().join(copy));
        if let Err(e) = Query::new(&language, &text) {
            panic!("editors/{copy} does not compile: {e}");
        }
    }
    // Every query file in the two editors' directories is one of those.
    for dir in ["helix/runtime/queries/lp", "zed/languages/lp"] {
        for entry in std::fs::read_dir(editors().join(dir)).expect("the queries directory") {
            let name = entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            let path = format!("{dir}/{name}");
            assert!(
                !name.ends_with(".scm")
                    || GENERATED.iter().any(|(_, c, _)| *c == path)
                    || EDITOR_ONLY.contains(&path.as_str()),
                "editors/{path} is neither generated nor listed as editor-only"
            );
        }
    }
}

#[test]
fn helix_and_zed_use_the_grammar_and_lpc_lsp() {
    let helix = read(&editors().join("helix/languages.toml"));
    for line in [
        "[language-server.lpc]",
        "command = \"lpc\"",
        "args = [\"lsp\"]",
        "name = \"lp\"",
        "file-types = [\"lp\"]",
        "language-servers = [\"lpc\"]",
        "[[grammar]]",
        "source = { path = \"/path/to/lp/editors/tree-sitter-lp\" }",
    ] {
        assert!(
            helix.lines().any(|l| l == line),
            "editors/helix/languages.toml lacks `{line}`"
        );
    }
    let extension = read(&editors().join("zed/extension.toml"));
    let config = read(&editors().join("zed/languages/lp/config.toml"));
    let language = config
        .lines()
        .find_map(|l| l.strip_prefix("name = "))
        .expect("config.toml names its language");
    for line in [
        "[grammars.lp]",
        "path = \"editors/tree-sitter-lp\"",
        "[language_servers.lpc]",
        &format!("languages = [{language}]"),
    ] {
        assert!(
            extension.lines().any(|l| l == line),
            "editors/zed/extension.toml lacks `{line}`"
        );
    }
    for line in ["grammar = \"lp\"", "path_suffixes = [\"lp\"]"] {
        assert!(
            config.lines().any(|l| l == line),
            "editors/zed/languages/lp/config.toml lacks `{line}`"
        );
    }
    let code = read(&editors().join("zed/src/lib.rs"));
    assert!(
        code.contains("worktree.which(\"lpc\")") && code.contains("args: vec![\"lsp\".into()]"),
        "editors/zed/src/lib.rs does not start `lpc lsp`"
    );
    // The grammar's own metadata agrees on the scope and file type.
    let grammar = read(&editors().join("tree-sitter-lp/tree-sitter.json"));
    assert!(
        grammar.contains("\"scope\": \"source.lp\"") && helix.contains("scope = \"source.lp\"")
    );
}
