//! Checking one program: its params, its nodes and groups, and each node's constructor call.

use super::args::{Exprs, Site};
use super::model::{self, Kind, Literal, ParamType};
use super::scope::{Entity, ProgramScope};
use super::{types, Imports};
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::rust::CrateModel;
use crate::syntax::ast::{self, ExprKind};
use std::collections::BTreeSet;

/// Checks a program; the result is only used when `diags` holds no error.
pub(super) fn check_program(
    program: &ast::Program,
    imports: &Imports,
    crate_model: &CrateModel,
    package: &mut Generated,
    diags: &mut Diagnostics,
) -> model::Program {
    let mut scope = ProgramScope::default();
    for name in &program.broken_names {
        scope.declare_broken(&name.name);
    }
    let params = declare_params(program, &mut scope, diags);
    let decls = declare_nodes(program, &mut scope, diags);

    let errors_before = diags.error_count();
    let mut nodes = Vec::new();
    for decl in &decls {
        if let Some(node) = check_node(decl, &scope, imports, crate_model, package, diags) {
            nodes.push(node);
        }
    }
    // Lints on a program with errors would mostly repeat them.
    if diags.error_count() == errors_before {
        lint(program, &decls, &params, &nodes, package.couriers, diags);
    }
    model::Program {
        name: program.name.name.clone(),
        doc: program.doc.clone(),
        params,
        nodes,
    }
}

fn declare_params(
    program: &ast::Program,
    scope: &mut ProgramScope,
    diags: &mut Diagnostics,
) -> Vec<model::Param> {
    let mut params = Vec::new();
    for item in &program.items {
        let ast::ProgramItem::Param(param) = item else {
            continue;
        };
        let Some(ty) = ParamType::from_name(&param.ty.name) else {
            diags.push(super::param_type::unsupported(param));
            // Its uses are not reported again as unknown names.
            scope.declare_broken(&param.name.name);
            continue;
        };
        let default = param
            .default
            .as_ref()
            .and_then(|d| default_value(param, ty, d, diags));
        let entity = Entity::Param {
            ty,
            span: param.name.span.clone(),
        };
        if declare(scope, &param.name, entity, diags) {
            params.push(model::Param {
                name: param.name.name.clone(),
                doc: param.doc.clone(),
                ty,
                default,
            });
        }
    }
    params
}

/// Declares a name, reporting a clash; true when declared.
fn declare(
    scope: &mut ProgramScope,
    name: &ast::Ident,
    entity: Entity,
    diags: &mut Diagnostics,
) -> bool {
    let is_param = matches!(entity, Entity::Param { .. });
    match scope.declare(&name.name, entity) {
        Ok(()) => true,
        Err(previous) => {
            let (code, message) = match (previous, is_param) {
                (Entity::Param { .. }, false) => (
                    Code::ShadowedName,
                    format!("`{}` is already a param of this program", name.name),
                ),
                _ => (
                    Code::DuplicateName,
                    format!("`{}` is defined twice", name.name),
                ),
            };
            diags.push(
                Diagnostic::new(code, message)
                    .primary(name.span.clone(), "defined again here")
                    .secondary(previous.span().clone(), "first defined here")
                    .help("params, nodes and groups share one namespace: rename one"),
            );
            false
        }
    }
}

fn default_value(
    param: &ast::Param,
    ty: ParamType,
    expr: &ast::Expr,
    diags: &mut Diagnostics,
) -> Option<Literal> {
    if let ExprKind::Error = expr.kind {
        return None; // an invalid literal, reported by the parser
    }
    let literal = match (&expr.kind, ty) {
        (ExprKind::Int(v), ParamType::Int(_)) => i128::try_from(*v).ok().map(Literal::Int),
        (ExprKind::Neg(inner), ParamType::Int(_)) => match inner.kind {
            ExprKind::Int(v) => i128::try_from(v).ok().map(|v| Literal::Int(-v)),
            _ => None,
        },
        (ExprKind::Float(f), ParamType::Float(_)) => Some(Literal::Float(*f)),
        (ExprKind::Int(v), ParamType::Float(_)) => Some(Literal::Float(*v as f64)),
        (ExprKind::Bool(b), ParamType::Bool) => Some(Literal::Bool(*b)),
        (ExprKind::Str(s), ParamType::String) => Some(Literal::Str(s.clone())),
        (ExprKind::Duration(d), ParamType::Duration) => Some(Literal::Duration(*d)),
        _ => None,
    };
    if let (Some(Literal::Int(v)), ParamType::Int(int)) = (&literal, ty) {
        let (min, max) = int.range();
        if !(min..=max).contains(v) {
            diags.push(
                Diagnostic::new(
                    Code::OutOfRange,
                    format!("default `{v}` out of range for `{}`", int.name()),
                )
                .primary(
                    expr.span.clone(),
                    format!("`{}` holds {min} to {max}", int.name()),
                )
                .help(format!("use a value from {min} to {max}, or a wider type")),
            );
            return None;
        }
    }
    if literal.is_none() {
        diags.push(
            Diagnostic::new(
                Code::ParamDefaultType,
                format!(
                    "the default of param `{}` is not a `{}`",
                    param.name.name,
                    ty.name()
                ),
            )
            .primary(
                expr.span.clone(),
                format!("expected a `{}` literal", ty.name()),
            )
            .secondary(param.ty.span.clone(), "type declared here")
            .help(match ty {
                ParamType::Int(_) => "write an integer literal, e.g. `4`".to_string(),
                ParamType::Float(_) => "write a number, e.g. `0.5`".to_string(),
                ParamType::Bool => "write `true` or `false`".to_string(),
                ParamType::String => "write a string in double quotes".to_string(),
                ParamType::Duration => "write a duration, e.g. `250ms` or `2s`".to_string(),
            }),
        );
    }
    literal
}

