//! The diagnostics of an open `.lp` document: exactly what `lpc check FILE` reports (through
//! [`driver::check_sources`], with the editor's unsaved text), as LSP diagnostics on that
//! document. Labels elsewhere — the user's `.rs` files — become related information; a problem
//! found in a `.rs` file is shown where the `.lp` file points at it (or on its first line).

use super::position::{LineIndex, LspPositions as _};
use super::uri;
use lpc_build::diag::{self, Diagnostics, FileId, Severity, SourceMap};
use lpc_build::driver;
use lpc_build::syntax;
use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range,
};
use std::path::Path;

/// The diagnostics of the document at `path` whose text is `text`.
pub fn check(path: &Path, text: &str) -> Vec<Diagnostic> {
    let checked = driver::find_package(path).and_then(|package| {
        driver::check_sources(&package, &[(path.to_path_buf(), text.to_string())])
    });
    match checked {
        Ok(checked) => convert(&checked.sources, &checked.diagnostics),
        Err(error) => {
            // No package to check against: still report what the parser finds.
            let mut sources = SourceMap::default();
            let mut diagnostics = Diagnostics::default();
            let id = sources.add(path.display().to_string(), text);
            syntax::parse(id, text, &mut diagnostics);
            let mut out = convert(&sources, &diagnostics);
            out.push(Diagnostic {
                range: Range::default(),
                severity: Some(DiagnosticSeverity::WARNING),
                source: Some("lpc".into()),
                message: format!("not checked against Rust: {error}"),
                ..Diagnostic::default()
            });
            out
        }
    }
}

/// Converts the diagnostics of a check whose document is file 0 of `sources`.
fn convert(sources: &SourceMap, diagnostics: &Diagnostics) -> Vec<Diagnostic> {
    let document = FileId(0);
    let index = LineIndex::new(&sources.get(document).text);
    diagnostics
        .iter()
        .map(|d| {
            // Where to show it: the primary label if it is in the document, else the first
            // label that is, else the first line.
            let shown = d
                .labels
                .iter()
                .position(|l| l.primary && l.span.file == document)
                .or_else(|| d.labels.iter().position(|l| l.span.file == document));
            let range = shown.map_or_else(Range::default, |i| {
                index.range(d.labels[i].span.range.clone())
            });
            let related: Vec<DiagnosticRelatedInformation> = d
                .labels
                .iter()
                .enumerate()
                .filter(|&(i, _)| Some(i) != shown)
                .filter_map(|(_, label)| related(sources, label))
                .collect();
            Diagnostic {
                range,
                severity: Some(match d.severity {
                    Severity::Error => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.as_str().to_string())),
                source: Some("lpc".into()),
                message: message(d),
                related_information: (!related.is_empty()).then_some(related),
                ..Diagnostic::default()
            }
        })
        .collect()
}

/// The message, with the notes and the help, as `lpc check` prints them.
fn message(d: &diag::Diagnostic) -> String {
    let mut message = d.message.clone();
    for note in &d.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    message
}

/// A label as related information: its file (a `.rs` or the `.lp` itself), range and message.
fn related(sources: &SourceMap, label: &diag::Label) -> Option<DiagnosticRelatedInformation> {
    let file = sources.get(label.span.file);
    let uri = uri::from_path(Path::new(&file.name))?;
    let range = LineIndex::new(&file.text).range(label.span.range.clone());
    Some(DiagnosticRelatedInformation {
        location: Location::new(uri, range),
        message: if label.message.is_empty() {
            "here".into()
        } else {
            label.message.clone()
        },
    })
}
