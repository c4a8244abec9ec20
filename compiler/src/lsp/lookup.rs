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
            ast::ProgramItem::Process(process) => process
                .nodes
                .iter()
                .find_map(|node| in_node(node, offset, program)),
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
    let exprs = node
        .count
        .iter()
        .chain(node.args.iter().map(|a| &a.value))
        .chain(node.block.iter().flat_map(|b| {
            b.entries.iter().flat_map(|entry| match entry {
                ast::BlockEntry::Section(s) => {
                    s.fields.iter().map(|f| &f.value).collect::<Vec<_>>()
                }
                ast::BlockEntry::Batch(b) => b.fields.iter().map(|f| &f.value).collect(),
                ast::BlockEntry::Setting(a) => vec![&a.value],
            })
        }));
    for expr in exprs {
        if let Some(hit) = in_expr(expr, offset, program) {
            return Some(hit);
        }
    }
    None
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
