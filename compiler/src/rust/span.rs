//! Turning syn's line/column spans (proc-macro2 `span-locations`) into byte offsets of our files.

use crate::diag::{FileId, Span};
use proc_macro2::LineColumn;

/// Byte offsets of line starts in one file, to convert line/column positions.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// The byte offset of a 1-based line and 0-based character column, clamped to the text.
    fn offset(&self, at: LineColumn) -> usize {
        let Some(&start) = self.starts.get(at.line.saturating_sub(1)) else {
            return self.text.len();
        };
        let line = &self.text[start..];
        let within = line
            .char_indices()
            .nth(at.column)
            .map_or(line.len(), |(i, _)| i);
        start + within
    }

    /// The span of a syn/proc-macro2 span in `file`.
    pub fn span(&self, file: FileId, span: proc_macro2::Span) -> Span {
        let start = self.offset(span.start());
        let end = self.offset(span.end()).max(start);
        Span::new(file, start..end)
    }
}
