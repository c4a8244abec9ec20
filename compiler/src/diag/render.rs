//! Rendering diagnostics: human-readable through codespan-reporting, or one JSON object per line.