/// A node or group declaration, with the `process` block it is in.
pub(super) struct Decl<'p> {
    node: &'p ast::NodeDecl,
    process: Option<&'p ast::Ident>,
}

fn declare_nodes<'p>(
    program: &'p ast::Program,
    scope: &mut ProgramScope,
    diags: &mut Diagnostics,
) -> Vec<Decl<'p>> {
    let mut decls = Vec::new();
    let mut processes: Vec<&ast::Ident> = Vec::new();
    for item in &program.items {
        match item {
            ast::ProgramItem::Node(node) => decls.push(Decl {
                node,
                process: None,
            }),
            ast::ProgramItem::Process(process) => {
                if let Some(first) = processes.iter().find(|p| p.name == process.name.name) {
                    diags.push(
                        Diagnostic::new(
                            Code::DuplicateName,
                            format!("process `{}` is defined twice", process.name.name),
                        )
                        .primary(process.name.span.clone(), "defined again here")
                        .secondary(first.span.clone(), "first defined here")
                        .help("merge the two blocks, or rename one"),
                    );
                    continue;
                }
                processes.push(&process.name);
                let name = Some(&process.name);
                decls.extend(process.nodes.iter().map(|node| Decl {
                    node,
                    process: name,
                }));
            }
            ast::ProgramItem::Param(_) => {}
        }
    }
    decls.retain(|Decl { node: decl, .. }| {
        let type_name = decl
            .target
            .segments
            .len()
            .checked_sub(2)
            .and_then(|i| decl.target.segments.get(i))
            .map_or_else(String::new, |s| s.name.clone());
        let count = decl.count.as_ref().and_then(|c| match c.kind {
            ExprKind::Int(v) => i128::try_from(v).ok(),
            _ => None,
        });
        let entity = Entity::Node {
            type_name,
            is_group: decl.count.is_some(),
            count,
            span: decl.name.span.clone(),
        };
        declare(scope, &decl.name, entity, diags)
    });
    decls
}

fn check_node(
    Decl {
        node: decl,
        process,
    }: &Decl,
    scope: &ProgramScope,
    imports: &Imports,
    crate_model: &CrateModel,
    package: &mut Generated,
    diags: &mut Diagnostics,
) -> Option<model::Node> {
    let settings = decl
        .block
        .as_ref()
        .map(|block| super::settings::check_block(block, scope, diags))
        .unwrap_or_default();
    let count = decl
        .count
        .as_ref()
        .and_then(|count| check_count(count, scope, diags));
    let callee = match decl.kind {
        ast::NodeKind::Fn => function_callee(decl, imports, crate_model, package, diags)?,
        ast::NodeKind::Courier | ast::NodeKind::Worker => {
            type_callee(decl, imports, crate_model, package, diags)?
        }
    };
    super::batch::check_methods(
        &settings.batches,
        callee.kind,
        package
            .couriers
            .iter_mut()
            .find(|c| c.path == callee.type_path),
        diags,
    );
    let args = match_args(decl, &callee, scope, diags)?;
    Some(model::Node {
        name: decl.name.name.clone(),
        doc: decl.doc.clone(),
        count: count.or_else(|| decl.count.as_ref().map(|_| model::IntExpr::Literal(0))),
        kind: callee.kind,
        runner: callee.runner,
        type_path: callee.type_path,
        build: callee.build,
        args,
        process: process.map(|p| p.name.clone()),
        settings,
        span: decl.name.span.clone(),
    })
}

/// What a node declaration calls: a constructor, or a function wrapped in a generated type.
struct Callee<'m> {
    /// `Consumer::new` or `setup`, for messages.
    display: String,
    /// Where it is defined in Rust.
    span: crate::diag::Span,
    /// The parameters the `.lp` arguments go to.
    params: Vec<&'m crate::rust::Param>,
    kind: Kind,
    runner: model::Runner,
    type_path: String,
    build: model::Build,
}

