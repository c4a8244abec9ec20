//! The diagnostics of an open `.lp` document: exactly what `lpc check FILE` reports (the
//! pipeline of [`lpc_build::driver::check_sources`], with the editor's unsaved text, its parse
//! made once per version and the crate's model cached), as LSP diagnostics on that document.
//! Labels elsewhere — the user's `.rs` files — become related information; a problem found in a
//! `.rs` file is shown where the `.lp` file points at it (or on its first line). A buffer that is
//! not a local file (`untitled:`) gets its syntax diagnostics.

use super::crates::Crates;
use super::documents::{Document, DOCUMENT};
use super::position::{LineIndex, LspPositions as _};
use super::uri;
use lpc_build::check::model::Package;
use lpc_build::diag::{self, Diagnostics, Severity, SourceMap};
use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range,
};
use std::path::Path;

/// The diagnostics of `document`, at `path` (`None`: not a local file), and the checked package
/// when it checked clean: the caller drops it once the diagnostics are sent, since freeing the
/// model of 10,000 nodes takes milliseconds.
pub fn check(
    path: Option<&Path>,
    document: &Document,
    crates: &mut Crates,
) -> (Vec<Diagnostic>, Option<Package>) {
    let parsed = document.parsed();
    let mut sources = SourceMap::default();
    let name = path.map_or_else(String::new, |p| p.display().to_string());
    sources.add(name, document.text.as_str());
    let mut diagnostics = Diagnostics::default();
    for d in &parsed.diagnostics {
        diagnostics.push(d.clone());
    }
    let Some(path) = path else {
        return (convert(&sources, &diagnostics), None);
    };
    let krate = match crates.for_document(path) {
        Ok(krate) => krate,
        Err(error) => {
            // No package to check against: still report what the parser finds.
            let mut out = convert(&sources, &diagnostics);
            out.push(Diagnostic {
                range: Range::default(),
                severity: Some(DiagnosticSeverity::WARNING),
                source: Some("lpc".into()),
                message: format!("not checked against Rust: {error}"),
                ..Diagnostic::default()
            });
            return (out, None);
        }
    };
    for (_, file) in krate.sources.files().skip(1) {
        sources.add(file.name.as_str(), file.text.as_str());
    }
    for d in &krate.diagnostics {
        diagnostics.push(d.clone());
    }
    let files = [(DOCUMENT, &parsed.file)];
    let package = lpc_build::driver::check_parsed(&files, &krate.model, &sources, &mut diagnostics);
    (convert(&sources, &diagnostics), package)
}

/// Converts the diagnostics of a check whose document is file 0 of `sources`.
fn convert(sources: &SourceMap, diagnostics: &Diagnostics) -> Vec<Diagnostic> {
    let document = DOCUMENT;
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
