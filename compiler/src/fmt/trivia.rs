//! The formatter's view of a file: the tokens of [`lpc_build::syntax::lex`], each with the comments
//! (`//`, `/* */`) written before it and how many line breaks separate them. Comments are not
//! tokens to the lexer; they live in the gaps between tokens, which hold nothing else.

use lpc_build::syntax::lex::{self, Tok};

/// A `//` or `/* */` comment before a token.
#[derive(Clone, Debug)]
pub(super) struct Comment<'a> {
    /// The text, trailing whitespace removed from `//` comments.
    pub text: &'a str,
    /// A `//` comment: the line must end after it.
    pub is_line: bool,
    /// Whether it starts its own line (otherwise it trails the previous token).
    pub own_line: bool,
    /// Whether a blank line precedes it.
    pub blank_before: bool,
}

/// One token with the comments before it.
#[derive(Clone, Debug)]
pub(super) struct Token<'a> {
    /// The text as written (a `///` comment without trailing whitespace).
    pub text: &'a str,
    pub kind: Tok,
    pub comments: Vec<Comment<'a>>,
    /// Whether a blank line precedes the token (after its comments).
    pub blank_before: bool,
    /// Whether whitespace or a comment separates it from the token before.
    pub spaced: bool,
}

/// The tokens of `text`, plus a last empty token that holds the comments at the end of the file.
/// `None` when the lexer found an unterminated string or comment (never so in a file that
/// parses). Other characters (`<`, `&` in a param type that `lpc check` rejects) are tokens.
pub(super) fn tokens(text: &str) -> Option<Vec<Token<'_>>> {
    let lexed = lex::lex(text);
    let mut tokens = Vec::with_capacity(lexed.list.len() + 1);
    let mut prev_end = None;
    for token in &lexed.list {
        if matches!(token.kind, Tok::UnterminatedStr | Tok::UnterminatedComment) {
            return None;
        }
        let gap = text.get(prev_end.unwrap_or(0)..token.start)?;
        let body = text.get(token.start..token.end)?;
        let body = if token.kind == Tok::Doc {
            body.trim_end()
        } else {
            body
        };
        tokens.push(with_gap(body, token.kind, gap, prev_end.is_none())?);
        prev_end = Some(token.end);
    }
    let gap = text.get(prev_end.unwrap_or(0)..)?;
    tokens.push(with_gap("", Tok::Punct, gap, prev_end.is_none())?);
    Some(tokens)
}

/// A token of `kind` whose text is `body`, preceded by `gap` (whitespace and comments).
fn with_gap<'a>(body: &'a str, kind: Tok, gap: &'a str, first: bool) -> Option<Token<'a>> {
    let mut comments = Vec::new();
    let mut newlines = if first { 1 } else { 0 };
    let mut rest = gap;
    while let Some(c) = rest.chars().next() {
        if lex::is_whitespace(c) {
            newlines += usize::from(c == '\n');
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let len = comment_len(rest)?;
        let raw = &rest[..len];
        let is_line = raw.starts_with("//");
        comments.push(Comment {
            text: if is_line { raw.trim_end() } else { raw },
            is_line,
            own_line: newlines > 0,
            blank_before: newlines > 1,
        });
        newlines = 0;
        rest = &rest[len..];
    }
    Some(Token {
        text: body,
        kind,
        comments,
        blank_before: newlines > 1,
        spaced: !gap.is_empty(),
    })
}

/// Length of the comment at the start of `s`; `None` if `s` does not start with a complete one.
fn comment_len(s: &str) -> Option<usize> {
    if s.starts_with("//") {
        return Some(s.find('\n').unwrap_or(s.len()));
    }
    if !s.starts_with("/*") {
        return None;
    }
    let bytes = s.as_bytes();
    let (mut level, mut j) = (0usize, 0usize);
    while j < bytes.len() {
        if bytes[j..].starts_with(b"/*") {
            level += 1;
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
