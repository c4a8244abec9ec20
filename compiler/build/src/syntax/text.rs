//! What makes a file not `.lp` text before any token: control characters (E0003) and bytes that
//! are not UTF-8 (E0004). A control character is reported where it is, then read as a space, so
//! that the lexer and the parser see around it and report nothing more about it.

use std::borrow::Cow;
use std::ops::Range;
use std::string::FromUtf8Error;

use super::lex::is_whitespace;
use crate::diag::{Code, Diagnostic, FileId, Span};

/// A file with more runs of control characters than this is not text (or not UTF-8: UTF-16
/// puts a NUL beside every ASCII character): only its first run is reported, with a note, and
/// the file is not parsed.
const MAX_REPORTED_RUNS: usize = 5;

/// Whether `c` is a control character the grammar does not allow: any but the whitespace ones
/// (tab, line feed, carriage return, form feed).
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !is_whitespace(c)
}

/// The byte ranges of the runs of control characters in `text`, in order.
fn control_runs(text: &str) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for (i, c) in text.char_indices() {
        if !is_forbidden_control(c) {
            continue;
        }
        let end = i + c.len_utf8();
        match runs.last_mut() {
            Some(run) if run.end == i => run.end = end,
            _ => runs.push(i..end),
        }
    }
    runs
}

/// `U+0000`, as a character is named in messages.
fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Reports the control characters of `text` (file `file`) and returns the text to parse: each
/// of them replaced by spaces of the same length in bytes, so that every offset stays the same.
/// `None` when there are so many that the file is not text: it is not parsed at all.
pub(crate) fn blank_controls<'a>(
    file: FileId,
    text: &'a str,
    report: &mut dyn FnMut(Diagnostic),
) -> Option<Cow<'a, str>> {
    let runs = control_runs(text);
    if runs.is_empty() {
        return Some(Cow::Borrowed(text));
    }
    if runs.len() > MAX_REPORTED_RUNS {
        let more = runs.len() - 1;
        let diagnostic = control_character(file, text, runs[0].clone())
            .note(format!(
                "{more} more runs of control characters follow: the file is not read as text \
                 (UTF-16 puts a NUL beside every ASCII character)"
            ))
            .help("save the file as UTF-8 text");
        report(diagnostic);
        return None;
    }
    for run in &runs {
        report(control_character(file, text, run.clone()));
    }
    let mut blanked = String::with_capacity(text.len());
    for c in text.chars() {
        if is_forbidden_control(c) {
            blanked.extend(std::iter::repeat_n(' ', c.len_utf8()));
        } else {
            blanked.push(c);
        }
    }
    Some(Cow::Owned(blanked))
}

/// E0003 for the run of control characters at `run` in `text`.
fn control_character(file: FileId, text: &str, run: Range<usize>) -> Diagnostic {
    let mut distinct: Vec<String> = Vec::new();
    let mut count = 0;
    for c in text.get(run.clone()).unwrap_or("").chars() {
        count += 1;
        let point = code_point(c);
        if !distinct.contains(&point) {
            distinct.push(point);
        }
    }
    let points = distinct.join(", ");
    let (message, label, help) = if count == 1 {
        (
            format!("control character {points} in the source"),
            "control character".to_owned(),
            format!("remove the control character {points}"),
        )
    } else {
        (
            format!("{count} control characters in the source ({points})"),
            format!("{count} control characters"),
            format!("remove the control characters {points}"),
        )
    };
    Diagnostic::new(Code::ControlCharacter, message)
        .primary(Span::new(file, run), label)
        .help(help)
}

/// E0004 for a file that is not UTF-8; `file` holds its text decoded lossily (each invalid
/// sequence is one U+FFFD, so the text before the first one is as in the file).
pub(crate) fn not_utf8(file: FileId, error: &FromUtf8Error) -> Diagnostic {
    let bytes = error.as_bytes();
    let at = error.utf8_error().valid_up_to();
    let len = error.utf8_error().error_len().unwrap_or(bytes.len() - at);
    let shown: Vec<String> = bytes[at..at + len]
        .iter()
        .map(|b| format!("0x{b:02X}"))
        .collect();
    let what = match shown.as_slice() {
        [one] => format!("byte {one} is not UTF-8"),
        many => format!("bytes {} are not UTF-8", many.join(" ")),
    };
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    let help = if utf16 {
        "the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"
    } else {
        "save the file as UTF-8"
    };
    // U+FFFD, the replacement of the invalid bytes, is three bytes long in the decoded text.
    let span = Span::new(file, at..at + char::REPLACEMENT_CHARACTER.len_utf8());
    Diagnostic::new(Code::NotUtf8, "this file is not valid UTF-8")
        .primary(span, what)
        .note("`.lp` files are UTF-8 text; nothing in this file is checked until it is")
        .help(help)
}
