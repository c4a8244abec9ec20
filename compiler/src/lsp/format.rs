//! Formatting: the whole document through `lpc fmt`'s formatter, as one edit.

use super::position::{LineIndex, LspPositions as _};
use crate::fmt;
use lsp_types::TextEdit;

/// The edits that format `text`: none when it is formatted already, `None` when it cannot be
/// formatted (syntax errors, which the diagnostics show).
pub fn format(text: &str) -> Option<Vec<TextEdit>> {
    let formatted = fmt::format(text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    Some(vec![TextEdit::new(LineIndex::new(text).whole(), formatted)])
}
