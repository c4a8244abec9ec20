//! Go to definition: from a node's type or constructor (or a `fn` node's function, or an
//! imported name) to the Rust `struct`/`fn` in the user's crate; from a name used in an
//! expression to its `param`/`node`/`group` declaration.

use super::analysis::{names, Analysis};
use super::lookup::{self, Declaration, Hit};
use lpc_build::diag::Span;
use lpc_build::syntax::ast::{self, NodeKind};

/// The span defining what is at `offset`, if any.
pub fn definition(analysis: &Analysis, offset: usize) -> Option<Span> {
    match lookup::at(analysis.file, offset)? {
        Hit::Target { node, segment, .. } => target(analysis, node, Some(segment)),
        Hit::Node { node, .. } => target(analysis, node, None),
        Hit::Import { import, segment } => {
            let full = analysis.import_path(import, segment)?;
            analysis
                .type_at(&full)
                .map(|t| t.span.clone())
                .or_else(|| analysis.function_at(&full).map(|f| f.method.span.clone()))
        }
        Hit::Param(_) | Hit::Process(_) => None,
        Hit::Argument { node, arg } => {
            let callee = analysis.callee(node.kind, &names(&node.target.segments))?;
            let param = callee.params.iter().find(|p| p.name == arg.name.name)?;
            Some(param.span.clone())
        }
        Hit::Reference { name, program } => match lookup::declaration(program, &name.name)? {
            Declaration::Param(p) => Some(p.name.span.clone()),
            Declaration::Node(n) => Some(n.name.span.clone()),
        },
    }
}

/// The Rust item behind a segment of a node's target (`None`: the node's type or function).
fn target(analysis: &Analysis, node: &ast::NodeDecl, segment: Option<usize>) -> Option<Span> {
    let written = names(&node.target.segments);
    let last = written.len().checked_sub(1)?;
    if node.kind == NodeKind::Fn {
        let function = analysis.function_at(&analysis.full_path(&written)?)?;
        return (segment.unwrap_or(last) == last).then(|| function.method.span.clone());
    }
    let def = analysis.type_at(&analysis.full_path(&written[..last])?)?;
    match segment {
        Some(s) if s == last => Some(
            def.method(&written[last])
                .map_or_else(|| def.span.clone(), |m| m.span.clone()),
        ),
        Some(s) if s + 1 == last => Some(def.span.clone()),
        Some(_) => None,
        None => Some(def.span.clone()),
    }
}
