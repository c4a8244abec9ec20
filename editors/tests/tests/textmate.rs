//! The VS Code grammar (`editors/vscode/syntaxes/lp.tmLanguage.json`), tokenized by the
//! libraries VS Code uses (vscode-textmate + vscode-oniguruma, from npm) in node: every
//! classified token of the corpus gets its scope, and chosen tokens of the showcase get theirs.

use lp_editors::{
    assert_no_mismatches, corpus, find_on_line, repo_root, require_tool, run_with_timeout, Class,
    Highlighter,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Per file, per line: `(start byte, end byte, scopes)`.
type Tokens = BTreeMap<PathBuf, Vec<Vec<(usize, usize, Vec<String>)>>>;

struct TextMate {
    tokens: Tokens,
}

/// Tokenizes `files` with node, or `None` when node (or its packages) is missing outside CI.
fn tokenize(files: &[PathBuf]) -> Option<TextMate> {
    let node = require_tool("node", "the VS Code (TextMate) grammar")?;
    let tests = repo_root().join("editors/tests");
    for package in ["vscode-textmate", "vscode-oniguruma"] {
        if !tests.join("node_modules").join(package).is_dir() {
            let message = format!(
                "npm package `{package}` is not installed in editors/tests/node_modules: run \
                 scripts/setup (it runs `npm ci` there)"
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{message} (CI=true: a failure)"
            );
            eprintln!("SKIPPED: {message}");
            return None;
        }
    }
    let output = run_with_timeout(
        Command::new(node)
            .current_dir(&tests)
            .arg("tokenize.js")
            .arg(repo_root().join("editors/vscode/syntaxes/lp.tmLanguage.json"))
            .args(files),
        Duration::from_secs(60),
    );
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("tokenize.js prints JSON");
    let mut tokens = Tokens::new();
    for file in files {
        let lines = json[file.to_string_lossy().as_ref()]
            .as_array()
            .unwrap_or_else(|| panic!("no tokens for {}", file.display()));
        let lines = lines
            .iter()
            .map(|line| {
                line.as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| {
                        let n = |i: usize| t[i].as_u64().unwrap_or(0) as usize;
                        let scopes = t[2]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|s| s.as_str().map(String::from))
                            .collect();
                        (n(0), n(1), scopes)
                    })
                    .collect()
            })
            .collect();
        tokens.insert(file.clone(), lines);
    }
    Some(TextMate { tokens })
}

impl TextMate {
    /// The scopes of the token at `byte` of `file`.
    fn scopes(&self, file: &Path, byte: usize) -> Option<&[String]> {
        let text = std::fs::read_to_string(file).ok()?;
        let (line, col) = lp_editors::line_col(&text, byte);
        let column = col - 1;
        self.tokens
            .get(file)?
            .get(line - 1)?
            .iter()
            .find(|(start, end, _)| *start <= column && column < *end)
            .map(|(_, _, scopes)| scopes.as_slice())
    }
}

impl Highlighter for TextMate {
    fn name(&self) -> &'static str {
        "the TextMate grammar"
    }

    fn at(&self, file: &Path, byte: usize) -> Option<String> {
        self.scopes(file, byte).map(|s| s.join(" "))
    }

    fn accepts(&self, class: Class, got: &str) -> bool {
        let expected = self.expected(class);
        let innermost = got.split(' ').next_back().unwrap_or("");
        match class {
            // Comments and strings: the innermost scope must be the right one.
            Class::BlockComment | Class::LineComment | Class::DocComment | Class::String => {
                got.split(' ').any(|s| s == expected)
                    && (innermost == expected || innermost.starts_with("punctuation.definition"))
            }
            _ => innermost.starts_with(expected),
        }
    }

    fn expected(&self, class: Class) -> &'static str {
        match class {
            Class::LineComment => "comment.line.double-slash.lp",
            Class::DocComment => "comment.block.documentation.lp",
            Class::BlockComment => "comment.block.lp",
            Class::String => "string.quoted.double.lp",
            Class::Escape => "constant.character.escape.lp",
            Class::Integer => "constant.numeric.integer.",
            Class::Float => "constant.numeric.float.lp",
            Class::Duration => "constant.numeric.duration.lp",
            Class::DurationUnit => "keyword.other.unit.lp",
            Class::Import => "keyword.control.import.",
            Class::Item => "storage.type.",
            Class::Kind => "storage.modifier.kind.lp",
            Class::Batch => "keyword.control.batch.lp",
            Class::Boolean => "constant.language.boolean.lp",
            Class::Replica => "variable.language.replica.lp",
            Class::ProgramName => "entity.name.type.program.lp",
            Class::ParamName => "variable.parameter.param.lp",
            Class::ParamType => "entity.name.type.lp",
            Class::NodeName => "entity.name.variable.",
            Class::TypeName => "entity.name.type.lp",
            Class::FunctionName => "entity.name.function.",
        }
    }
}

#[test]
fn every_classified_token_of_the_corpus_has_its_scope() {
    let files = corpus();
    let Some(textmate) = tokenize(&files) else {
        return;
    };
    assert_no_mismatches(&textmate, &files);
}

