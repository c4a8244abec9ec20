//! `lpc lsp`: a language server for `.lp` files over stdio.
//!
//! - diagnostics on open, change and save: those of `lpc check FILE` (`lsp/diagnostics.rs`), with
//!   related information into the user's `.rs` files; syntax diagnostics for `untitled:` buffers;
//! - go to definition from a node's type or constructor to the Rust item (`lsp/definition.rs`);
//! - hover on a node or group: kind, type, replica count, callable methods (`lsp/hover.rs`);
//! - formatting with `lpc fmt`'s formatter (`lsp/format.rs`);
//! - document and workspace symbols (`lsp/symbols.rs`); references and rename of params, nodes,
//!   groups and processes (`lsp/rename.rs`);
//! - completion (`lsp/completion.rs`) and signature help (`lsp/signature.rs`), both from where the
//!   cursor is in half-typed text (`lsp/context.rs`);
//! - semantic tokens (`lsp/tokens.rs`), code actions from the diagnostics' `help:`
//!   (`lsp/actions.rs`), inlay hints for replica counts and argument types (`lsp/hints.rs`).
//!
//! One thread handles messages in order. Changes are coalesced: a document is checked when no
//! message is waiting, so a burst of edits is checked once, at its last version. A document is
//! parsed once per version (`lsp/documents.rs`), from its last parse where only part of it
//! changed (`lsp/reparse.rs`), and a package's crate is loaded once and reused
//! until one of its files changes (`lsp/crates.rs`); while idle, the server looks for changed
//! Rust files itself and checks the open documents again. Every handler runs under
//! `catch_unwind`: a bug answers one request with an error instead of ending the server.

mod actions;
mod analysis;
mod completion;
mod context;
mod crates;
mod definition;
mod diagnostics;
mod documents;
mod format;
mod hints;
mod hover;
mod lookup;
mod position;
mod rename;
mod reparse;
mod requests;
mod server;
mod signature;
mod symbols;
#[cfg(test)]
mod tests;
mod tokens;
mod uri;

use lsp_server::{Connection, Message, Response};
use lsp_types::notification::{Exit, Notification as _};
use lsp_types::request::{Request as _, Shutdown};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, CompletionOptions,
    HoverProviderCapability, InitializeResult, OneOf, RenameOptions, SaveOptions,
    SemanticTokensFullOptions, SemanticTokensOptions, SemanticTokensServerCapabilities,
    ServerCapabilities, ServerInfo, SignatureHelpOptions, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};
use server::Server;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

/// How often an idle server looks for changed Rust files.
const POLL: Duration = Duration::from_millis(500);

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
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some([":", "=", "(", ",", "{", " "].map(String::from).to_vec()),
            ..CompletionOptions::default()
        }),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["(".into(), ",".into()]),
            retrigger_characters: Some(vec![":".into()]),
            work_done_progress_options: Default::default(),
        }),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: tokens::legend(),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                range: None,
                work_done_progress_options: Default::default(),
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        inlay_hint_provider: Some(OneOf::Left(true)),
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

    let mut server = Server::new(&connection, &params);
    if params["capabilities"]["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] == true {
        server.watch_rust_files();
    }
    let inbox = forward(&connection);
    while let Some(message) = next_message(&inbox, &mut server) {
        match message {
            Message::Request(request) if request.method == Shutdown::METHOD => {
                server.send(Message::Response(Response::new_ok(request.id, ())));
                return wait_for_exit(&inbox);
            }
            Message::Request(request) => {
                let response = server.request(request);
                server.send(Message::Response(response));
            }
            Message::Notification(notification) => server.notification(notification),
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// The connection's messages, read ahead as they arrive: the connection hands a message over
/// only when it is asked for one, and a burst of changes can only be seen whole when it waits
/// in a queue.
fn forward(connection: &Connection) -> Receiver<Message> {
    let (sender, inbox) = std::sync::mpsc::channel();
    let receiver = connection.receiver.clone();
    std::thread::spawn(move || {
        for message in receiver {
            if sender.send(message).is_err() {
                break;
            }
        }
    });
    inbox
}

/// After `shutdown`: the `exit` notification, which must come next.
fn wait_for_exit(inbox: &Receiver<Message>) -> Result<(), String> {
    match inbox.recv_timeout(Duration::from_secs(30)) {
        Ok(Message::Notification(n)) if n.method == Exit::METHOD => Ok(()),
        Ok(message) => Err(format!("unexpected message after shutdown: {message:?}")),
        Err(e) => Err(format!("no exit notification after shutdown: {e}")),
    }
}

/// The next message, `None` when the client is gone. While messages are waiting, documents that
/// changed are not checked (a burst of changes is checked once, at its last version); when none
/// is, they are. An idle server looks for changed Rust files every [`POLL`].
fn next_message(inbox: &Receiver<Message>, server: &mut Server) -> Option<Message> {
    loop {
        if server.has_pending() {
            match inbox.try_recv() {
                Ok(message) => return Some(message),
                Err(TryRecvError::Empty) => server.publish_pending(),
                Err(TryRecvError::Disconnected) => return None,
            }
        } else {
            match inbox.recv_timeout(POLL) {
                Ok(message) => return Some(message),
                Err(RecvTimeoutError::Timeout) => server.recheck_changed_crates(),
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }
}
