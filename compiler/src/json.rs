//! Diagnostics as JSON, one object per line (`lpc check --format json`), for editors and CI.

use codespan_reporting::files::{Files, SimpleFiles};
use lpc_build::diag::{Diagnostic, Severity, SourceMap, Span};
use serde::Serialize;

/// One diagnostic as a JSON object (one per line in `--format json`).
#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    file: Option<&'a str>,
    range: Option<JsonRange>,
    labels: Vec<JsonLabel<'a>>,
    notes: &'a [String],
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    primary: bool,
    message: &'a str,
    range: JsonRange,
}

/// A span as byte offsets and 1-based line/column (columns count characters).
#[derive(Serialize)]
struct JsonRange {
    start_byte: usize,
    end_byte: usize,
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

fn json_range(sources: &SourceMap, span: &Span) -> JsonRange {
    let text = sources.get(span.file).text.as_str();
    let mut files = SimpleFiles::new();
    let id = files.add("", text);
    let position = |byte: usize| {
        let line = files.line_index(id, byte).unwrap_or(0);
        let column = files.column_number(id, line, byte).unwrap_or(1);
        (line + 1, column)
    };
    let (start_line, start_column) = position(span.range.start);
    let (end_line, end_column) = position(span.range.end);
    JsonRange {
        start_byte: span.range.start,
        end_byte: span.range.end,
        start_line,
        start_column,
        end_line,
        end_column,
    }
}

/// Renders each diagnostic as one line of JSON.
pub fn lines(sources: &SourceMap, diagnostics: &[&Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let primary = diagnostic.labels.iter().find(|l| l.primary);
        let record = JsonDiagnostic {
            code: diagnostic.code.as_str(),
            severity: match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            message: &diagnostic.message,
            file: primary.map(|l| sources.get(l.span.file).name.as_str()),
            range: primary.map(|l| json_range(sources, &l.span)),
            labels: diagnostic
                .labels
                .iter()
                .map(|l| JsonLabel {
                    file: sources.get(l.span.file).name.as_str(),
                    primary: l.primary,
                    message: &l.message,
                    range: json_range(sources, &l.span),
                })
                .collect(),
            notes: &diagnostic.notes,
            help: diagnostic.help.as_deref(),
        };
        // Serializing plain strings and numbers cannot fail.
        if let Ok(line) = serde_json::to_string(&record) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
