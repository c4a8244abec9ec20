//! Turning syn's line/column spans (proc-macro2 `span-locations`) into byte offsets of our files.

use crate::diag::{FileId, LineIndex, Span};
use proc_macro2::LineColumn;

/// Converts syn/proc-macro2 spans with a file's [`LineIndex`].
pub trait SynSpans {
    /// The span of a syn/proc-macro2 span in `file`.
    fn span(&self, file: FileId, span: proc_macro2::Span) -> Span;
}

impl SynSpans for LineIndex<'_> {
    fn span(&self, file: FileId, span: proc_macro2::Span) -> Span {
        let start = offset(self, span.start());
        let end = offset(self, span.end()).max(start);
        Span::new(file, start..end)
    }
}

/// The byte offset of a 1-based line and 0-based character column, clamped to the text.
fn offset(index: &LineIndex, at: LineColumn) -> usize {
    let text = index.text();
    let Some(start) = index.line_start(at.line.saturating_sub(1)) else {
        return text.len();
    };
    let line = &text[start..];
    let within = line
        .char_indices()
        .nth(at.column)
        .map_or(line.len(), |(i, _)| i);
    start + within
}
