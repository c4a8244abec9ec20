//! Quick fixes from the `help:` line of the diagnostics the client sends back: "did you mean
//! `x`?" replaces the name, "bring it into scope: `use …;`" adds the `use`, "pick one replica,
//! e.g. `g[0]`" replaces the group, "add `name: …` to the arguments" adds the argument with a
//! placeholder of its Rust type.

use super::analysis::{names, Analysis};
use super::lookup;
use super::position::{LineIndex, LspPositions as _};
use lpc_build::rust::RustType;
use lpc_build::syntax::ast;
use lsp_types::{CodeAction, CodeActionKind, Diagnostic, TextEdit, Uri, WorkspaceEdit};
use std::collections::HashMap;

/// The quick fixes for `diagnostics` of the document at `uri`.
pub fn actions(analysis: &Analysis, uri: &Uri, diagnostics: &[Diagnostic]) -> Vec<CodeAction> {
    let index = LineIndex::new(analysis.text);
    diagnostics
        .iter()
        .filter(|d| d.source.as_deref() == Some("lpc"))
        .filter_map(|d| {
            let help = d
                .message
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("help: "))?;
            let at = index.offsets(d.range);
            let (title, edit) = fix(analysis, &index, help, at)?;
            Some(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            })
        })
        .collect()
}

/// The first `` `…` `` of a help text after `lead`.
fn quoted<'h>(help: &'h str, lead: &str) -> Option<&'h str> {
    let rest = help.strip_prefix(lead)?;
    let start = rest.find('`')? + 1;
    let end = start + rest[start..].find('`')?;
    Some(&rest[start..end])
}

/// The title and edit of the fix a help text describes, for a diagnostic at byte range `at`.
fn fix(
    analysis: &Analysis,
    index: &LineIndex,
    help: &str,
    at: std::ops::Range<usize>,
) -> Option<(String, TextEdit)> {
    let range = index.range(at.clone());
    if let Some(name) = quoted(help, "did you mean") {
        let written = analysis.text.get(at)?;
        let is_word =
            !written.is_empty() && written.chars().all(|c| c == '_' || c.is_alphanumeric());
        return is_word.then(|| {
            (
                format!("Replace with `{name}`"),
                TextEdit::new(range, name.into()),
            )
        });
    }
    if let Some(replica) = quoted(help, "pick one replica") {
        let title = format!("Replace with `{replica}`");
        return Some((title, TextEdit::new(range, replica.into())));
    }
    if let Some(item) = quoted(help, "bring it into scope") {
        let offset = after_uses(analysis.file);
        let start = index.range(offset..offset);
        return Some((
            format!("Add `{item}`"),
            TextEdit::new(start, format!("{item}\n")),
        ));
    }
    let argument = quoted(help, "add")?.strip_suffix(": …")?;
    missing_argument(analysis, index, argument, at.start)
}

/// Where a new `use` goes: the start of the line after the last `use`, else the file's start.
fn after_uses(file: &ast::File) -> usize {
    let last = file.items.iter().filter_map(|item| match item {
        ast::Item::Use(u) => Some(u.span.range.end),
        ast::Item::Program(_) => None,
    });
    last.max().map_or(0, |end| end + 1)
}

/// Adds `name: PLACEHOLDER` to the arguments (parentheses included) starting at `args_start`.
fn missing_argument(
    analysis: &Analysis,
    index: &LineIndex,
    name: &str,
    args_start: usize,
) -> Option<(String, TextEdit)> {
    let program = analysis.program_at(args_start)?;
    let node = lookup::nodes(program).find(|n| n.args_span.range.start == args_start)?;
    let callee = analysis.callee(node.kind, &names(&node.target.segments))?;
    let param = callee.params.iter().find(|p| p.name == name)?;
    let value = placeholder(&param.ty, name, program);
    let (offset, text) = match node.args.last() {
        Some(last) => (last.span.range.end, format!(", {name}: {value}")),
        None => (args_start + 1, format!("{name}: {value}")),
    };
    let edit = TextEdit::new(index.range(offset..offset), text);
    Some((format!("Add argument `{name}: {value}`"), edit))
}

/// A value of the type to start from: a literal, a node or group holding the handle's type, or
/// the parameter's own name (a name to declare).
fn placeholder(ty: &RustType, name: &str, program: &ast::Program) -> String {
    let handle_node = |target: &lpc_build::rust::HandleTarget, group: bool| {
        let type_name = target.path.last()?;
        lookup::nodes(program)
            .find(|n| {
                n.is_group() == group
                    && n.target
                        .parent()
                        .last()
                        .is_some_and(|t| &t.name == type_name)
            })
            .map(|n| n.name.name.clone())
    };
    let found = match ty {
        RustType::Int(_) => Some("0".into()),
        RustType::Float(_) => Some("0.0".into()),
        RustType::Bool => Some("false".into()),
        RustType::String => Some("\"\"".into()),
        RustType::Duration => Some("1s".into()),
        RustType::Handle(target) => handle_node(target, false),
        RustType::Vec(inner) => match inner.as_ref() {
            RustType::Handle(target) => handle_node(target, true),
            _ => Some("[]".into()),
        },
        _ => None,
    };
    found.unwrap_or_else(|| name.to_string())
}
