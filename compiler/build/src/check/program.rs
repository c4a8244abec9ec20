//! Checking one program: its params, its nodes and groups, and each node's constructor call.

use super::model::{self, Kind, Literal, ParamType};
use super::scope::{Entity, NodeTarget, ProgramScope};
use super::types::Served;
use super::values::{Ctx, Exprs, GroupCtx, Locate};
use super::{names, types, Imports};
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics, Span};
use crate::rust::{CrateModel, RustType};
use crate::syntax::ast::{self, ExprKind};
use std::collections::BTreeSet;

/// Courier types and function wrappers the package needs, each once.
pub(super) struct Generated<'a> {
    pub couriers: &'a mut Vec<model::Courier>,
    pub functions: &'a mut Vec<model::FnNode>,
}

/// What checking a program needs besides the program.
pub(super) struct Inputs<'a, 's> {
    pub imports: &'a Imports,
    pub model: &'a CrateModel,
    pub locate: &'a mut Locate<'s>,
}

/// Checks a program; the result is only used when `diags` holds no error.
pub(super) fn check_program(
    program: &ast::Program,
    inputs: &mut Inputs<'_, '_>,
    package: &mut Generated,
    diags: &mut Diagnostics,
) -> model::Program {
    let mut scope = ProgramScope::default();
    for name in &program.broken_names {
        scope.declare_broken(&name.name);
    }
    let errors_before = diags.error_count();
    let params = declare_params(program, &mut scope, diags);
    let decls = declare_nodes(program, &mut scope, inputs, package, diags);
    let first_completed = super::process::first_completed(program, diags);

    let mut sites = Vec::new();
    for decl in decls.iter() {
        if let Some(count) = &decl.node.count {
            let mut exprs = Exprs {
                scope: &scope,
                model: inputs.model,
                sites: &mut sites,
                locate: inputs.locate,
                diags,
            };
            if let Some(checked) = exprs.count(count, &decl.node.name.name) {
                scope.set_count(&decl.node.name.name, checked);
            }
        }
    }
    let mut nodes = Vec::with_capacity(decls.len());
    for (index, decl) in decls.iter().enumerate() {
        let mut exprs = Exprs {
            scope: &scope,
            model: inputs.model,
            sites: &mut sites,
            locate: inputs.locate,
            diags,
        };
        if let Some(node) = check_node(decl, index, &mut exprs, package) {
            nodes.push(node);
        }
    }
    // Lints on a program with errors would mostly repeat them.
    if diags.error_count() == errors_before {
        lint(program, &decls, &params, diags);
    }
    model::Program {
        name: program.name.name.clone(),
        doc: program.doc.clone(),
        params,
        nodes,
        sites,
        first_completed,
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
        names::check_param(&param.name, diags);
        let default = param
            .default
            .as_ref()
            .and_then(|d| default_value(param, ty, d, diags));
        let entity = Entity::Param {
            ty,
            index: params.len(),
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
    let negative_int = |inner: &ast::Expr| match inner.kind {
        ExprKind::Int(v) => i128::try_from(v).ok().map(|v| -v),
        _ => None,
    };
    let literal = match (&expr.kind, ty) {
        (ExprKind::Int(v), ParamType::Int(_)) => i128::try_from(*v).ok().map(Literal::Int),
        (ExprKind::Neg(inner), ParamType::Int(_)) => negative_int(inner).map(Literal::Int),
        (ExprKind::Float(f), ParamType::Float(_)) => Some(Literal::Float(*f)),
        (ExprKind::Int(v), ParamType::Float(_)) => Some(Literal::Float(*v as f64)),
        (ExprKind::Neg(inner), ParamType::Float(_)) => match inner.kind {
            ExprKind::Float(f) => Some(Literal::Float(-f)),
            ExprKind::Int(v) => Some(Literal::Float(-(v as f64))),
            _ => None,
        },
        (ExprKind::Bool(b), ParamType::Bool) => Some(Literal::Bool(*b)),
        (ExprKind::Str(s), ParamType::String) => Some(Literal::Str(s.clone())),
        (ExprKind::Duration(d), ParamType::Duration) => Some(Literal::Duration(*d)),
        _ => None,
    };
    let out_of_range = match (&literal, ty) {
        (Some(Literal::Int(v)), ParamType::Int(int)) => {
            let (min, max) = int.range();
            (!(min..=max).contains(v)).then(|| (format!("{v}"), format!("{min} to {max}")))
        }
        (Some(Literal::Float(f)), ParamType::Float("f32"))
            if !(f.is_finite() && f.abs() <= f64::from(f32::MAX)) =>
        {
            Some((format!("{f}"), "a finite `f32`".to_string()))
        }
        _ => None,
    };
    if let Some((v, range)) = out_of_range {
        diags.push(
            Diagnostic::new(
                Code::OutOfRange,
                format!("default `{v}` out of range for `{}`", ty.name()),
            )
            .primary(expr.span.clone(), format!("`{}` holds {range}", ty.name()))
            .help(format!("use a value of {range}, or a wider type")),
        );
        return None;
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

/// A node or group declaration, with the `process` block it is in and what it calls.
pub(super) struct Decl<'p, 'm> {
    node: &'p ast::NodeDecl,
    process: Option<&'p ast::Ident>,
    callee: Option<Callee<'m>>,
}

fn declare_nodes<'p, 'm>(
    program: &'p ast::Program,
    scope: &mut ProgramScope,
    inputs: &Inputs<'m, '_>,
    package: &mut Generated,
    diags: &mut Diagnostics,
) -> Vec<Decl<'p, 'm>> {
    let mut decls = Vec::new();
    let mut processes: Vec<&ast::Ident> = Vec::new();
    for item in &program.items {
        match item {
            ast::ProgramItem::Node(node) => decls.push((node, None)),
            ast::ProgramItem::Process(process) => {
                names::check_node_name(&process.name, diags);
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
                decls.extend(process.nodes.iter().map(|node| (node, Some(&process.name))));
            }
            ast::ProgramItem::Param(_) => {}
        }
    }
    let mut out = Vec::with_capacity(decls.len());
    for (node, process) in decls {
        names::check_node_name(&node.name, diags);
        let callee = match node.kind {
            ast::NodeKind::Fn => function_callee(node, inputs, package, diags),
            ast::NodeKind::Courier | ast::NodeKind::Worker => {
                type_callee(node, inputs, package, diags)
            }
        };
        let target = match &callee {
            None => NodeTarget::Unresolved,
            Some(c) => match (&c.build, c.kind) {
                (model::Build::Function(path), _) => NodeTarget::Function(path.clone()),
                (_, Kind::Courier) => NodeTarget::Courier(c.segments.clone()),
                (_, Kind::Worker) => NodeTarget::Worker(c.segments.clone()),
            },
        };
        let written = node
            .target
            .parent()
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>();
        let entity = Entity::Node {
            written: if written.is_empty() {
                node.target.to_string()
            } else {
                written.join("::")
            },
            target,
            is_group: node.count.is_some(),
            count: None,
            index: out.len(),
            span: node.name.span.clone(),
        };
        if declare(scope, &node.name, entity, diags) {
            out.push(Decl {
                node,
                process,
                callee,
            });
        }
    }
    out
}

fn check_node(
    decl: &Decl,
    index: usize,
    exprs: &mut Exprs,
    package: &mut Generated,
) -> Option<model::Node> {
    let node = decl.node;
    let group = node.count.is_some().then(|| GroupCtx {
        index,
        count: match exprs.scope.get(&node.name.name) {
            Some(Entity::Node { count, .. }) => count.clone(),
            _ => None,
        },
    });
    let settings = node
        .block
        .as_ref()
        .map(|block| {
            let kind = decl.callee.as_ref().map(|c| c.kind);
            super::settings::check_block(block, &node.name.name, kind, exprs)
        })
        .unwrap_or_default();
    let callee = decl.callee.as_ref()?;
    super::batch::check_methods(
        &settings.batches,
        callee.kind,
        package
            .couriers
            .iter_mut()
            .find(|c| c.interface.path == callee.type_path),
        exprs.diags,
    );
    let args = match_args(node, callee, group.as_ref(), exprs)?;
    let count = match &group {
        Some(group) => Some(group.count.as_ref()?.count),
        None => None,
    };
    Some(model::Node {
        name: node.name.name.clone(),
        doc: node.doc.clone(),
        count,
        kind: callee.kind,
        runner: callee.runner,
        type_path: callee.type_path.clone(),
        build: callee.build.clone(),
        args,
        process: decl.process.map(|p| p.name.clone()),
        settings,
        span: node.name.span.clone(),
    })
}

/// What a node declaration calls: a constructor, or a function wrapped in a generated type.
struct Callee<'m> {
    /// `Consumer::new` or `setup`, for messages.
    display: String,
    /// Where it is defined in Rust.
    span: Span,
    /// The parameters the `.lp` arguments go to.
    params: Vec<&'m crate::rust::Param>,
    kind: Kind,
    runner: model::Runner,
    /// The node type's path (`crate::nodes::Producer`, or the `fn` wrapper's).
    type_path: String,
    /// The node type's path as segments (empty for a `fn` node).
    segments: Vec<String>,
    build: model::Build,
}

fn type_callee<'m>(
    decl: &ast::NodeDecl,
    inputs: &Inputs<'m, '_>,
    package: &mut Generated,
    diags: &mut Diagnostics,
) -> Option<Callee<'m>> {
    let kind = match decl.kind {
        ast::NodeKind::Courier => Kind::Courier,
        _ => Kind::Worker,
    };
    let ty = types::resolve_type(&decl.target, inputs.imports, inputs.model, diags)?;
    let type_span = {
        let segments = &decl.target.segments;
        let end = segments.len().saturating_sub(1);
        let start = segments.first()?.span.range.start;
        let stop = segments.get(end.saturating_sub(1))?.span.range.end;
        Span::new(decl.target.span.file, start..stop)
    };
    if !types::check_usable(ty, &type_span, "used as a node type here", diags) {
        return None;
    }
    let ctor_ident = decl.target.segments.last()?;
    let ctor = types::constructor(ty, ctor_ident, diags);
    let runner = types::runner(ty, kind, &decl.kind_span, diags);
    let type_path = ty.path();
    if kind == Kind::Courier
        && !package
            .couriers
            .iter()
            .any(|c| c.interface.path == type_path)
    {
        let why = format!("`{}` is served as a courier here", ty.name);
        let served = Served {
            name: &ty.name,
            is_trait: false,
            at: &type_span,
            why: &why,
            model: inputs.model,
        };
        let interface = types::interface(
            ty.methods.iter(),
            &served,
            ty.path(),
            ty.module.clone(),
            diags,
        );
        package.couriers.push(model::Courier {
            interface,
            traits: Vec::new(),
        });
    }
    let ctor = ctor?;
    Some(Callee {
        display: format!("{}::{}", ty.name, ctor.method.name),
        span: ctor.method.span.clone(),
        params: ctor.method.params.iter().collect(),
        kind,
        runner,
        type_path,
        segments: ty.segments(),
        build: model::Build::Constructor {
            name: ctor.method.name.clone(),
            fallible: ctor.fallible,
        },
    })
}

fn function_callee<'m>(
    decl: &ast::NodeDecl,
    inputs: &Inputs<'m, '_>,
    package: &mut Generated,
    diags: &mut Diagnostics,
) -> Option<Callee<'m>> {
    let function = types::resolve_function(&decl.target, inputs.imports, inputs.model, diags)?;
    let wrapper = types::function_wrapper(function, &decl.target.span, diags)?;
    let type_path = super::FNS_MODULE.replace("{}", &wrapper.wrapper);
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
            .filter(|p| p.ty != RustType::Context)
            .collect(),
        kind: Kind::Worker,
        runner,
        type_path,
        segments: Vec::new(),
        build: model::Build::Function(function.path()),
    })
}

