//! Byte offsets ↔ LSP positions: zero-based lines, columns in UTF-16 code units (the protocol's
//! default encoding). Out-of-range positions are clamped, never a panic.

pub use lpc_build::diag::LineIndex;
use lsp_types::{Position, Range};

/// Converts LSP positions with a text's [`LineIndex`].
pub trait LspPositions {
    /// The position of a byte offset (clamped to the text, and back to a char boundary).
    fn position(&self, offset: usize) -> Position;
    /// The range of a byte range.
    fn range(&self, range: std::ops::Range<usize>) -> Range;
    /// The byte offset of a position: past the end of a line means its end, past the last line
    /// the end of the text.
    fn offset(&self, position: Position) -> usize;
    /// The range of the whole text.
    fn whole(&self) -> Range;
    /// The byte range of a range.
    fn offsets(&self, range: Range) -> std::ops::Range<usize> {
        self.offset(range.start)..self.offset(range.end)
    }
}

impl LspPositions for LineIndex<'_> {
    fn position(&self, offset: usize) -> Position {
        let text = self.text();
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let start = self.line_start(line).unwrap_or(0);
        let character = text[start..offset].encode_utf16().count();
        Position::new(to_u32(line), to_u32(character))
    }

    fn range(&self, range: std::ops::Range<usize>) -> Range {
        Range::new(self.position(range.start), self.position(range.end))
    }

    fn offset(&self, position: Position) -> usize {
        let text = self.text();
        let Some(start) = self.line_start(position.line as usize) else {
            return text.len();
        };
        let line = &text[start..];
        let line = &line[..line.find('\n').unwrap_or(line.len())];
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        start + line.len()
    }

    fn whole(&self) -> Range {
        Range::new(Position::new(0, 0), self.position(self.text().len()))
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_utf16_units_and_clamps() {
        let text = "ab\né😀x\n";
        let index = LineIndex::new(text);
        let x = text.find('x').expect("x");
        assert_eq!(index.position(x), Position::new(1, 3));
        assert_eq!(index.offset(Position::new(1, 3)), x);
        assert_eq!(index.offset(Position::new(1, 99)), x + 1);
        assert_eq!(index.offset(Position::new(9, 0)), text.len());
        assert_eq!(index.position(999), Position::new(2, 0));
        // inside the emoji: back to its start
        assert_eq!(index.position(x - 1), Position::new(1, 1));
    }
}