/// Chosen tokens of the showcase: `(line, text, scope that must be among the token's scopes)`;
/// when the text has `|` marks, only the part between them is checked.
const CHOSEN: &[(usize, &str, &str)] = &[
    (3, "Worker", "entity.name.type.alias.lp"),
    (3, "{", "meta.use.lp"),
    (6, "that nests", "comment.block.lp"),
    (6, "and ends here", "comment.block.lp"),
    (9, "Four slashes", "comment.line.double-slash.lp"),
    (12, "e-3", "constant.numeric.float.lp"),
    (13, "0xff", "constant.numeric.integer.hexadecimal.lp"),
    (14, "\\\"", "constant.character.escape.lp"),
    (14, "\\u{1F600}", "constant.character.escape.lp"),
    (14, " end", "string.quoted.double.lp"),
    (16, "250", "constant.numeric.duration.lp"),
    (16, "ms", "constant.numeric.duration.lp"),
    (16, "ms", "keyword.other.unit.lp"),
    (19, "|seed|:", "variable.parameter.argument.lp"),
    (19, "seed", "meta.arguments.lp"),
    (20, "resources", "entity.name.section.lp"),
    (20, "cpus", "variable.other.property.lp"),
    (20, "cpus", "meta.block.lp"),
    (22, "restart", "variable.other.property.lp"),
    (22, "on_failure", "entity.name.function.lp"),
    (22, "max", "variable.parameter.argument.lp"),
    (23, "work", "entity.name.function.method.lp"),
    (23, "max_parallelism", "variable.other.property.lp"),
    (26, "colocated", "entity.name.namespace.process.lp"),
    (27, "first: |producer|[0]", "variable.other.lp"),
    (30, "-", "keyword.operator.arithmetic.lp"),
    (31, "crate", "variable.language.crate.lp"),
    (31, "nodes", "entity.name.namespace.lp"),
    (31, "::", "punctuation.separator.path.lp"),
];

#[test]
fn chosen_tokens_of_the_showcase_have_their_scopes() {
    let file = repo_root().join("editors/tests/corpus/showcase.lp");
    let Some(textmate) = tokenize(std::slice::from_ref(&file)) else {
        return;
    };
    let text = std::fs::read_to_string(&file).expect("the showcase");
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut wrong = Vec::new();
    for &(line, needle, scope) in CHOSEN {
        let start = line_starts[line - 1];
        let line_text = text[start..].lines().next().unwrap_or("");
        let (before, target) = match needle.split('|').collect::<Vec<_>>()[..] {
            [before, target, _] => (before, target),
            _ => ("", needle),
        };
        let Some(column) = line_text.find(&needle.replace('|', "")) else {
            wrong.push(format!("line {line} has no `{needle}`: {line_text:?}"));
            continue;
        };
        let column = column + before.len();
        for byte in start + column..start + column + target.len() {
            let scopes = textmate.scopes(&file, byte).unwrap_or(&[]);
            if !scopes.iter().any(|s| s == scope) {
                wrong.push(format!(
                    "showcase.lp:{line}:{} `{needle}`: expected {scope}, got {scopes:?}",
                    byte - start + 1
                ));
                break;
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Chosen tokens of `corpus/keyword_names.lp`: `(line, text, innermost scope)`, `|` marks as
/// above. Keyword-named arguments and fields are names, a lowercase import is a function.
const KEYWORD_NAMES: &[(usize, &str, &str)] = &[
    (4, "fns", "entity.name.namespace.lp"),
    (4, "::|tick|;", "entity.name.function.lp"),
    (5, "{|setup| as", "entity.name.function.lp"),
    (5, " |as| ", "keyword.control.import.as.lp"),
    (5, "as |prepare|", "entity.name.function.alias.lp"),
    (5, "Producer", "entity.name.type.lp"),
    (10, "(|node|:", "variable.parameter.argument.lp"),
    (10, "|batch|: 2", "variable.parameter.argument.lp"),
    (10, "|process|: 3", "variable.parameter.argument.lp"),
    (10, "|group|: 4", "variable.parameter.argument.lp"),
    (10, "|node| first", "storage.type.node.lp"),
    (17, "(|fn|:", "variable.parameter.argument.lp"),
    (17, "= |fn| tick", "storage.modifier.kind.lp"),
    (17, "|param|:", "variable.parameter.argument.lp"),
    (17, "|replicas|: replicas", "variable.parameter.argument.lp"),
    (17, "replicas: |replicas|", "variable.language.replica.lp"),
    (18, "{ |node|:", "variable.other.property.lp"),
    (18, "|batch|: 2", "variable.other.property.lp"),
    (19, "|batch| work", "keyword.control.batch.lp"),
    (19, "|process|: 8", "variable.other.property.lp"),
];

#[test]
fn keyword_named_arguments_and_imported_functions_have_their_scopes() {
    let file = repo_root().join("editors/tests/corpus/keyword_names.lp");
    let Some(textmate) = tokenize(std::slice::from_ref(&file)) else {
        return;
    };
    let text = std::fs::read_to_string(&file).expect("corpus/keyword_names.lp");
    let mut wrong = Vec::new();
    for &(line, needle, scope) in KEYWORD_NAMES {
        let Some(range) = find_on_line(&text, line, needle) else {
            wrong.push(format!("line {line} has no `{needle}`"));
            continue;
        };
        for byte in range {
            let scopes = textmate.scopes(&file, byte).unwrap_or(&[]);
            if scopes.last().map(String::as_str) != Some(scope) {
                wrong.push(format!(
                    "keyword_names.lp:{line} `{needle}`: expected {scope} innermost, got {scopes:?}"
                ));
                break;
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