/// Courier types and function wrappers the package needs, each once.
pub(super) struct Generated<'a> {
    pub couriers: &'a mut Vec<model::Courier>,
    pub functions: &'a mut Vec<model::FnNode>,
}

fn type_callee<'m>(
    decl: &ast::NodeDecl,
    imports: &Imports,
    crate_model: &'m CrateModel,
    package: &mut Generated,
    diags: &mut Diagnostics,
) -> Option<Callee<'m>> {
    let kind = match decl.kind {
        ast::NodeKind::Courier => Kind::Courier,
        _ => Kind::Worker,
    };
    let ty = types::resolve_type(&decl.target, imports, crate_model, diags)?;
    let type_span = {
        let segments = &decl.target.segments;
        let end = segments.len().saturating_sub(1);
        let start = segments.first()?.span.range.start;
        let stop = segments.get(end.saturating_sub(1))?.span.range.end;
        crate::diag::Span::new(decl.target.span.file, start..stop)
    };
    if !types::check_usable(ty, &type_span, diags) {
        return None;
    }
    let ctor_ident = decl.target.segments.last()?;
    let ctor = types::constructor(ty, ctor_ident, diags);
    let runner = types::runner(ty, kind, &decl.kind_span, diags);
    if kind == Kind::Courier && !package.couriers.iter().any(|c| c.path == ty.path()) {
        let courier = types::courier(ty, &type_span, diags);
        package.couriers.push(courier);
    }
    let ctor = ctor?;
    Some(Callee {
        display: format!("{}::{}", ty.name, ctor.name),
        span: ctor.span.clone(),
        params: ctor.params.iter().collect(),
        kind,
        runner,
        type_path: ty.path(),
        build: model::Build::Constructor(ctor.name.clone()),
    })
}

fn function_callee<'m>(
    decl: &ast::NodeDecl,
    imports: &Imports,
    crate_model: &'m CrateModel,
    package: &mut Generated,
    diags: &mut Diagnostics,
) -> Option<Callee<'m>> {
    let function = types::resolve_function(&decl.target, imports, crate_model, diags)?;
    let wrapper = types::function_wrapper(function, &decl.target.span, diags)?;
    let type_path = format!("crate::__lp_fns::{}", wrapper.wrapper);
    let runner = if wrapper.is_async {
        model::Runner::Async
    } else {
        model::Runner::Blocking
    };
    if !package.functions.iter().any(|f| f.path == wrapper.path) {
        package.functions.push(wrapper);
    }
    Some(Callee {
        display: function.method.name.clone(),
        span: function.method.span.clone(),
        params: function
            .method
            .params
            .iter()
            .filter(|p| p.ty != crate::rust::RustType::Context)
            .collect(),
        kind: Kind::Worker,
        runner,
        type_path,
        build: model::Build::Function(function.path()),
    })
}