/// Matches a declaration's named arguments to the callee's parameters; the values come back in
/// parameter order. An `Option` parameter left out is `None`.
fn match_args(
    decl: &ast::NodeDecl,
    callee: &Callee,
    group: Option<&GroupCtx>,
    exprs: &mut Exprs,
) -> Option<Vec<model::Arg>> {
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
            unknown_argument(arg, callee, exprs.diags);
            given.push((arg, None));
            continue;
        };
        let ctx = Ctx {
            what: format!("argument `{}` of `{}`", arg.name.name, decl.name.name),
            rust_span: Some(&param.ty_span),
            group: group.cloned(),
        };
        let value = exprs.value(&arg.value, &param.ty, &ctx);
        given.push((arg, value));
    }
    let mut args = Vec::new();
    let mut complete = true;
    for &param in &callee.params {
        let value = match given.iter_mut().find(|(a, _)| a.name.name == param.name) {
            Some((_, value)) => value.take(),
            None if matches!(param.ty, RustType::Option(_)) => Some(model::Value::None),
            None => {
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
                None
            }
        };
        match value {
            Some(value) => args.push(model::Arg {
                name: param.name.clone(),
                value,
                target: param.ty.clone(),
            }),
            None => complete = false,
        }
    }
    complete.then_some(args)
}

fn unknown_argument(arg: &ast::Arg, callee: &Callee, diags: &mut Diagnostics) {
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
    diags.push(diagnostic);
}

/// Warns of params no value uses.
fn lint(program: &ast::Program, decls: &[Decl], params: &[model::Param], diags: &mut Diagnostics) {
    let mut used = BTreeSet::new();
    for Decl { node: decl, .. } in decls {
        if let Some(count) = &decl.count {
            names_in(count, &mut used);
        }
        for arg in &decl.args {
            names_in(&arg.value, &mut used);
        }
        for entry in decl.block.iter().flat_map(|b| &b.entries) {
            let fields = match entry {
                ast::BlockEntry::Section(section) => &section.fields,
                ast::BlockEntry::Batch(batch) => &batch.fields,
                ast::BlockEntry::Setting(setting) => {
                    names_in(&setting.value, &mut used);
                    continue;
                }
            };
            fields.iter().for_each(|f| names_in(&f.value, &mut used));
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
