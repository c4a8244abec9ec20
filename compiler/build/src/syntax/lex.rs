//! A coarse token scan of the whole file, in one linear pass. The grammar does the real parsing;
//! these tokens are for what pest cannot do for us: describing the token an error points at,
//! finding where the next item starts after an error, and refusing nesting that would recurse
//! too deep before pest ever sees it. The `lpc fmt` formatter lays out these same tokens.

use pest::unicode::{XID_CONTINUE, XID_START};

/// How deep brackets (and nested block comments) may go; deeper input is refused with one
/// diagnostic instead of risking the stack.
pub const MAX_DEPTH: usize = 128;

/// What a token is, as far as recovery and messages care.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// An identifier or keyword.
    Ident,
    /// A number, duration or anything starting with a digit.
    Number,
    /// A complete string literal.
    Str,
    /// A `"` that is never closed: runs to the end of the file.
    UnterminatedStr,
    /// A `/*` that is never closed: runs to the end of the file.
    UnterminatedComment,
    /// `/// …`.
    Doc,
    /// `::` or one punctuation character.
    Punct,
    /// Any other character.
    Unknown,
}

/// One token: its kind and byte range.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// The byte offset of its first character.
    pub start: usize,
    /// The byte offset just past it.
    pub end: usize,
}

/// The tokens of a file, and where nesting went deeper than [`MAX_DEPTH`].
#[derive(Debug, Default)]
pub struct Tokens {
    /// The tokens, in order.
    pub list: Vec<Token>,
    /// Start of each token (or comment) where nesting first exceeded [`MAX_DEPTH`].
    pub too_deep: Vec<usize>,
}

/// Whether `c` is whitespace to the grammar (`WHITESPACE` in lp.pest).
pub fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{0C}' | '\u{FEFF}')
}

/// Whether `c` may start an identifier.
pub(crate) fn is_ident_start(c: char) -> bool {
    c == '_' || XID_START(c)
}

const PUNCT: &str = ";:,={}()[]+-*/%";

/// Scans `text` into tokens, skipping whitespace and comments that are not doc comments.
pub fn lex(text: &str) -> Tokens {
    let mut tokens = Tokens::default();
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let Some(c) = rest.chars().next() else { break };
        if is_whitespace(c) {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        let kind;
        if rest.starts_with("///") && !rest[3..].starts_with('/') {
            i += rest.find('\n').unwrap_or(rest.len());
            kind = Tok::Doc;
        } else if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
            continue;
        } else if rest.starts_with("/*") {
            if let Some(end) = block_comment_end(text, start, depth, &mut tokens.too_deep) {
                i = end;
                continue;
            }
            i = text.len();
            kind = Tok::UnterminatedComment;
        } else if c == '"' {
            match string_end(text, start) {
                Some(end) => {
                    i = end;
                    kind = Tok::Str;
                }
                None => {
                    i = text.len();
                    kind = Tok::UnterminatedStr;
                }
            }
        } else if c.is_ascii_digit() {
            i += number_len(rest);
            kind = Tok::Number;
        } else if is_ident_start(c) {
            i += ident_len(rest);
            kind = Tok::Ident;
        } else if rest.starts_with("::") {
            i += 2;
            kind = Tok::Punct;
        } else if PUNCT.contains(c) {
            i += 1;
            kind = Tok::Punct;
            match c {
                '(' | '[' | '{' => {
                    depth += 1;
                    if depth == MAX_DEPTH + 1 {
                        tokens.too_deep.push(start);
                    }
                }
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        } else {
            i += c.len_utf8();
            kind = Tok::Unknown;
        }
        tokens.list.push(Token {
            kind,
            start,
            end: i.min(text.len()),
        });
    }
    tokens
}

/// The end of the (nested) block comment at `start`, `None` when it is never closed. Where the
/// comments nest deeper than [`MAX_DEPTH`] with the `depth` brackets around them, `start` is
/// added to `too_deep`.
fn block_comment_end(
    text: &str,
    start: usize,
    depth: usize,
    too_deep: &mut Vec<usize>,
) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut level = 0usize;
    let mut j = start;
    while j < text.len() {
        if bytes[j..].starts_with(b"/*") {
            level += 1;
            if depth + level == MAX_DEPTH + 1 {
                too_deep.push(start);
            }
            j += 2;
        } else if bytes[j..].starts_with(b"*/") {
            level -= 1;
            j += 2;
            if level == 0 {
                return Some(j);
            }
        } else {
            j += 1;
        }
    }
    None
}

/// The end of the string literal whose `"` is at `start`, `None` when it is never closed.
fn string_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut j = start + 1;
    while j < text.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// Length of the identifier at the start of `s`.
fn ident_len(s: &str) -> usize {
    s.char_indices()
        .find(|&(_, c)| !XID_CONTINUE(c))
        .map_or(s.len(), |(n, _)| n)
}

/// Length of the number at the start of `s` (which starts with a digit), as `number` in lp.pest.
fn number_len(s: &str) -> usize {
    let j = numeric_len(s);
    j + ident_len(&s[j..])
}

/// Length of the numeric part of a number (digits, fraction, exponent), before any unit.
pub(crate) fn numeric_len(s: &str) -> usize {
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
        let mut k = j + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        if k < b.len() && b[k].is_ascii_digit() {
            j = digits(k);
        }
    }
    j
}

/// Tracks open brackets through punctuation `punct`, forgivingly: a closer closes its opener
/// and any unclosed brackets inside it (`[1, 2)` closes both), and a stray closer is ignored.
pub(crate) fn nest<'t>(open: &mut Vec<&'t str>, punct: &'t str) {
    let opener = match punct {
        "(" | "[" | "{" => {
            open.push(punct);
            return;
        }
        ")" => "(",
        "]" => "[",
        "}" => "{",
        _ => return,
    };
    if let Some(at) = open.iter().rposition(|&o| o == opener) {
        open.truncate(at);
    }
}

impl Tokens {
    /// Index of the first token that ends after `pos` (the token at or after `pos`), or
    /// `list.len()` at the end of the file.
    pub fn at(&self, pos: usize) -> usize {
        self.list.partition_point(|t| t.end <= pos)
    }

    /// End of the last token that ends at or before `pos`, if any.
    pub fn prev_end(&self, pos: usize) -> Option<usize> {
        let i = self.list.partition_point(|t| t.end <= pos);
        i.checked_sub(1).map(|i| self.list[i].end)
    }

    /// Whether nesting went too deep somewhere in `start..end`; returns where.
    pub fn too_deep_in(&self, start: usize, end: usize) -> Option<usize> {
        let i = self.too_deep.partition_point(|&p| p < start);
        self.too_deep.get(i).copied().filter(|&p| p < end)
    }
}
