//! Answering requests: each method's params are read, the document's analysis is made (its
//! parse and its crate, both cached), and a feature module answers.

use super::analysis::Analysis;
use super::position::{LineIndex, LspPositions as _};
use super::server::Server;
use super::{actions, completion, definition, format, hints, hover, rename, signature, symbols};
use super::{tokens, uri};
use lpc_build::driver;
use lsp_server::{ErrorCode, Request, RequestId, Response};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    InlayHintRequest, PrepareRenameRequest, References, Rename, Request as _,
    SemanticTokensFullRequest, SignatureHelpRequest, WorkspaceSymbolRequest,
};
use lsp_types::{
    CodeActionParams, CompletionParams, DocumentFormattingParams, DocumentSymbolParams,
    GotoDefinitionResponse, Hover, HoverContents, InlayHintParams, Location, MarkupContent,
    MarkupKind, PrepareRenameResponse, ReferenceParams, RenameParams, SemanticTokens,
    SemanticTokensParams, SignatureHelpParams, TextDocumentPositionParams, TextEdit, WorkspaceEdit,
    WorkspaceSymbolParams,
};
use std::collections::{BTreeSet, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// A request handler's outcome: a result to send, or an error code and message.
type Answer = Result<serde_json::Value, (ErrorCode, String)>;

impl Server<'_> {
    /// Answers a request; a bug answers it with an error, and the server goes on.
    pub fn request(&mut self, request: Request) -> Response {
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
            GotoDefinition::METHOD => to_json(self.definition(params(request)?)),
            HoverRequest::METHOD => to_json(self.hover(params(request)?)),
            Formatting::METHOD => {
                let params: DocumentFormattingParams = params(request)?;
                let document = self.documents.get(&params.text_document.uri);
                to_json(document.and_then(|d| format::format(&d.text)))
            }
            DocumentSymbolRequest::METHOD => {
                let params: DocumentSymbolParams = params(request)?;
                let analysis = self.analysis(&params.text_document.uri);
                to_json(analysis.map(|a| symbols::document(a.file, a.text)))
            }
            WorkspaceSymbolRequest::METHOD => to_json(self.workspace_symbols(params(request)?)),
            References::METHOD => to_json(self.references(params(request)?)),
            PrepareRenameRequest::METHOD => self.prepare_rename(params(request)?),
            Rename::METHOD => self.rename(params(request)?),
            Completion::METHOD => {
                let params: CompletionParams = params(request)?;
                let at = self.at(&params.text_document_position);
                to_json(at.map(|(a, offset)| completion::complete(&a, offset)))
            }
            SignatureHelpRequest::METHOD => {
                let params: SignatureHelpParams = params(request)?;
                let at = self.at(&params.text_document_position_params);
                to_json(at.and_then(|(a, offset)| signature::help(&a, offset)))
            }
            SemanticTokensFullRequest::METHOD => {
                let params: SemanticTokensParams = params(request)?;
                let analysis = self.analysis(&params.text_document.uri);
                to_json(analysis.map(|a| SemanticTokens {
                    result_id: None,
                    data: tokens::tokens(&a),
                }))
            }
            CodeActionRequest::METHOD => {
                let params: CodeActionParams = params(request)?;
                let uri = params.text_document.uri;
                let analysis = self.analysis(&uri);
                to_json(analysis.map(|a| actions::actions(&a, &uri, &params.context.diagnostics)))
            }
            InlayHintRequest::METHOD => {
                let params: InlayHintParams = params(request)?;
                let analysis = self.analysis(&params.text_document.uri);
                to_json(analysis.map(|a| {
                    let within = LineIndex::new(a.text).offsets(params.range);
                    hints::hints(&a, within)
                }))
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("lpc lsp does not handle `{other}`"),
            )),
        }
    }

    /// The analysis of the document a position is in, and the position's byte offset.
    fn at(&mut self, at: &TextDocumentPositionParams) -> Option<(Analysis<'_>, usize)> {
        let analysis = self.analysis(&at.text_document.uri)?;
        let offset = LineIndex::new(analysis.text).offset(at.position);
        Some((analysis, offset))
    }

    fn definition(
        &mut self,
        params: lsp_types::GotoDefinitionParams,
    ) -> Option<GotoDefinitionResponse> {
        let (analysis, offset) = self.at(&params.text_document_position_params)?;
        let span = definition::definition(&analysis, offset)?;
        let (path, text) = analysis.file_of(&span)?;
        let range = LineIndex::new(text).range(span.range);
        Some(GotoDefinitionResponse::Scalar(Location::new(
            uri::from_path(&path)?,
            range,
        )))
    }

    fn hover(&mut self, params: lsp_types::HoverParams) -> Option<Hover> {
        let (analysis, offset) = self.at(&params.text_document_position_params)?;
        let (value, span) = hover::hover(&analysis, offset)?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            }),
            range: Some(LineIndex::new(analysis.text).range(span.range)),
        })
    }

    fn references(&mut self, params: ReferenceParams) -> Option<Vec<Location>> {
        let uri = params.text_document_position.text_document.uri.clone();
        let (analysis, offset) = self.at(&params.text_document_position)?;
        let occurrences = rename::at(&analysis, offset).ok()??;
        let index = LineIndex::new(analysis.text);
        let spans = occurrences.spans(params.context.include_declaration);
        let locations = spans
            .into_iter()
            .map(|s| Location::new(uri.clone(), index.range(s.range.clone())));
        Some(locations.collect())
    }

    fn prepare_rename(&mut self, params: TextDocumentPositionParams) -> Answer {
        let Some((analysis, offset)) = self.at(&params) else {
            return to_json(None::<()>);
        };
        let occurrences = rename::at(&analysis, offset).map_err(refused)?;
        let index = LineIndex::new(analysis.text);
        let under = occurrences.and_then(|o| {
            let spans = o.spans(true);
            let span = spans
                .into_iter()
                .find(|s| s.range.start <= offset && offset <= s.range.end)?;
            let range = index.range(span.range.clone());
            Some(PrepareRenameResponse::RangeWithPlaceholder {
                range,
                placeholder: o.name.to_string(),
            })
        });
        to_json(under)
    }

    fn rename(&mut self, params: RenameParams) -> Answer {
        let uri = params.text_document_position.text_document.uri.clone();
        let Some((analysis, offset)) = self.at(&params.text_document_position) else {
            return to_json(None::<()>);
        };
        let Some(occurrences) = rename::at(&analysis, offset).map_err(refused)? else {
            return to_json(None::<()>);
        };
        if let Some(why) = rename::refuse(&occurrences, &params.new_name) {
            return Err(refused(why));
        }
        let index = LineIndex::new(analysis.text);
        let edits = occurrences
            .spans(true)
            .into_iter()
            .map(|s| TextEdit::new(index.range(s.range.clone()), params.new_name.clone()))
            .collect();
        to_json(WorkspaceEdit {
            changes: Some(HashMap::from([(uri, edits)])),
            ..WorkspaceEdit::default()
        })
    }

    /// The symbols matching the query in every `.lp` file of the workspace folders and of the
    /// packages of open documents (open documents as the editor has them).
    fn workspace_symbols(
        &mut self,
        params: WorkspaceSymbolParams,
    ) -> Vec<lsp_types::SymbolInformation> {
        let open: Vec<(PathBuf, lsp_types::Uri)> = self
            .documents
            .uris()
            .into_iter()
            .filter_map(|u| Some((uri::to_path(&u)?, u)))
            .collect();
        let mut dirs: BTreeSet<PathBuf> = self.roots.iter().cloned().collect();
        dirs.extend(
            open.iter()
                .filter_map(|(p, _)| driver::find_package(p).ok()),
        );
        let mut files: BTreeSet<PathBuf> = dirs.iter().flat_map(|d| driver::lp_files(d)).collect();
        files.extend(open.iter().map(|(p, _)| p.clone()));
        let mut out = Vec::new();
        for path in files {
            let open_text = open
                .iter()
                .find(|(p, _)| *p == path)
                .and_then(|(_, u)| self.documents.get(u));
            let text = match open_text {
                Some(document) => document.text.clone(),
                None => std::fs::read_to_string(&path).unwrap_or_default(),
            };
            symbols::workspace(&path, &text, &params.query, &mut out);
        }
        out
    }
}

/// A request refused with a reason the editor shows.
fn refused(why: String) -> (ErrorCode, String) {
    (ErrorCode::RequestFailed, why)
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
