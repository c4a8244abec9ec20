//! A reference classification of `.lp` tokens, independent of the editor grammars it checks.
//! It follows the lexical rules of `grammar/lp.pest`: `//` and `///` comments (`////` is a plain
//! comment), nesting `/* */`, strings with Rust escapes, numbers with an optional suffix (a
//! duration unit `ms`/`s`/`m`/`h`).

use std::ops::Range;

/// The keywords of `grammar/lp.pest` (the `keyword` rule and the `kw_*` rules); the `keywords`
/// test checks that this list is exactly the pest grammar's.
pub const KEYWORDS: &[&str] = &[
    "use", "program", "param", "node", "group", "process", "courier", "worker", "fn", "as", "true",
    "false", "replicas", "replica", "batch",
];

/// What a token is, as far as highlighting goes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// `// …`
    LineComment,
    /// `/// …`
    DocComment,
    /// `/* … */`, nested or not
    BlockComment,
    /// A string literal, quotes included, escapes excluded.
    String,
    /// `\n`, `\"`, `\u{1F600}` inside a string.
    Escape,
    /// `42`, `1_000`, `0xff`
    Integer,
    /// `0.5`, `1e-3`
    Float,
    /// The number of a duration: `250` in `250ms`.
    Duration,
    /// The unit of a duration: `ms` in `250ms`.
    DurationUnit,
    /// `use`, `as`
    Import,
    /// `program`, `param`, `node`, `group`, `process`
    Item,
    /// `courier`, `worker`, `fn`
    Kind,
    /// `batch`
    Batch,
    /// `true`, `false`
    Boolean,
    /// `replica`, `replicas`
    Replica,
    /// The name after `program`.
    ProgramName,
    /// The name after `param`.
    ParamName,
    /// The type in `param NAME: TYPE`.
    ParamType,
    /// The name after `node` or `group`.
    NodeName,
    /// A capitalized path segment before `::`: `Producer` in `Producer::new`.
    TypeName,
    /// A name before `(`: a constructor, a function, `on_failure`.
    FunctionName,
}

/// A classified token: a byte range of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub range: Range<usize>,
    pub class: Class,
}

