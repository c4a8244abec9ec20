//! The open documents: the client's text of each, which may differ from the file on disk.

use lsp_types::Uri;
use std::collections::HashMap;

/// One open document.
#[derive(Debug, Clone)]
pub struct Document {
    pub text: String,
    /// The client's version of the text, echoed in published diagnostics.
    pub version: i32,
}

/// Open documents by URI.
#[derive(Debug, Default)]
pub struct Documents {
    open: HashMap<String, (Uri, Document)>,
}

impl Documents {
    /// Records a document's (new) text.
    pub fn set(&mut self, uri: Uri, text: String, version: i32) {
        self.open
            .insert(uri.as_str().to_string(), (uri, Document { text, version }));
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
