//! Rendering diagnostics in rustc's style through codespan-reporting (colour optional). (The
//! `lpc` command also renders them as JSON lines, for editors and CI.)

use super::{Diagnostic, Severity, SourceMap};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor::WriteColor};
use std::borrow::Cow;
use std::ops::Range;

/// Writes diagnostics in rustc's style to `out` (colours if `out` supports them).
pub fn human(
    sources: &SourceMap,
    diagnostics: &[&Diagnostic],
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let shown: Vec<Shown> = sources.files().map(|(_, f)| Shown::new(&f.text)).collect();
    let mut files = SimpleFiles::new();
    for ((_, file), shown) in sources.files().zip(&shown) {
        files.add(file.name.as_str(), shown.text.as_ref());
    }
    let config = term::Config::default();
    for diagnostic in diagnostics {
        let diagnostic = to_codespan(diagnostic, &shown);
        term::emit_to_write_style(out, &config, &files, &diagnostic).map_err(|e| match e {
            codespan_reporting::files::Error::Io(io) => io,
            other => std::io::Error::other(other.to_string()),
        })?;
    }
    Ok(())
}

/// Renders to a colour-free string (for snapshots and build scripts).
pub fn human_string(sources: &SourceMap, diagnostics: &[&Diagnostic]) -> String {
    let mut buffer = term::termcolor::NoColor::new(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = human(sources, diagnostics, &mut buffer);
    String::from_utf8_lossy(&buffer.into_inner()).into_owned()
}

/// A file's text as shown in a terminal: each control character but tab and line ends becomes a
/// visible picture (`␀` for U+0000, so that a caret can point at it), which takes more bytes, so
/// label offsets are shifted to match.
struct Shown<'a> {
    text: Cow<'a, str>,
    /// Byte offset in the file of each replaced character, and the bytes added up to and
    /// including its picture.
    shifts: Vec<(usize, usize)>,
}

impl<'a> Shown<'a> {
    fn new(text: &'a str) -> Self {
        if !text.chars().any(is_unprintable) {
            return Shown {
                text: Cow::Borrowed(text),
                shifts: Vec::new(),
            };
        }
        let mut shown = String::with_capacity(text.len());
        let mut shifts = Vec::new();
        let mut added = 0;
        for (i, c) in text.char_indices() {
            if !is_unprintable(c) {
                shown.push(c);
                continue;
            }
            let picture = control_picture(c);
            shown.push(picture);
            added += picture.len_utf8() - c.len_utf8();
            shifts.push((i, added));
        }
        Shown {
            text: Cow::Owned(shown),
            shifts,
        }
    }

    /// The offset in the shown text of byte `offset` of the file.
    fn offset(&self, offset: usize) -> usize {
        let before = self.shifts.partition_point(|&(at, _)| at < offset);
        let added = before.checked_sub(1).map_or(0, |i| self.shifts[i].1);
        offset + added
    }

    fn range(&self, range: &Range<usize>) -> Range<usize> {
        self.offset(range.start)..self.offset(range.end)
    }
}

/// Whether a terminal would not show `c` as a character of its own.
fn is_unprintable(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The Unicode "control picture" of a C0 control character or DEL; U+FFFD for the others.
fn control_picture(c: char) -> char {
    match u32::from(c) {
        code @ 0..=0x1F => char::from_u32(0x2400 + code).unwrap_or(char::REPLACEMENT_CHARACTER),
        0x7F => '\u{2421}',
        _ => char::REPLACEMENT_CHARACTER,
    }
}

fn to_codespan(diagnostic: &Diagnostic, shown: &[Shown]) -> cs::Diagnostic<usize> {
    let severity = match diagnostic.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let labels = diagnostic
        .labels
        .iter()
        .map(|label| {
            let style = if label.primary {
                cs::LabelStyle::Primary
            } else {
                cs::LabelStyle::Secondary
            };
            let range = match shown.get(label.span.file.0) {
                Some(shown) => shown.range(&label.span.range),
                None => label.span.range.clone(),
            };
            cs::Label::new(style, label.span.file.0, range).with_message(label.message.clone())
        })
        .collect();
    let mut notes: Vec<String> = diagnostic
        .notes
        .iter()
        .map(|n| format!("note: {n}"))
        .collect();
    if let Some(help) = &diagnostic.help {
        notes.push(format!("help: {help}"));
    }
    cs::Diagnostic::new(severity)
        .with_code(diagnostic.code.as_str())
        .with_message(diagnostic.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}
