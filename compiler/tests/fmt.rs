//! `lpc fmt` (`lpc::fmt::format`): idempotent, comment-preserving, meaning-preserving on every
//! `.lp` file of the repository; snapshots of ugly inputs; a property test on mutations of the
//! seed program.

use std::path::{Path, PathBuf};

use lpc::fmt::{format, NotFormatted};
use lpc_build::diag::{Diagnostics, FileId};
use proptest::prelude::*;

const SEED: &str = include_str!("../../examples/consumer_producers/consumer_producers.lp");
/// Every construct of the language, for mutations beyond the seed's.
const RICH: &str = r#"use crate::nodes::{Learner, actor as a, Echo};
use crate::other::Thing;
program rich {
    param n: u32 = 2 * (3 + -n) % 4;
    param d: Duration;
    node l = courier Learner::new(w: [1, [2, 3]], e: echo[n - 1]) {
        resources { cpus: 1, memory: "2Gi" }
        restart: on_failure(max: 3, backoff: 1s),
        batch compute { size: 8 }
        env {}
    }
    process p {
        group echo[n] = fn crate::nodes::echo(i: replica, of: replicas);
    }
}
program empty {}
"#;

// ---------------------------------------------------------------------------------------------
// Helpers

/// Whether `text` parses without syntax errors (control characters included).
fn parses(text: &str) -> bool {
    let mut diags = Diagnostics::default();
    lpc_build::syntax::parse(FileId(0), text, &mut diags);
    let has_errors = diags.iter().any(|d| d.code.is_syntax());
    !has_errors
}

/// The `.lp` files of the repository: `examples/**`, `tests/`, `compiler/build/tests/cases/*/`.
fn corpus() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    walk(&root.join("examples"), &mut files);
    files.extend(lp_files(&root.join("tests")));
    for case in read_dir(&root.join("compiler/build/tests/cases")) {
        files.extend(
            lp_files(&case)
                .into_iter()
                .filter(|f| f.ends_with("main.lp")),
        );
    }
    files.sort();
    files
}

fn read_dir(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).expect("readable directory");
    entries
        .map(|e| e.expect("directory entry").path())
        .collect()
}

fn lp_files(dir: &Path) -> Vec<PathBuf> {
    let is_lp = |p: &PathBuf| p.is_file() && p.extension().is_some_and(|e| e == "lp");
    read_dir(dir).into_iter().filter(is_lp).collect()
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for path in read_dir(dir) {
        if path.is_dir() && !path.ends_with("target") {
            walk(&path, files);
        }
    }
    files.extend(lp_files(dir));
}

/// The tokens and comments of `text`, whitespace dropped: an independent, simple lexer.
fn lex(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if c.is_whitespace() || c == '\u{FEFF}' {
            rest = &rest[c.len_utf8()..];
            continue;
        } else if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if rest.starts_with("/*") {
            block_comment_len(rest)
        } else if c == '"' {
            string_len(rest)
        } else if c.is_ascii_digit() {
            number_len(rest)
        } else if c.is_alphabetic() || c == '_' {
            word_len(rest)
        } else if rest.starts_with("::") {
            2
        } else {
            c.len_utf8()
        };
        tokens.push(rest[..len].trim_end().to_owned());
        rest = &rest[len..];
    }
    tokens
}

fn block_comment_len(s: &str) -> usize {
    let mut level = 0;
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with("/*") {
            level += 1;
            i += 2;
        } else if s[i..].starts_with("*/") {
            level -= 1;
            i += 2;
            if level == 0 {
                return i;
            }
        } else {
            i += s[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    s.len()
}

fn string_len(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return i + 1,
            _ => {}
        }
    }
    s.len()
}

fn word_len(s: &str) -> usize {
    s.find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len())
}

/// Digits, fraction, exponent, then a unit (as `number` in lp.pest).
fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let digits = |mut j: usize| {
        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'_') {
            j += 1;
        }
        j
    };
    let mut j = digits(0);
    if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
        j = digits(j + 1);
    }
    if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
        let k = j + 1 + usize::from(matches!(b.get(j + 1), Some(b'+' | b'-')));
        if b.get(k).is_some_and(u8::is_ascii_digit) {
            j = digits(k);
        }
    }
    j + word_len(&s[j..])
}

fn is_comment(token: &str) -> bool {
    token.starts_with("//") && !is_doc(token) || token.starts_with("/*")
}

fn is_doc(token: &str) -> bool {
    token.starts_with("///") && !token.starts_with("////")
}

