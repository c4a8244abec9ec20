//! Hover: what a node or group is (kind, Rust type, replica count, callable methods), what a
//! param is, what an imported type offers.

use super::analysis::{names, Analysis};
use super::lookup::{self, Declaration, Hit};
use lpc_build::diag::Span;
use lpc_build::rust::{Receiver, RustType, TypeDef};
use lpc_build::syntax::ast::{self, ExprKind, NodeKind};

/// Markdown about what is at `offset`, and the span it is about.
pub fn hover(analysis: &Analysis, offset: usize) -> Option<(String, Span)> {
    let text = analysis.text;
    match lookup::at(analysis.file, offset)? {
        Hit::Node { node, program } => Some((
            node_text(analysis, text, node, program),
            node.name.span.clone(),
        )),
        Hit::Target {
            node,
            segment,
            program,
        } => Some((
            node_text(analysis, text, node, program),
            node.target.segments.get(segment)?.span.clone(),
        )),
        Hit::Param(param) => Some((param_text(text, param), param.name.span.clone())),
        Hit::Process(process) => Some((process_text(process), process.name.span.clone())),
        Hit::Argument { node, arg } => {
            let callee = analysis.callee(node.kind, &names(&node.target.segments))?;
            let param = callee.params.iter().find(|p| p.name == arg.name.name)?;
            let shown = format!(
                "```rust\n{}: {}\n```\n\nparameter of `{}`\n",
                param.name,
                tidy(&param.ty.display()),
                node.target
            );
            Some((shown, arg.name.span.clone()))
        }
        Hit::Reference { name, program } => {
            let shown = match lookup::declaration(program, &name.name)? {
                Declaration::Param(p) => param_text(text, p),
                Declaration::Node(n) => node_text(analysis, text, n, program),
            };
            Some((shown, name.span.clone()))
        }
        Hit::Import { import, segment } => {
            let full = analysis.import_path(import, segment)?;
            let span = import.path.segments.get(segment)?.span.clone();
            if let Some(def) = analysis.type_at(&full) {
                let mut out = format!("```rust\npub struct {}\n```\n", def.path());
                methods(def, &mut out);
                return Some((out, span));
            }
            let function = analysis.function_at(&full)?;
            Some((
                format!(
                    "```rust\n{}\n```\n",
                    signature(&function.method, &function.path())
                ),
                span,
            ))
        }
    }
}

fn source<'t>(text: &'t str, span: &Span) -> &'t str {
    text.get(span.range.clone()).unwrap_or("")
}

fn process_text(process: &ast::Process) -> String {
    let mut out = format!(
        "```lp\nprocess {}\n```\n\n**process** of {} node declaration{}: one OS process under \
         `local_mp`\n",
        process.name.name,
        process.nodes.len(),
        if process.nodes.len() == 1 { "" } else { "s" }
    );
    if let Some(doc) = &process.doc {
        out.push('\n');
        out.push_str(doc);
        out.push('\n');
    }
    out
}

fn param_text(text: &str, param: &ast::Param) -> String {
    let mut out = format!("```lp\nparam {}: {}", param.name.name, param.ty.name);
    if let Some(default) = &param.default {
        out.push_str(&format!(" = {}", source(text, &default.span)));
    }
    out.push_str("\n```\n");
    if param.default.is_none() {
        out.push_str("\nRequired: the program's binary needs `--");
        out.push_str(&param.name.name);
        out.push_str("`.\n");
    }
    if let Some(doc) = &param.doc {
        out.push('\n');
        out.push_str(doc);
        out.push('\n');
    }
    out
}

