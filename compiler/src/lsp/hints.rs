//! Inlay hints: the replica count of a group whose count is not a literal (`= 2`, from the
//! params' defaults), and the Rust type each constructor argument is passed as.

use super::analysis::{names, Analysis};
use super::hover::tidy;
use super::lookup::{self, Declaration};
use super::position::{LineIndex, LspPositions as _};
use lpc_build::syntax::ast::{self, BinOp, Expr, ExprKind};
use lsp_types::{InlayHint, InlayHintKind, InlayHintLabel};

/// How deep params' defaults may refer to each other when evaluating a count.
const MAX_DEPTH: usize = 16;

/// The hints within byte range `within`.
pub fn hints(analysis: &Analysis, within: std::ops::Range<usize>) -> Vec<InlayHint> {
    let index = LineIndex::new(analysis.text);
    let mut out = Vec::new();
    let programs = analysis.file.items.iter().filter_map(|item| match item {
        ast::Item::Program(p) => Some(p),
        ast::Item::Use(_) => None,
    });
    for program in programs {
        let nodes = lookup::nodes(program)
            .filter(|n| n.span.range.end >= within.start && n.span.range.start <= within.end);
        for node in nodes {
            if let Some(count) = &node.count {
                if !matches!(count.kind, ExprKind::Int(_)) {
                    if let Some(n) = eval(count, program, 0) {
                        out.push(hint(&index, count.span.range.end, format!("= {n}"), None));
                    }
                }
            }
            argument_types(analysis, node, &index, &mut out);
        }
    }
    out
}

/// `as TYPE` after each argument whose Rust parameter is known.
fn argument_types(
    analysis: &Analysis,
    node: &ast::NodeDecl,
    index: &LineIndex,
    out: &mut Vec<InlayHint>,
) {
    let Some(callee) = analysis.callee(node.kind, &names(&node.target.segments)) else {
        return;
    };
    for arg in &node.args {
        if let Some(param) = callee.params.iter().find(|p| p.name == arg.name.name) {
            let label = format!("as {}", tidy(&param.ty.display()));
            out.push(hint(
                index,
                arg.value.span.range.end,
                label,
                Some(InlayHintKind::TYPE),
            ));
        }
    }
}

fn hint(index: &LineIndex, offset: usize, label: String, kind: Option<InlayHintKind>) -> InlayHint {
    InlayHint {
        position: index.position(offset),
        label: InlayHintLabel::String(label),
        kind,
        text_edits: None,
        tooltip: None,
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}

/// The value of an integer expression with params at their defaults, if it has one.
fn eval(expr: &Expr, program: &ast::Program, depth: usize) -> Option<i128> {
    if depth > MAX_DEPTH {
        return None;
    }
    match &expr.kind {
        ExprKind::Int(n) => i128::try_from(*n).ok(),
        ExprKind::Name(name) => match lookup::declaration(program, &name.name)? {
            Declaration::Param(p) => eval(p.default.as_ref()?, program, depth + 1),
            Declaration::Node(_) => None,
        },
        ExprKind::Neg(inner) => eval(inner, program, depth + 1)?.checked_neg(),
        ExprKind::Binary { op, lhs, rhs } => {
            let (a, b) = (
                eval(lhs, program, depth + 1)?,
                eval(rhs, program, depth + 1)?,
            );
            match op {
                BinOp::Add => a.checked_add(b),
                BinOp::Sub => a.checked_sub(b),
                BinOp::Mul => a.checked_mul(b),
                BinOp::Div => a.checked_div(b),
                BinOp::Rem => a.checked_rem(b),
            }
        }
        _ => None,
    }
}