/// What formatting may not change: the tokens and comments in order, except that a comma
/// before a closing bracket is optional, the leaves of `use a::{…}` may be reordered, and so
/// may consecutive `use` items.
fn meaning(text: &str) -> Vec<String> {
    let tokens = lex(text);
    let next_code = |i: usize| tokens[i + 1..].iter().find(|t| !is_comment(t));
    let kept: Vec<String> = (0..tokens.len())
        .filter(|&i| {
            tokens[i] != "," || !next_code(i).is_some_and(|t| matches!(t.as_str(), ")" | "]" | "}"))
        })
        .map(|i| tokens[i].clone())
        .collect();
    let mut units: Vec<(bool, String)> = Vec::new();
    let mut i = 0;
    while i < kept.len() {
        if kept[i] == "use" {
            let end = kept[i..]
                .iter()
                .position(|t| t == ";")
                .map_or(kept.len(), |n| i + n + 1);
            units.push((true, use_unit(&kept[i..end])));
            i = end;
        } else {
            units.push((false, kept[i].clone()));
            i += 1;
        }
    }
    for run in units.chunk_by_mut(|a, b| a.0 && b.0) {
        run.sort();
    }
    units.into_iter().map(|(_, unit)| unit).collect()
}

/// A `use` item's tokens as one string, the leaves inside braces sorted.
fn use_unit(tokens: &[String]) -> String {
    let Some(open) = tokens.iter().position(|t| t == "{") else {
        return tokens.join(" ");
    };
    let close = tokens
        .iter()
        .rposition(|t| t == "}")
        .unwrap_or(tokens.len());
    let inner = tokens[open + 1..close].join(" ");
    let mut leaves: Vec<&str> = inner.split(" , ").map(str::trim).collect();
    leaves.sort_unstable();
    format!(
        "{} {{ {} }} {}",
        tokens[..open].join(" "),
        leaves.join(" , "),
        tokens[close..].join(" ")
    )
}

fn comments(text: &str) -> Vec<String> {
    lex(text)
        .into_iter()
        .filter(|t| is_comment(t) || is_doc(t))
        .collect()
}

/// Formats `text`, asserting everything `format` promises of a file that parses.
fn check_formats(name: &str, text: &str) -> String {
    let formatted = format(text).unwrap_or_else(|e| panic!("{name}: not formatted: {e}"));
    let again = format(&formatted).unwrap_or_else(|e| panic!("{name}: formatted: {e}"));
    assert_eq!(again, formatted, "{name}: formatting is not idempotent");
    assert_eq!(meaning(&formatted), meaning(text), "{name}: tokens changed");
    assert!(parses(&formatted), "{name}: formatted text does not parse");
    for line in formatted.lines() {
        assert_eq!(line, line.trim_end(), "{name}: trailing whitespace");
    }
    formatted
}

// ---------------------------------------------------------------------------------------------
// The repository's files

#[test]
fn every_repo_file_is_formatted_idempotently_keeping_tokens_and_comments() {
    let files = corpus();
    assert!(files.len() > 40, "found only {} .lp files", files.len());
    let mut formatted_files = 0;
    for file in &files {
        let name = file.display().to_string();
        let Ok(text) = String::from_utf8(std::fs::read(file).expect("readable .lp file")) else {
            continue; // not text (an E0004 case): `lpc fmt` cannot read it
        };
        if !parses(&text) {
            assert!(
                matches!(format(&text), Err(NotFormatted::SyntaxErrors(_))),
                "{name}"
            );
            continue;
        }
        let formatted = check_formats(&name, &text);
        assert_eq!(
            comments(&formatted),
            comments(&text),
            "{name}: comments moved"
        );
        formatted_files += 1;
    }
    assert!(
        formatted_files > 40,
        "formatted only {formatted_files} files"
    );
}

#[test]
fn the_examples_are_already_canonical() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    walk(&root.join("examples"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable .lp file");
        assert_eq!(
            format(&text).as_deref(),
            Ok(text.as_str()),
            "{}",
            file.display()
        );
    }
}

#[test]
fn syntax_errors_are_refused() {
    let refused = format("program p {\n    param x u32;\n}\n");
    assert_eq!(refused, Err(NotFormatted::SyntaxErrors(1)));
    let message = NotFormatted::SyntaxErrors(1).to_string();
    assert!(message.contains("lpc check"), "{message}");
    assert!(format("/* never closed").is_err());
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(format("").as_deref(), Ok(""));
    assert_eq!(format(" \n\n").as_deref(), Ok(""));
    assert_eq!(
        format("// just this  \r\n").as_deref(),
        Ok("// just this\n")
    );
}

#[test]
fn crlf_line_ends_become_lf() {
    let text = "use a::B;\r\n/// doc \r\nprogram p {\r\n    param x: u32 = 1; // c \r\n}\r\n";
    let expected = "use a::B;\n\n/// doc\nprogram p {\n    param x: u32 = 1; // c\n}\n";
    assert_eq!(format(text).as_deref(), Ok(expected));
}

#[test]
fn a_large_program_is_formatted() {
    let mut text = String::from("use crate::nodes::Producer;\nprogram big {\n");
    for i in 0..2_000 {
        text.push_str(&format!(
            "node n{i}=courier Producer::new(a:[[1,2],[{i},4]],b:{i}*2);\n"
        ));
    }
    text.push_str("}\n");
    let formatted = check_formats("large", &text);
    assert!(formatted.contains(
        "\n    node n1999 = courier Producer::new(a: [[1, 2], [1999, 4]], b: 1999 * 2);\n"
    ));
}