fn node_text(
    analysis: &Analysis,
    text: &str,
    node: &ast::NodeDecl,
    program: &ast::Program,
) -> String {
    let kind = node.kind.as_str();
    let mut out = String::from("```lp\n");
    match &node.count {
        Some(count) => out.push_str(&format!(
            "group {}[{}]",
            node.name.name,
            source(text, &count.span)
        )),
        None => out.push_str(&format!("node {}", node.name.name)),
    }
    out.push_str(&format!(" = {kind} {}\n```\n", node.target));
    match &node.count {
        Some(count) => out.push_str(&format!(
            "\n**group** of {} · **{kind}**",
            replicas(text, count, program)
        )),
        None => out.push_str(&format!("\n**node** (one replica) · **{kind}**")),
    }
    let written = names(&node.target.segments);
    if node.kind == NodeKind::Fn {
        match analysis
            .full_path(&written)
            .and_then(|f| analysis.function_at(&f))
        {
            Some(f) => out.push_str(&format!(
                " running `{}`\n\n```rust\n{}\n```\n",
                f.path(),
                signature(&f.method, &f.path())
            )),
            None => out.push_str(&format!(
                " running `{}` (not found in the crate)\n",
                node.target
            )),
        }
    } else {
        let type_path = &written[..written.len().saturating_sub(1)];
        match analysis
            .full_path(type_path)
            .and_then(|f| analysis.type_at(&f))
        {
            Some(def) => {
                out.push_str(&format!(" of type `{}`\n", def.path()));
                if node.kind == NodeKind::Courier {
                    methods(def, &mut out);
                } else {
                    out.push_str("\nA worker: it serves no methods.\n");
                }
                if def.implements_runtime("Run") {
                    out.push_str("\nRuns `lp::Run::run` (async) at start.\n");
                } else if def.implements_runtime("BlockingRun") {
                    out.push_str("\nRuns `lp::BlockingRun::run` (on its own thread) at start.\n");
                }
            }
            None => out.push_str(&format!(
                " of type `{}` (not found in the crate)\n",
                type_path.join("::")
            )),
        }
    }
    if let Some(doc) = &node.doc {
        out.push('\n');
        out.push_str(doc);
        out.push('\n');
    }
    out
}

/// "`num_producers` replicas (2 by default)", "3 replicas".
fn replicas(text: &str, count: &ast::Expr, program: &ast::Program) -> String {
    let written = source(text, &count.span);
    match &count.kind {
        ExprKind::Int(n) => format!("{n} replica{}", if *n == 1 { "" } else { "s" }),
        ExprKind::Name(name) => match lookup::declaration(program, &name.name) {
            Some(Declaration::Param(ast::Param {
                default:
                    Some(ast::Expr {
                        kind: ExprKind::Int(n),
                        ..
                    }),
                ..
            })) => format!("`{written}` replicas ({n} by default)"),
            _ => format!("`{written}` replicas"),
        },
        _ => format!("`{written}` replicas"),
    }
}

/// The methods a handle to a courier of type `def` can call: its `pub` methods taking `&self`.
fn methods(def: &TypeDef, out: &mut String) {
    let callable: Vec<String> = def
        .methods
        .iter()
        .filter(|m| m.is_callable())
        .map(|m| format!("- `{}`", signature(m, &m.name)))
        .collect();
    if callable.is_empty() {
        out.push_str("\nNo callable methods (no `pub fn` taking `&self`).\n");
    } else {
        out.push_str("\nCallable methods:\n");
        for line in callable {
            out.push_str(&line);
            out.push('\n');
        }
    }
}

/// `async fn step(&self, context: u64) -> Result<Vec<u64>, CallError>`
pub(super) fn signature(method: &lpc_build::rust::Method, name: &str) -> String {
    let mut params: Vec<String> = Vec::new();
    match method.receiver {
        Receiver::Ref => params.push("&self".into()),
        Receiver::RefMut => params.push("&mut self".into()),
        Receiver::Value => params.push("self".into()),
        Receiver::None => {}
    }
    params.extend(
        method
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, tidy(&p.ty.display()))),
    );
    let output = match &method.output {
        RustType::Unit => String::new(),
        other => format!(" -> {}", tidy(&other.display())),
    };
    format!(
        "{}{}fn {name}({}){output}",
        if method.nonblocking.is_some() {
            "#[lp::nonblocking] "
        } else {
            ""
        },
        if method.is_async { "async " } else { "" },
        params.join(", ")
    )
}

/// A type as tokens print it (`lp :: CallError`, `Vec < u64 >`) → as one writes it.
pub(super) fn tidy(tokens: &str) -> String {
    let mut out = tokens.to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
    ] {
        out = out.replace(from, to);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tidies_token_spacing() {
        assert_eq!(
            super::tidy("Result < Vec < u64 > , lp :: CallError >"),
            "Result<Vec<u64>, lp::CallError>"
        );
        assert_eq!(super::tidy("& 'static str"), "&'static str");
    }
}
