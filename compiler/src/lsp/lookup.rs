//! What is at a byte offset of a document's syntax tree.

use lpc_build::syntax::ast::{self, Expr, ExprKind, Ident};

/// The thing under the cursor.
#[derive(Debug, Clone, Copy)]
pub enum Hit<'a> {
    /// A segment of a node's constructor or function path: `Producer` or `new` in `Producer::new`.
    Target {
        node: &'a ast::NodeDecl,
        segment: usize,
        program: &'a ast::Program,
    },
    /// A segment of a `use` path, or its alias.
    Import {
        import: &'a ast::Import,
        segment: usize,
    },
    /// The name of a node or group where it is declared.
    Node {
        node: &'a ast::NodeDecl,
        program: &'a ast::Program,
    },
    /// The name of a param where it is declared.
    Param(&'a ast::Param),
    /// The name of a process where it is declared.
    Process(&'a ast::Process),
    /// The name of a constructor argument: a Rust parameter's name.
    Argument {
        node: &'a ast::NodeDecl,
        arg: &'a ast::Arg,
    },
    /// A name used in an expression: a param, node or group of `program`.
    Reference {
        name: &'a Ident,
        program: &'a ast::Program,
    },
}

fn contains(ident: &Ident, offset: usize) -> bool {
    ident.span.range.start <= offset && offset <= ident.span.range.end
}

/// The hit at `offset` in `file`, if any.
pub fn at(file: &ast::File, offset: usize) -> Option<Hit<'_>> {
    for item in &file.items {
        match item {
            ast::Item::Use(u) => {
                for import in &u.imports {
                    if let Some(segment) = import
                        .path
                        .segments
                        .iter()
                        .position(|s| contains(s, offset))
                    {
                        return Some(Hit::Import { import, segment });
                    }
                    if import.alias.as_ref().is_some_and(|a| contains(a, offset)) {
                        let segment = import.path.segments.len().saturating_sub(1);
                        return Some(Hit::Import { import, segment });
                    }
                }
            }
            ast::Item::Program(program) => {
                let range = &program.span.range;
                if range.start <= offset && offset <= range.end {
                    if let Some(hit) = in_program(program, offset) {
                        return Some(hit);
                    }
                }
            }
        }
    }
    None
}

fn in_program(program: &ast::Program, offset: usize) -> Option<Hit<'_>> {
    for item in &program.items {
        let hit = match item {
            ast::ProgramItem::Param(param) => {
                if contains(&param.name, offset) {
                    return Some(Hit::Param(param));
                }
                param
                    .default
                    .as_ref()
                    .and_then(|e| in_expr(e, offset, program))
            }
            ast::ProgramItem::Node(node) => in_node(node, offset, program),
            ast::ProgramItem::Process(process) => {
                if contains(&process.name, offset) {
                    return Some(Hit::Process(process));
                }
                process
                    .nodes
                    .iter()
                    .find_map(|node| in_node(node, offset, program))
            }
        };
        if hit.is_some() {
            return hit;
        }
    }
    None
}

fn in_node<'a>(
    node: &'a ast::NodeDecl,
    offset: usize,
    program: &'a ast::Program,
) -> Option<Hit<'a>> {
    if contains(&node.name, offset) {
        return Some(Hit::Node { node, program });
    }
    if let Some(segment) = node
        .target
        .segments
        .iter()
        .position(|s| contains(s, offset))
    {
        return Some(Hit::Target {
            node,
            segment,
            program,
        });
    }
    if let Some(arg) = node.args.iter().find(|a| contains(&a.name, offset)) {
        return Some(Hit::Argument { node, arg });
    }
    node_exprs(node)
        .into_iter()
        .find_map(|expr| in_expr(expr, offset, program))
}

/// Every expression of a node: its count, its arguments' values, its block's values.
pub fn node_exprs(node: &ast::NodeDecl) -> Vec<&Expr> {
    let block = node.block.iter().flat_map(|b| &b.entries);
    let fields = block.flat_map(|entry| match entry {
        ast::BlockEntry::Section(s) => s.fields.as_slice(),
        ast::BlockEntry::Batch(b) => b.fields.as_slice(),
        ast::BlockEntry::Setting(a) => std::slice::from_ref(a),
    });
    node.count
        .iter()
        .chain(node.args.iter().map(|a| &a.value))
        .chain(fields.map(|f| &f.value))
        .collect()
}

