//! Document symbols (programs holding params, nodes, groups and processes, processes holding
//! their nodes) and workspace symbols: the same, flattened, over every `.lp` file of the open
//! packages and workspace folders.

use super::position::{LineIndex, LspPositions as _};
use super::uri;
use lpc_build::diag::{Diagnostics, FileId};
use lpc_build::syntax::{self, ast};
use lsp_types::{DocumentSymbol, Location, SymbolInformation, SymbolKind};
use std::path::Path;

/// The symbols of a document's syntax tree.
pub fn document(file: &ast::File, text: &str) -> Vec<DocumentSymbol> {
    let index = LineIndex::new(text);
    file.items
        .iter()
        .filter_map(|item| match item {
            ast::Item::Program(program) => Some(program_symbol(program, text, &index)),
            ast::Item::Use(_) => None,
        })
        .collect()
}

fn program_symbol(program: &ast::Program, text: &str, index: &LineIndex) -> DocumentSymbol {
    let children = program
        .items
        .iter()
        .map(|item| match item {
            ast::ProgramItem::Param(param) => symbol(
                index,
                &param.name,
                &param.span,
                SymbolKind::CONSTANT,
                format!("param: {}", param.ty.name),
                Vec::new(),
            ),
            ast::ProgramItem::Node(node) => node_symbol(node, text, index),
            ast::ProgramItem::Process(process) => symbol(
                index,
                &process.name,
                &process.span,
                SymbolKind::MODULE,
                "process".into(),
                process
                    .nodes
                    .iter()
                    .map(|n| node_symbol(n, text, index))
                    .collect(),
            ),
        })
        .collect();
    symbol(
        index,
        &program.name,
        &program.span,
        SymbolKind::NAMESPACE,
        "program".into(),
        children,
    )
}

fn node_symbol(node: &ast::NodeDecl, text: &str, index: &LineIndex) -> DocumentSymbol {
    let (kind, detail) = match &node.count {
        Some(count) => (
            SymbolKind::ARRAY,
            format!(
                "group[{}] = {} {}",
                text.get(count.span.range.clone()).unwrap_or("?"),
                node.kind.as_str(),
                node.target
            ),
        ),
        None => (
            SymbolKind::OBJECT,
            format!("node = {} {}", node.kind.as_str(), node.target),
        ),
    };
    symbol(index, &node.name, &node.span, kind, detail, Vec::new())
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written, though deprecated
fn symbol(
    index: &LineIndex,
    name: &ast::Ident,
    whole: &lpc_build::diag::Span,
    kind: SymbolKind,
    detail: String,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name: name.name.clone(),
        detail: Some(detail),
        kind,
        tags: None,
        deprecated: None,
        range: index.range(whole.range.clone()),
        selection_range: index.range(name.span.range.clone()),
        children: (!children.is_empty()).then_some(children),
    }
}

/// The symbols of the `.lp` file at `path` (`text`, the editor's or the disk's) whose name
/// matches `query`, flattened: each names its container (`program`, `program::process`).
pub fn workspace(path: &Path, text: &str, query: &str, out: &mut Vec<SymbolInformation>) {
    let Some(uri) = uri::from_path(path) else {
        return;
    };
    let mut diagnostics = Diagnostics::default();
    let file = syntax::parse(FileId(0), text, &mut diagnostics);
    let query = query.to_lowercase();
    flatten(document(&file, text), None, &uri, &query, out);
}

#[allow(deprecated)] // `SymbolInformation::deprecated` must be written, though deprecated
fn flatten(
    symbols: Vec<DocumentSymbol>,
    container: Option<&str>,
    uri: &lsp_types::Uri,
    query: &str,
    out: &mut Vec<SymbolInformation>,
) {
    for symbol in symbols {
        if matches(&symbol.name, query) {
            out.push(SymbolInformation {
                name: symbol.name.clone(),
                kind: symbol.kind,
                tags: None,
                deprecated: None,
                location: Location::new(uri.clone(), symbol.selection_range),
                container_name: container.map(String::from),
            });
        }
        if let Some(children) = symbol.children {
            let inner = match container {
                Some(outer) => format!("{outer}::{}", symbol.name),
                None => symbol.name.clone(),
            };
            flatten(children, Some(&inner), uri, query, out);
        }
    }
}

/// Whether `query` (lower case) is a subsequence of `name`, ignoring case: `cp` finds
/// `consumer_producers`.
fn matches(name: &str, query: &str) -> bool {
    let mut wanted = query.chars().peekable();
    for c in name.chars().flat_map(char::to_lowercase) {
        if wanted.peek() == Some(&c) {
            wanted.next();
        }
    }
    wanted.peek().is_none()
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_subsequences_ignoring_case() {
        assert!(super::matches("consumer_producers", "cp"));
        assert!(super::matches("Producer", "prod"));
        assert!(super::matches("x", ""));
        assert!(!super::matches("consumer", "cx"));
    }
}