/// A raw token before the names are classified by their neighbours.
#[derive(Clone, Debug)]
enum Raw {
    Classified(Class),
    Word,
    Punct(&'static str),
    Other,
}

/// Classifies the tokens of `text` (tokens with no class, like `=` or a plain name, are left
/// out). Never panics, whatever the text.
pub fn classify(text: &str) -> Vec<Token> {
    let raw = lex(text);
    let code: Vec<(Range<usize>, Raw)> = raw
        .iter()
        .filter(|(_, r)| {
            !matches!(
                r,
                Raw::Classified(Class::LineComment | Class::DocComment | Class::BlockComment)
            )
        })
        .cloned()
        .collect();
    let word = |i: usize| -> Option<&str> {
        match code.get(i) {
            Some((range, Raw::Word)) => Some(&text[range.clone()]),
            _ => None,
        }
    };
    let punct = |i: usize| -> Option<&'static str> {
        match code.get(i) {
            Some((_, Raw::Punct(p))) => Some(p),
            _ => None,
        }
    };
    let mut named = Vec::new();
    for (i, (range, kind)) in code.iter().enumerate() {
        if !matches!(kind, Raw::Word) {
            continue;
        }
        let this = &text[range.clone()];
        let prev = i.checked_sub(1);
        let prev_word = prev.and_then(word);
        let next_punct = punct(i + 1);
        let used_as_name = matches!(next_punct, Some(":" | "::"))
            || prev.and_then(punct) == Some("::")
            || matches!(
                prev_word,
                Some("batch" | "program" | "param" | "node" | "group")
            );
        let class = if KEYWORDS.contains(&this) && !used_as_name {
            Some(match this {
                "use" | "as" => Class::Import,
                "program" | "param" | "node" | "group" | "process" => Class::Item,
                "courier" | "worker" | "fn" => Class::Kind,
                "batch" => Class::Batch,
                "true" | "false" => Class::Boolean,
                _ => Class::Replica,
            })
        } else if KEYWORDS.contains(&this) {
            None
        } else if prev_word == Some("program") {
            Some(Class::ProgramName)
        } else if prev_word == Some("param") {
            Some(Class::ParamName)
        } else if matches!(prev_word, Some("node" | "group")) {
            Some(Class::NodeName)
        } else if prev.and_then(punct) == Some(":")
            && i >= 3
            && word(i - 3) == Some("param")
            && word(i - 2).is_some()
        {
            Some(Class::ParamType)
        } else if next_punct == Some("::") && this.starts_with(|c: char| c.is_uppercase()) {
            Some(Class::TypeName)
        } else if next_punct == Some("(") {
            Some(Class::FunctionName)
        } else {
            None
        };
        if let Some(class) = class {
            named.push(Token {
                range: range.clone(),
                class,
            });
        }
    }
    let mut tokens: Vec<Token> = raw
        .into_iter()
        .filter_map(|(range, kind)| match kind {
            Raw::Classified(class) => Some(Token { range, class }),
            _ => None,
        })
        .chain(named)
        .collect();
    tokens.sort_by_key(|t| t.range.start);
    tokens
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits `text` into raw tokens (whitespace left out).
fn lex(text: &str) -> Vec<(Range<usize>, Raw)> {
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| text[i..].chars().next();
    while let Some(c) = at(i) {
        let rest = &text[i..];
        if c.is_whitespace() {
            i += c.len_utf8();
        } else if rest.starts_with("//") {
            let end = i + rest.find('\n').unwrap_or(rest.len());
            let line = text[i..end].trim_end_matches('\r');
            let class = if line.starts_with("///") && !line.starts_with("////") {
                Class::DocComment
            } else {
                Class::LineComment
            };
            out.push((i..i + line.len(), Raw::Classified(class)));
            i = end;
        } else if rest.starts_with("/*") {
            let mut depth = 0usize;
            let mut j = i;
            while j < text.len() {
                if text[j..].starts_with("/*") {
                    depth += 1;
                    j += 2;
                } else if text[j..].starts_with("*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += at(j).map_or(1, char::len_utf8);
                }
            }
            out.push((i..j, Raw::Classified(Class::BlockComment)));
            i = j;
        } else if c == '"' {
            i = string(text, i, &mut out);
        } else if c.is_ascii_digit() {
            i = number(text, i, &mut out);
        } else if is_ident_start(c) {
            let len = rest
                .char_indices()
                .find(|&(_, c)| !is_ident_continue(c))
                .map_or(rest.len(), |(n, _)| n);
            out.push((i..i + len, Raw::Word));
            i += len;
        } else {
            let punct = ["::", ":", "(", ")", "{", "}", "[", "]", ";", ",", "="]
                .into_iter()
                .find(|p| rest.starts_with(p));
            let len = punct.map_or(c.len_utf8(), str::len);
            out.push((i..i + len, punct.map_or(Raw::Other, Raw::Punct)));
            i += len;
        }
    }
    out
}

/// A string from its opening quote at `start`: string parts and escapes; returns where it ends.
fn string(text: &str, start: usize, out: &mut Vec<(Range<usize>, Raw)>) -> usize {
    let mut part = start;
    let mut j = start + 1;
    let bytes = text.as_bytes();
    while j < text.len() {
        match bytes[j] {
            b'"' => {
                j += 1;
                out.push((part..j, Raw::Classified(Class::String)));
                return j;
            }
            b'\\' => {
                if part < j {
                    out.push((part..j, Raw::Classified(Class::String)));
                }
                let rest = &text[j..];
                let len = if rest.starts_with("\\u{") {
                    rest.find('}').map_or(2, |n| n + 1)
                } else if rest.starts_with("\\x") {
                    rest.char_indices().nth(4).map_or(rest.len(), |(n, _)| n)
                } else {
                    1 + rest[1..].chars().next().map_or(0, char::len_utf8)
                };
                out.push((j..j + len, Raw::Classified(Class::Escape)));
                j += len;
                part = j;
            }
            _ => j += 1,
        }
    }
    if part < j {
        out.push((part..j, Raw::Classified(Class::String)));
    }
    j
}

/// A number from its first digit at `start` (pest's `number`); returns where it ends.
fn number(text: &str, start: usize, out: &mut Vec<(Range<usize>, Raw)>) -> usize {
    let b = text.as_bytes();
    let digits = |mut j: usize| {
        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'_') {
            j += 1;
        }
        j
    };
    let mut j = digits(start);
    let mut float = false;
    if j + 1 < b.len() && b[j] == b'.' && b[j + 1].is_ascii_digit() {
        j = digits(j + 1);
        float = true;
    }
    if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
        let k = j + 1 + usize::from(j + 1 < b.len() && (b[j + 1] == b'+' || b[j + 1] == b'-'));
        if k < b.len() && b[k].is_ascii_digit() {
            j = digits(k);
            float = true;
        }
    }
    let number_end = j;
    let rest = &text[j..];
    let suffix_len = rest
        .char_indices()
        .find(|&(_, c)| !is_ident_continue(c))
        .map_or(rest.len(), |(n, _)| n);
    let suffix = &rest[..suffix_len];
    let end = j + suffix_len;
    let radix = ["0x", "0o", "0b"]
        .iter()
        .any(|p| text[start..end].starts_with(p));
    match suffix {
        "" if float => out.push((start..end, Raw::Classified(Class::Float))),
        "" => out.push((start..end, Raw::Classified(Class::Integer))),
        _ if radix && !float => out.push((start..end, Raw::Classified(Class::Integer))),
        "ms" | "s" | "m" | "h" if !float => {
            out.push((start..number_end, Raw::Classified(Class::Duration)));
            out.push((number_end..end, Raw::Classified(Class::DurationUnit)));
        }
        _ => out.push((start..end, Raw::Other)),
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str) -> Vec<(&str, Class)> {
        classify(text)
            .into_iter()
            .map(|t| (&text[t.range], t.class))
            .collect()
    }

    #[test]
    fn classifies_each_kind_of_token() {
        let text = "/// doc\n//// plain\nprogram p { /* a /* b */ c */ param n: u32 = 250ms; \
                    group g[n] = courier A::new(x: \"a\\tb\", y: 1.5, on: true, r: replica); }";
        let got = classes(text);
        for expected in [
            ("/// doc", Class::DocComment),
            ("//// plain", Class::LineComment),
            ("program", Class::Item),
            ("p", Class::ProgramName),
            ("/* a /* b */ c */", Class::BlockComment),
            ("n", Class::ParamName),
            ("u32", Class::ParamType),
            ("250", Class::Duration),
            ("ms", Class::DurationUnit),
            ("g", Class::NodeName),
            ("courier", Class::Kind),
            ("A", Class::TypeName),
            ("new", Class::FunctionName),
            ("\"a", Class::String),
            ("\\t", Class::Escape),
            ("b\"", Class::String),
            ("1.5", Class::Float),
            ("true", Class::Boolean),
            ("replica", Class::Replica),
        ] {
            assert!(got.contains(&expected), "{expected:?} not in {got:?}");
        }
    }

    #[test]
    fn keywords_used_as_names_are_not_keywords() {
        let got = classes("node n = courier T::new(group: 1) { batch node { fn: 2 } }");
        assert_eq!(
            got,
            [
                ("node", Class::Item),
                ("n", Class::NodeName),
                ("courier", Class::Kind),
                ("T", Class::TypeName),
                ("new", Class::FunctionName),
                ("1", Class::Integer),
                ("batch", Class::Batch),
                ("2", Class::Integer),
            ]
        );
    }

    #[test]
    fn never_panics_on_broken_text() {
        for text in [
            "\"abc\\", "/* /*", "1e", "1.", "\\u{", "\"\\u{12", "é\u{0}", "0x",
        ] {
            classify(text);
        }
    }
}
