//! `lpc fmt`: the canonical layout of `.lp` files, like rustfmt's for Rust.
//!
//! [`format()`] refuses a file with syntax errors, then rewrites only the whitespace between
//! tokens — plus the order of imports inside `use a::{…}` and the trailing commas of lists —
//! keeping every comment in place. The layout: 4-space indentation; one item, block entry or
//! broken-list element per line; a blank line between top-level items, blank lines elsewhere
//! kept but collapsed to one; a bracketed list on one line when it fits in 100 columns, else one
//! element per line with a trailing comma; spaces around binary operators; literals as written.
//! Formatting is idempotent: `format(format(x)) == format(x)`.

mod layout;
mod printer;
mod trivia;

use std::fmt;

use lpc_build::diag::{Diagnostics, FileId};
use lpc_build::syntax;
use printer::{Printer, Stop};

/// Why [`format()`] left a file as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotFormatted {
    /// The file has this many syntax errors; `lpc check` reports them.
    SyntaxErrors(usize),
    /// The formatter could not lay the file out (a bug in the formatter), for this reason.
    Internal(String),
}

impl fmt::Display for NotFormatted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotFormatted::SyntaxErrors(_) => f.write_str("it has syntax errors: run `lpc check`"),
            NotFormatted::Internal(why) => {
                write!(f, "the formatter failed ({why}): please report it")
            }
        }
    }
}

impl std::error::Error for NotFormatted {}

/// Formats a whole `.lp` file. Err when the file has syntax errors (then it must not be
/// touched). Never panics.
pub fn format(text: &str) -> Result<String, NotFormatted> {
    let errors = syntax_errors(text);
    if errors > 0 {
        return Err(NotFormatted::SyntaxErrors(errors));
    }
    let tokens = trivia::tokens(text).ok_or_else(|| internal("an unexpected token"))?;
    let mut printer = Printer::new(tokens);
    printer.file().map_err(|stop| match stop {
        Stop::Bug(expected) => internal(&format!("expected {expected}")),
        Stop::Break => internal("a line break where none may be"),
    })?;
    let formatted = printer.finish();
    verify(text, &formatted)?;
    Ok(formatted)
}

/// The number of syntax errors in `text` (control characters included).
fn syntax_errors(text: &str) -> usize {
    let mut diags = Diagnostics::default();
    syntax::parse(FileId(0), text, &mut diags);
    diags.iter().filter(|d| d.code.is_syntax()).count()
}

/// Checks that `formatted` parses and holds the tokens and comments of `text` (in any order, for
/// the sorted imports; commas aside, for trailing commas), so that a formatter bug cannot
/// change a program or lose a comment.
fn verify(text: &str, formatted: &str) -> Result<(), NotFormatted> {
    if syntax_errors(formatted) > 0 {
        return Err(internal("the result does not parse"));
    }
    let words = |text| {
        let mut words: Vec<&str> = trivia::tokens(text)
            .unwrap_or_default()
            .iter()
            .flat_map(|t| t.comments.iter().map(|c| c.text).chain([t.text]))
            .filter(|&w| w != "," && !w.is_empty())
            .collect();
        words.sort_unstable();
        words
    };
    if words(text) != words(formatted) {
        return Err(internal("the result has other tokens or comments"));
    }
    Ok(())
}

fn internal(why: &str) -> NotFormatted {
    NotFormatted::Internal(why.to_owned())
}