/// Every node and group of a program, those in processes included, in source order.
pub fn nodes(program: &ast::Program) -> impl Iterator<Item = &ast::NodeDecl> {
    program.items.iter().flat_map(|item| match item {
        ast::ProgramItem::Node(node) => std::slice::from_ref(node),
        ast::ProgramItem::Process(process) => process.nodes.as_slice(),
        ast::ProgramItem::Param(_) => &[],
    })
}

/// Every name an expression of `program` uses (params, nodes, groups), in source order.
pub fn uses(program: &ast::Program) -> Vec<&Ident> {
    let mut out = Vec::new();
    for item in &program.items {
        if let ast::ProgramItem::Param(param) = item {
            if let Some(default) = &param.default {
                expr_uses(default, &mut out);
            }
        }
    }
    for node in nodes(program) {
        for expr in node_exprs(node) {
            expr_uses(expr, &mut out);
        }
    }
    out.sort_by_key(|i| i.span.range.start);
    out
}

fn expr_uses<'a>(expr: &'a Expr, out: &mut Vec<&'a Ident>) {
    match &expr.kind {
        ExprKind::Name(name) => out.push(name),
        ExprKind::Index { base, index } => {
            out.push(base);
            expr_uses(index, out);
        }
        ExprKind::List(items) => items.iter().for_each(|e| expr_uses(e, out)),
        ExprKind::Neg(inner) => expr_uses(inner, out),
        ExprKind::Binary { lhs, rhs, .. } => {
            expr_uses(lhs, out);
            expr_uses(rhs, out);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| expr_uses(&a.value, out)),
        _ => {}
    }
}

fn in_expr<'a>(expr: &'a Expr, offset: usize, program: &'a ast::Program) -> Option<Hit<'a>> {
    if offset < expr.span.range.start || offset > expr.span.range.end {
        return None;
    }
    match &expr.kind {
        ExprKind::Name(name) => contains(name, offset).then_some(Hit::Reference { name, program }),
        ExprKind::Index { base, index } => {
            if contains(base, offset) {
                Some(Hit::Reference {
                    name: base,
                    program,
                })
            } else {
                in_expr(index, offset, program)
            }
        }
        ExprKind::List(items) => items.iter().find_map(|e| in_expr(e, offset, program)),
        ExprKind::Neg(inner) => in_expr(inner, offset, program),
        ExprKind::Binary { lhs, rhs, .. } => {
            in_expr(lhs, offset, program).or_else(|| in_expr(rhs, offset, program))
        }
        ExprKind::Call { args, .. } => args.iter().find_map(|a| in_expr(&a.value, offset, program)),
        _ => None,
    }
}

/// What a name of a program is declared as.
#[derive(Debug, Clone, Copy)]
pub enum Declaration<'a> {
    Param(&'a ast::Param),
    Node(&'a ast::NodeDecl),
}

/// The param, node or group called `name` in `program`.
pub fn declaration<'a>(program: &'a ast::Program, name: &str) -> Option<Declaration<'a>> {
    program.items.iter().find_map(|item| match item {
        ast::ProgramItem::Param(p) if p.name.name == name => Some(Declaration::Param(p)),
        ast::ProgramItem::Node(n) if n.name.name == name => Some(Declaration::Node(n)),
        ast::ProgramItem::Process(process) => process
            .nodes
            .iter()
            .find(|n| n.name.name == name)
            .map(Declaration::Node),
        _ => None,
    })
}

/// The process called `name` in `program`.
pub fn process<'a>(program: &'a ast::Program, name: &str) -> Option<&'a ast::Process> {
    program.items.iter().find_map(|item| match item {
        ast::ProgramItem::Process(p) if p.name.name == name => Some(p),
        _ => None,
    })
}