/// Matches a declaration's named arguments to the callee's parameters; the values come back in
/// parameter order.
fn match_args(
    decl: &ast::NodeDecl,
    callee: &Callee,
    scope: &ProgramScope,
    diags: &mut Diagnostics,
) -> Option<Vec<model::Arg>> {
    let mut exprs = Exprs { scope, diags };
    let mut given: Vec<(&ast::Arg, Option<model::Value>)> = Vec::new();
    for arg in &decl.args {
        if let Some((first, _)) = given.iter().find(|(g, _)| g.name.name == arg.name.name) {
            exprs.diags.push(
                Diagnostic::new(
                    Code::DuplicateArgument,
                    format!("argument `{}` given twice", arg.name.name),
                )
                .primary(arg.name.span.clone(), "given again here")
                .secondary(first.name.span.clone(), "first given here")
                .help("remove one of them"),
            );
            continue;
        }
        let Some(param) = callee.params.iter().find(|p| p.name == arg.name.name) else {
            let mut diagnostic = Diagnostic::new(
                Code::UnknownArgument,
                format!("`{}` has no parameter `{}`", callee.display, arg.name.name),
            )
            .primary(arg.name.span.clone(), "unknown argument")
            .secondary(
                callee.span.clone(),
                format!("`{}` defined here", callee.display),
            );
            let names = callee.params.iter().map(|p| p.name.as_str());
            diagnostic = match did_you_mean(&arg.name.name, names) {
                Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                None if callee.params.is_empty() => {
                    diagnostic.help(format!("`{}` takes no arguments", callee.display))
                }
                None => diagnostic.help(format!(
                    "its parameters are {}",
                    callee
                        .params
                        .iter()
                        .map(|p| format!("`{}`", p.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            exprs.diags.push(diagnostic);
            given.push((arg, None));
            continue;
        };
        let site = Site {
            in_group: decl.count.is_some(),
            what: format!("argument `{}`", arg.name.name),
            rust_span: Some(&param.ty_span),
        };
        let value = exprs.value(&arg.value, &param.ty, &site);
        given.push((arg, value));
    }
    let mut args = Vec::new();
    let mut complete = true;
    for &param in &callee.params {
        match given.iter_mut().find(|(a, _)| a.name.name == param.name) {
            Some((_, value)) => match value.take() {
                Some(value) => args.push(model::Arg {
                    name: param.name.clone(),
                    value,
                    target: param.ty.clone(),
                }),
                None => complete = false,
            },
            None => {
                complete = false;
                exprs.diags.push(
                    Diagnostic::new(
                        Code::MissingArgument,
                        format!(
                            "argument `{}` of `{}` is missing",
                            param.name, callee.display
                        ),
                    )
                    .primary(decl.args_span.clone(), format!("missing `{}`", param.name))
                    .secondary(
                        param.span.clone(),
                        format!("parameter `{}` declared here", param.name),
                    )
                    .help(format!("add `{}: …` to the arguments", param.name)),
                );
            }
        }
    }
    if !complete {
        return None;
    }
    Some(args)
}

fn check_count(
    count: &ast::Expr,
    scope: &ProgramScope,
    diags: &mut Diagnostics,
) -> Option<model::IntExpr> {
    let site = Site {
        in_group: false,
        what: "a replica count".into(),
        rust_span: None,
    };
    let mut exprs = Exprs { scope, diags };
    let usize_type = crate::rust::RustType::Int(crate::rust::IntType::Usize);
    let value = exprs.int(count, &site, Code::BadCount, &usize_type)?;
    if let model::IntExpr::Literal(v) = value {
        if v < 0 {
            diags.push(
                Diagnostic::new(Code::BadCount, format!("replica count is negative: {v}"))
                    .primary(count.span.clone(), "negative")
                    .help("a group has zero or more replicas"),
            );
            return None;
        }
    }
    Some(value)
}

/// Warnings: unused params, and nodes that do nothing.
fn lint(
    program: &ast::Program,
    decls: &[Decl],
    params: &[model::Param],
    nodes: &[model::Node],
    couriers: &[model::Courier],
    diags: &mut Diagnostics,
) {
    let mut used = BTreeSet::new();
    for Decl { node: decl, .. } in decls {
        if let Some(count) = &decl.count {
            names_in(count, &mut used);
        }
        for arg in &decl.args {
            names_in(&arg.value, &mut used);
        }
        for entry in decl.block.iter().flat_map(|b| &b.entries) {
            if let ast::BlockEntry::Section(section) = entry {
                section
                    .fields
                    .iter()
                    .for_each(|f| names_in(&f.value, &mut used));
            }
        }
    }
    for item in &program.items {
        if let ast::ProgramItem::Param(param) = item {
            if params.iter().any(|p| p.name == param.name.name)
                && !used.contains(param.name.name.as_str())
            {
                diags.push(
                    Diagnostic::new(
                        Code::UnusedParam,
                        format!("param `{}` is never used", param.name.name),
                    )
                    .primary(param.name.span.clone(), "unused")
                    .help("pass it to a constructor or a replica count, or remove it"),
                );
            }
        }
    }
    // Lints run only on programs without errors, where every declaration became a node.
    for (Decl { node: decl, .. }, node) in decls.iter().zip(nodes) {
        let serves = couriers.iter().any(|c| {
            c.path == node.type_path && !c.methods.is_empty() && node.kind == Kind::Courier
        });
        if node.runner == model::Runner::None && !serves && !used.contains(node.name.as_str()) {
            diags.push(
                Diagnostic::new(Code::IdleNode, format!("node `{}` does nothing", node.name))
                    .primary(
                        decl.name.span.clone(),
                        "no `run`, no methods, and no node holds its handle",
                    )
                    .help(
                        "implement `lp::Run` for its type, give it `pub fn` methods, or remove it",
                    ),
            );
        }
    }
}

/// Collects every name an expression mentions.
fn names_in<'a>(expr: &'a ast::Expr, out: &mut BTreeSet<&'a str>) {
    match &expr.kind {
        ExprKind::Name(name) => {
            out.insert(&name.name);
        }
        ExprKind::Index { base, index } => {
            out.insert(&base.name);
            names_in(index, out);
        }
        ExprKind::List(items) => items.iter().for_each(|i| names_in(i, out)),
        ExprKind::Neg(inner) => names_in(inner, out),
        ExprKind::Binary { lhs, rhs, .. } => {
            names_in(lhs, out);
            names_in(rhs, out);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| names_in(&a.value, out)),
        _ => {}
    }
}
