//! `lpc lsp`: a language server for `.lp` files over stdio.
//!
//! - diagnostics on open, change and save: those of `lpc check FILE` (`lsp/diagnostics.rs`), with
//!   related information into the user's `.rs` files;
//! - go to definition from a node's type or constructor to the Rust item (`lsp/definition.rs`);
//! - hover on a node or group: kind, type, replica count, callable methods (`lsp/hover.rs`);
//! - formatting with `lpc fmt`'s formatter (`lsp/format.rs`).
//!
//! One thread handles messages in order (checking a file takes milliseconds). Every handler runs
//! under `catch_unwind`: a bug answers one request with an error instead of ending the server.

mod analysis;
mod definition;
mod diagnostics;
mod documents;
mod format;
mod hover;
mod lookup;
mod position;
mod uri;

use analysis::Analysis;
use documents::Documents;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    Formatting, GotoDefinition, HoverRequest, RegisterCapability, Request as _,
};
use lsp_types::{
    DidChangeTextDocumentParams, DidChangeWatchedFilesRegistrationOptions,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    DocumentFormattingParams, FileSystemWatcher, GlobPattern, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, HoverProviderCapability,
    InitializeResult, Location, MarkupContent, MarkupKind, OneOf, PublishDiagnosticsParams,
    Registration, RegistrationParams, SaveOptions, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Uri,
};
use position::{LineIndex, LspPositions as _};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Serves LSP on stdin/stdout until the client asks to shut down and exit.
pub fn run() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    serve(connection)?;
    io_threads
        .join()
        .map_err(|e| format!("language server I/O failed: {e}"))
}

/// What the server can do.
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        definition_provider: Some(OneOf::Left(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// Runs the protocol on `connection`: the handshake, then messages until shutdown.
pub fn serve(connection: Connection) -> Result<(), String> {
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| format!("no LSP initialize request: {e}"))?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "lpc".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, result)
        .map_err(|e| format!("LSP initialization failed: {e}"))?;

    let mut server = Server {
        connection: &connection,
        documents: Documents::default(),
    };
    if params["capabilities"]["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] == true {
        server.watch_rust_files();
    }
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection
                    .handle_shutdown(&request)
                    .map_err(|e| format!("LSP shutdown failed: {e}"))?
                {
                    return Ok(());
                }
                let response = server.request(request);
                server.send(Message::Response(response));
            }
            Message::Notification(notification) => server.notification(notification),
            Message::Response(_) => {}
        }
    }
    Ok(())
}

struct Server<'c> {
    connection: &'c Connection,
    documents: Documents,
}

/// A request handler's outcome: a result to send, or an error code and message.
type Answer = Result<serde_json::Value, (ErrorCode, String)>;