#[test]
fn deep_nesting_is_formatted() {
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let text = format!("program p {{\n    param x: u32 = {deep};\n}}\n");
    let formatted = check_formats("deep", &text);
    assert!(formatted.starts_with("program p {\n    param x: u32 = [\n        [\n"));
}

// ---------------------------------------------------------------------------------------------
// Snapshots: before and after

fn snapshot(before: &str) -> String {
    let after = check_formats("snapshot", before);
    format!("{before}\n---------------------------------------- formatted\n{after}")
}

#[test]
fn snapshot_ugly_layout() {
    insta::assert_snapshot!(snapshot(
        r#"use crate::nodes::{Producer,Consumer as C,  actor};
use   crate::x::Y as Z ;
/// Doc of the program.
program   p{
  /// n
  param n:u32=2*(3+4) ;
  param d : Duration=250ms;
  param big: u64 = 1_000_000; param f:f64=1e-3;



  node   c=courier C::new( producers:producer ,x:[1,2,3,],s:"a\"b",) ;
  group producer[n+1]=worker Producer::new(a: - 1, b: "s", c: a_very_long_argument_name_that_goes_on, d: another_long_argument_name_here_too) {
     resources{cpus:1,memory:"2Gi"}
     env { RUST_LOG: "info", }
     restart: on_failure(max: 3, backoff: 1s),
     batch compute{size:8}
  }
  process  workers { node w = worker W::new(); }
  node e = courier E::new() {}
  node g = courier crate::nodes::G::new(
    x: 1,
  );
}
program q {

}
"#
    ));
}

#[test]
fn snapshot_comments() {
    insta::assert_snapshot!(snapshot(
        r#"// leading comment


use a::{
    // comment in the group
    B, A,
};
/* before the program */ program p { // after the brace

    /// doc
    // between doc and item
    param y: u32 = 1 + // why
        2; // trailing

    node x = courier X::new(
        // first
        a: 1, // one
        b: [
            1, 2 // two
        ], /* block */ c: 3
    );
    node z = courier Z::new(a: 1,
    /* own line */ b: 2 /* inline */ );


    // the end
}
// at the end of the file
"#
    ));
}

#[test]
fn snapshot_imports_sorted() {
    insta::assert_snapshot!(snapshot(
        r#"use crate::z::{Zeta, alpha, self, Beta};
use crate::b::B;
use crate::a::{A as Aa};
use crate::c::C; // stays with C
use crate::b::D;

use crate::aa::A;
use crate::nodes::{VeryLongTypeNameNumberOne, VeryLongTypeNameNumberTwo, VeryLongTypeNameNumberThree};
program p {}
"#
    ));
}

// ---------------------------------------------------------------------------------------------
// Property tests

/// `seed` with the whitespace between its tokens replaced by other whitespace and comments, and
/// perhaps a comma inserted somewhere: whatever still parses.
fn mutated(seed: &str) -> impl Strategy<Value = String> {
    let gaps = prop::sample::select(vec![
        "",
        " ",
        "\n",
        "\n\n",
        "\n\n\n",
        "  \t",
        " /* c */ ",
        "/*c*/",
        " // c\n",
        "\n// own line\n",
        "\n\n// after a blank\n\n",
        "\n    /* own\n   block */\n",
    ]);
    let tokens = lex(seed);
    let count = tokens.len();
    let comma = prop::option::of(any::<prop::sample::Index>());
    (prop::collection::vec(gaps, count), comma).prop_map(move |(gaps, comma)| {
        let comma = comma.map(|at| at.index(count));
        let word = |t: &str| t.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '"');
        let mut text = String::new();
        for (i, (token, gap)) in tokens.iter().zip(gaps).enumerate() {
            text.push_str(token);
            if comma == Some(i) {
                text.push(',');
            }
            let next_word = tokens.get(i + 1).is_some_and(|t| word(t));
            text.push_str(match gap {
                _ if is_doc(token) || is_comment(token) => "\n",
                "" if word(token) && next_word => " ",
                gap => gap,
            });
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn formatting_a_parseable_mutation_is_idempotent(
        text in prop_oneof![mutated(SEED), mutated(RICH)],
    ) {
        if parses(&text) {
            let formatted = check_formats("mutation", &text);
            prop_assert_eq!(format(&formatted), Ok(formatted.clone()));
        } else {
            prop_assert!(matches!(format(&text), Err(NotFormatted::SyntaxErrors(_))));
        }
    }

    #[test]
    fn format_never_panics(text in "[a-z:;,=(){}\\[\\]/*\" \n0-9-]{0,80}") {
        let _ = format(&text);
    }
}
