//! The open documents: the client's text of each, which may differ from the file on disk, and
//! its syntax tree, parsed once per version and shared by every request on that version. A new
//! version is parsed from the last parse where it can (`lsp/reparse.rs`): only what changed.
//! That is the last parse without diagnostics, kept while the versions after it have syntax
//! errors (or made back from the one after it, which was made from it).

use super::reparse::{self, Undo};
use lpc_build::diag::{Diagnostic, Diagnostics, FileId};
use lpc_build::syntax::{self, ast};
use lsp_types::Uri;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

/// The `FileId` of a document in its own parse and in the source map of its check.
pub const DOCUMENT: FileId = FileId(0);

/// One open document.
#[derive(Debug)]
pub struct Document {
    pub text: String,
    /// The client's version of the text, echoed in published diagnostics.
    pub version: i32,
    /// The parse of `text`, made on first use.
    parsed: OnceCell<Parsed>,
    /// The last parse without diagnostics made of an earlier version, and that version's
    /// text: the parse is made from it when only part of the text changed.
    earlier: RefCell<Option<Earlier>>,
    /// When the parse has diagnostics and was made from `earlier`'s: that text, and how to
    /// make its parse back for the next version.
    undo: RefCell<Option<(String, Undo)>>,
}

/// An earlier version of a document: its text and parse.
#[derive(Debug)]
struct Earlier {
    text: String,
    parsed: Parsed,
}

/// A document's syntax tree (recovered past errors) and its syntax diagnostics.
#[derive(Debug)]
pub struct Parsed {
    pub file: ast::File,
    pub diagnostics: Vec<Diagnostic>,
}

impl Document {
    /// A document with this text and version, not parsed yet.
    pub fn new(text: String, version: i32) -> Document {
        Document {
            text,
            version,
            parsed: OnceCell::new(),
            earlier: RefCell::new(None),
            undo: RefCell::new(None),
        }
    }

    /// The next version of this document: parsed, when it is, from this one's parse, or when
    /// that has diagnostics (or was never made), from the one this one was to be parsed from.
    fn next(self, text: String, version: i32) -> Document {
        let earlier = match (self.parsed.into_inner(), self.undo.into_inner()) {
            (Some(parsed), _) if parsed.diagnostics.is_empty() => Some(Earlier {
                text: self.text,
                parsed,
            }),
            (Some(parsed), Some((text, undo))) => Some(Earlier {
                text,
                parsed: undo.apply(parsed),
            }),
            _ => self.earlier.into_inner(),
        };
        Document {
            earlier: RefCell::new(earlier),
            ..Document::new(text, version)
        }
    }

    /// The parse of the text (as [`DOCUMENT`]), made once.
    pub fn parsed(&self) -> &Parsed {
        self.parsed.get_or_init(|| {
            let mut earlier = self.earlier.borrow_mut();
            if let Some(Earlier { text, parsed }) = earlier.take() {
                match reparse::reparse(&text, parsed, &self.text) {
                    Ok((parsed, undo)) => {
                        if !parsed.diagnostics.is_empty() {
                            *self.undo.borrow_mut() = undo.map(|undo| (text, undo));
                        }
                        return parsed;
                    }
                    // Kept for the next version, should this one's parse have diagnostics.
                    Err(parsed) => *earlier = Some(Earlier { text, parsed }),
                }
            }
            #[cfg(test)]
            WHOLE_PARSES.with(|n| n.set(n.get() + 1));
            let mut diagnostics = Diagnostics::default();
            let file = syntax::parse(DOCUMENT, &self.text, &mut diagnostics);
            Parsed {
                file,
                diagnostics: diagnostics.iter().cloned().collect(),
            }
        })
    }
}

#[cfg(test)]
thread_local! {
    /// How many whole texts this thread's documents parsed, not from an earlier parse.
    pub static WHOLE_PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Open documents by URI.
#[derive(Debug, Default)]
pub struct Documents {
    open: HashMap<String, (Uri, Document)>,
}

impl Documents {
    /// Records a document's (new) text.
    pub fn set(&mut self, uri: Uri, text: String, version: i32) {
        let document = match self.open.remove(uri.as_str()) {
            Some((_, earlier)) => earlier.next(text, version),
            None => Document::new(text, version),
        };
        self.open.insert(uri.as_str().to_string(), (uri, document));
    }

    /// Forgets a closed document.
    pub fn close(&mut self, uri: &Uri) {
        self.open.remove(uri.as_str());
    }

    /// The open document at `uri`.
    pub fn get(&self, uri: &Uri) -> Option<&Document> {
        self.open.get(uri.as_str()).map(|(_, d)| d)
    }

    /// Every open document's URI.
    pub fn uris(&self) -> Vec<Uri> {
        self.open.values().map(|(u, _)| u.clone()).collect()
    }
}
