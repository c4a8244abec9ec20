//! The server's state — open documents, loaded crates, documents waiting to be checked — and
//! what notifications do to it.

use super::analysis::Analysis;
use super::crates::Crates;
use super::diagnostics;
use super::documents::Documents;
use super::uri;
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{RegisterCapability, Request as _};
use lsp_types::{
    DidChangeTextDocumentParams, DidChangeWatchedFilesRegistrationOptions,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    FileSystemWatcher, GlobPattern, PublishDiagnosticsParams, Registration, RegistrationParams,
    Uri,
};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// The state of one running server.
pub struct Server<'c> {
    connection: &'c Connection,
    pub(super) documents: Documents,
    pub(super) crates: Crates,
    /// Documents changed since their diagnostics were last published, by URI: checked when no
    /// message is waiting.
    pending: BTreeMap<String, Uri>,
    /// The workspace folders (or root) the client opened, searched for workspace symbols.
    pub(super) roots: Vec<PathBuf>,
}

impl<'c> Server<'c> {
    /// A server on `connection`, initialized with the client's `initialize` params.
    pub fn new(connection: &'c Connection, params: &serde_json::Value) -> Server<'c> {
        let folders = params["workspaceFolders"].as_array().into_iter().flatten();
        let uris = folders
            .map(|f| &f["uri"])
            .chain([&params["rootUri"]])
            .filter_map(|u| u.as_str()?.parse::<Uri>().ok());
        let mut roots: Vec<PathBuf> = uris.filter_map(|u| uri::to_path(&u)).collect();
        roots.dedup();
        Server {
            connection,
            documents: Documents::default(),
            crates: Crates::default(),
            pending: BTreeMap::new(),
            roots,
        }
    }

    /// Sends a message; the client may be gone, and then the loop ends when the receiver closes.
    pub fn send(&self, message: Message) {
        let _ = self.connection.sender.send(message);
    }

    /// The analysis of an open document.
    pub fn analysis(&mut self, uri: &Uri) -> Option<Analysis<'_>> {
        let path = uri::to_path(uri);
        let krate = path
            .as_deref()
            .and_then(|p| self.crates.for_document(p).ok());
        let document = self.documents.get(uri)?;
        Some(Analysis::new(document, path, krate))
    }

    /// Asks the client to report changes to `.rs` files and manifests, which every open
    /// document is checked against (answered by `workspace/didChangeWatchedFiles`).
    pub fn watch_rust_files(&self) {
        let registration = Registration {
            id: "lpc-watch-rust".into(),
            method: DidChangeWatchedFiles::METHOD.into(),
            register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions {
                watchers: ["**/*.rs", "**/Cargo.toml"]
                    .into_iter()
                    .map(|glob| FileSystemWatcher {
                        glob_pattern: GlobPattern::String(glob.into()),
                        kind: None,
                    })
                    .collect(),
            })
            .ok(),
        };
        self.send(Message::Request(Request::new(
            RequestId::from("lpc-watch-rust".to_string()),
            RegisterCapability::METHOD.into(),
            RegistrationParams {
                registrations: vec![registration],
            },
        )));
    }

    /// Handles a notification; a bug is reported on stderr, and the server goes on.
    pub fn notification(&mut self, notification: Notification) {
        let method = notification.method.clone();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.notified(notification)));
        if outcome.is_err() {
            eprintln!("lpc lsp failed on `{method}`: please report it");
        }
    }

    fn notified(&mut self, notification: Notification) {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) =
                    notification.extract::<DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD)
                {
                    let doc = p.text_document;
                    self.documents.set(doc.uri.clone(), doc.text, doc.version);
                    self.changed(doc.uri);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = notification
                    .extract::<DidChangeTextDocumentParams>(DidChangeTextDocument::METHOD)
                {
                    // Full synchronization: the last change holds the whole text.
                    if let Some(change) = p.content_changes.into_iter().last() {
                        let uri = p.text_document.uri;
                        self.documents
                            .set(uri.clone(), change.text, p.text_document.version);
                        self.changed(uri);
                    }
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) =
                    notification.extract::<DidSaveTextDocumentParams>(DidSaveTextDocument::METHOD)
                {
                    self.changed(p.text_document.uri);
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    notification.extract::<DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
                {
                    let uri = p.text_document.uri;
                    self.pending.remove(uri.as_str());
                    self.documents.close(&uri);
                    self.send_diagnostics(uri, Vec::new(), None);
                }
            }
            // A `.rs` (or `.lp`) file changed on disk: what every open document is checked
            // against may have changed.
            DidChangeWatchedFiles::METHOD => {
                self.crates.forget_all();
                for uri in self.documents.uris() {
                    self.changed(uri);
                }
            }
            _ => {}
        }
    }

    /// Marks a document to be checked once no message is waiting.
    fn changed(&mut self, uri: Uri) {
        self.pending.insert(uri.as_str().to_string(), uri);
    }

    /// Whether some document waits to be checked.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Checks every document waiting for it and publishes its diagnostics.
    pub fn publish_pending(&mut self) {
        for (_, uri) in std::mem::take(&mut self.pending) {
            let outcome = catch_unwind(AssertUnwindSafe(|| self.publish(&uri)));
            if outcome.is_err() {
                eprintln!(
                    "lpc lsp failed to check `{}`: please report it",
                    uri.as_str()
                );
            }
        }
    }

    /// Looks for crates whose files changed and checks the open documents of their packages
    /// again (for clients that do not watch files).
    pub fn recheck_changed_crates(&mut self) {
        let stale = self.crates.forget_stale();
        if stale.is_empty() {
            return;
        }
        for uri in self.documents.uris() {
            if uri::to_path(&uri).is_some_and(|p| stale.iter().any(|dir| p.starts_with(dir))) {
                self.changed(uri);
            }
        }
    }

    /// Checks an open document and publishes its diagnostics.
    fn publish(&mut self, uri: &Uri) {
        let Some(document) = self.documents.get(uri) else {
            return;
        };
        let path = uri::to_path(uri);
        let (diagnostics, checked) =
            diagnostics::check(path.as_deref(), document, &mut self.crates);
        let version = document.version;
        self.send_diagnostics(uri.clone(), diagnostics, Some(version));
        drop(checked);
    }

    fn send_diagnostics(
        &self,
        uri: Uri,
        diagnostics: Vec<lsp_types::Diagnostic>,
        version: Option<i32>,
    ) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.send(Message::Notification(Notification::new(
            PublishDiagnostics::METHOD.to_string(),
            params,
        )));
    }
}