impl Server<'_> {
    fn send(&self, message: Message) {
        // The client may be gone; then the loop ends when the receiver closes.
        let _ = self.connection.sender.send(message);
    }

    /// Asks the client to report changes to `.rs` files and manifests, which every open
    /// document is checked against (answered by `workspace/didChangeWatchedFiles`).
    fn watch_rust_files(&self) {
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

    fn request(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let method = request.method.clone();
        let answer = catch_unwind(AssertUnwindSafe(|| self.answer(request))).unwrap_or_else(|_| {
            Err((
                ErrorCode::InternalError,
                format!("lpc lsp failed on `{method}`: please report it"),
            ))
        });
        respond(id, answer)
    }

    fn answer(&mut self, request: Request) -> Answer {
        match request.method.as_str() {
            GotoDefinition::METHOD => {
                let params: GotoDefinitionParams = params(request)?;
                let at = params.text_document_position_params;
                let result = self.analyze(&at.text_document.uri, at.position).and_then(
                    |(analysis, offset)| {
                        let span = definition::definition(&analysis, offset)?;
                        let (path, text) = analysis.file_of(&span);
                        let uri = uri::from_path(&path)?;
                        let range = LineIndex::new(text).range(span.range);
                        Some(GotoDefinitionResponse::Scalar(Location::new(uri, range)))
                    },
                );
                to_json(result)
            }
            HoverRequest::METHOD => {
                let params: HoverParams = params(request)?;
                let at = params.text_document_position_params;
                let result = self.analyze(&at.text_document.uri, at.position).and_then(
                    |(analysis, offset)| {
                        let (value, span) = hover::hover(&analysis, offset)?;
                        let text = &analysis.sources.get(analysis::DOCUMENT).text;
                        Some(Hover {
                            contents: HoverContents::Markup(MarkupContent {
                                kind: MarkupKind::Markdown,
                                value,
                            }),
                            range: Some(LineIndex::new(text).range(span.range)),
                        })
                    },
                );
                to_json(result)
            }
            Formatting::METHOD => {
                let params: DocumentFormattingParams = params(request)?;
                let edits = self
                    .documents
                    .get(&params.text_document.uri)
                    .and_then(|d| format::format(&d.text));
                to_json(edits)
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("lpc lsp does not handle `{other}`"),
            )),
        }
    }

    /// The analysis of an open document and the byte offset of `position` in it.
    fn analyze(&self, uri: &Uri, position: lsp_types::Position) -> Option<(Analysis, usize)> {
        let path = uri::to_path(uri)?;
        let document = self.documents.get(uri)?;
        let offset = LineIndex::new(&document.text).offset(position);
        Some((Analysis::new(&path, &document.text), offset))
    }

    fn notification(&mut self, notification: Notification) {
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
                    self.publish(&doc.uri);
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
                        self.publish(&uri);
                    }
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) =
                    notification.extract::<DidSaveTextDocumentParams>(DidSaveTextDocument::METHOD)
                {
                    self.publish(&p.text_document.uri);
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    notification.extract::<DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
                {
                    let uri = p.text_document.uri;
                    self.documents.close(&uri);
                    self.send_diagnostics(uri, Vec::new(), None);
                }
            }
            // A `.rs` (or `.lp`) file changed on disk: what every open document is checked
            // against may have changed.
            DidChangeWatchedFiles::METHOD => {
                for uri in self.documents.uris() {
                    self.publish(&uri);
                }
            }
            _ => {}
        }
    }

    /// Checks an open document and publishes its diagnostics.
    fn publish(&self, uri: &Uri) {
        let Some(document) = self.documents.get(uri) else {
            return;
        };
        let diagnostics = match uri::to_path(uri) {
            Some(path) => diagnostics::check(&path, &document.text),
            None => Vec::new(), // not a local file: nothing to check it against
        };
        self.send_diagnostics(uri.clone(), diagnostics, Some(document.version));
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

fn params<P: serde::de::DeserializeOwned>(request: Request) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(request.params).map_err(|e| {
        (
            ErrorCode::InvalidParams,
            format!("invalid `{}` params: {e}", request.method),
        )
    })
}

fn to_json(value: impl serde::Serialize) -> Answer {
    serde_json::to_value(value).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

fn respond(id: RequestId, answer: Answer) -> Response {
    match answer {
        Ok(result) => Response::new_ok(id, result),
        Err((code, message)) => Response::new_err(id, code as i32, message),
    }
}

#[cfg(test)]
mod tests {
    use super::analysis::Analysis;
    use super::{definition, format, hover};
    use std::path::Path;

    /// Every prefix of a program (each a broken program but the last), queried at every offset:
    /// hover, definition and formatting answer or decline, never panic. Both without a package
    /// and inside one with the seed fixture's node types.
    #[test]
    fn no_prefix_of_a_program_and_no_offset_panics() {
        let text = "use crate::nodes::{Consumer, Producer as P};\n/// doc\nprogram p {\n    \
                    param n: u32 = 2;\n    group g[n * 2] = courier P::new() { env { A: \"x\" } }\n    \
                    process q { node c = courier Consumer::new(producers: g, x: g[0], y: [n]); }\n    \
                    node f = fn crate::nodes::setup(r: -n);\n}\n";
        let package = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            package.path().join("Cargo.toml"),
            "[package]\nname = \"seed\"\n",
        )
        .expect("write Cargo.toml");
        std::fs::create_dir(package.path().join("src")).expect("mkdir src");
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("build/tests/fixtures/seed/src");
        for file in ["lib.rs", "nodes.rs"] {
            std::fs::copy(fixture.join(file), package.path().join("src").join(file))
                .expect("copy the fixture");
        }
        let inside = package.path().join("x.lp");
        for path in [Path::new("/nonexistent/x.lp"), inside.as_path()] {
            for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let prefix = &text[..end];
                let analysis = Analysis::new(path, prefix);
                for offset in 0..=prefix.len() + 1 {
                    let _ = hover::hover(&analysis, offset);
                    let _ = definition::definition(&analysis, offset);
                }
                let _ = format::format(prefix);
            }
        }
        // Inside the package, the whole program resolves against the fixture's types.
        let analysis = Analysis::new(&inside, text);
        let at = text.find("Consumer::new").expect("in the text");
        let (shown, _) = hover::hover(&analysis, at).expect("a hover on `Consumer`");
        assert!(shown.contains("crate::nodes::Consumer"), "{shown}");
        assert!(definition::definition(&analysis, at).is_some());
    }
}
