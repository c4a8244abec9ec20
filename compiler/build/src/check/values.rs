//! Checking value expressions against the Rust types they are given to, and turning them into
//! checked [`Value`]s. Every constant is folded here (and range-checked, replica by replica in
//! a group of known size); what depends on flags becomes a [`Site`], evaluated and checked once
//! when the program is built.

use super::fold::{self, Fault, Known, Num};
use super::model::{Count, Index, Literal, NumExpr, NumType, ParamType, Site, Value};
use super::scope::{Entity, GroupCount, NodeTarget, ProgramScope};
use crate::diag::{
    did_you_mean, Code, Diagnostic, Diagnostics, FileId, LineIndex, SourceMap, Span,
};
use crate::rust::{CrateModel, HandleTarget, IntType, RustType};
use crate::syntax::ast::{self, ExprKind};
use std::collections::HashMap;

/// The most replicas a group may have (the runtime's limit, `lp::codegen::MAX_REPLICAS`).
pub(super) const MAX_REPLICAS: i128 = 1 << 20;

/// A group being indexed, as its scope entry holds it.
struct IndexedGroup {
    /// What its nodes are.
    target: NodeTarget,
    /// The node type as written, for messages.
    written: String,
    /// Its replica count, once checked.
    count: Option<GroupCount>,
    /// Its index among the program's nodes and groups.
    index: usize,
}

/// Where a value is being checked: for messages, and for `replica`.
pub(super) struct Ctx<'a> {
    /// What the value is for, e.g. "argument `seed` of `actor`".
    pub what: String,
    /// The Rust parameter's type span, when there is one.
    pub rust_span: Option<&'a Span>,
    /// The group whose replicas the value is computed for (`replica` is allowed).
    pub group: Option<GroupCtx>,
}

/// The group a value is computed in.
#[derive(Clone)]
pub(super) struct GroupCtx {
    /// The group's index among the program's nodes.
    pub index: usize,
    /// Its replica count, when it checked.
    pub count: Option<GroupCount>,
}

/// Turns spans into the locations and texts sites carry.
pub(super) struct Locate<'a> {
    sources: &'a SourceMap,
    lines: HashMap<FileId, LineIndex<'a>>,
}

impl<'a> Locate<'a> {
    pub fn new(sources: &'a SourceMap) -> Self {
        Locate {
            sources,
            lines: HashMap::new(),
        }
    }

    /// `file.lp:LINE:COL` (the file's name without its directory, so generated code does not
    /// depend on where `lpc` ran).
    fn at(&mut self, span: &Span) -> String {
        let file = self.sources.get(span.file);
        let index = self
            .lines
            .entry(span.file)
            .or_insert_with(|| LineIndex::new(&file.text));
        let line = index.line_of(span.range.start);
        let start = index.line_start(line).unwrap_or(0);
        let column = file
            .text
            .get(start..span.range.start)
            .map_or(1, |s| s.chars().count() + 1);
        let name = std::path::Path::new(&file.name)
            .file_name()
            .map_or_else(|| file.name.clone(), |n| n.to_string_lossy().into_owned());
        format!("{name}:{}:{column}", line + 1)
    }

    /// The source text of `span`, on one line.
    fn text(&self, span: &Span) -> String {
        let text = self.sources.get(span.file).text.get(span.range.clone());
        text.unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Checks expressions of one program.
pub(super) struct Exprs<'a, 'd, 's> {
    pub scope: &'a ProgramScope,
    pub model: &'a CrateModel,
    pub sites: &'d mut Vec<Site>,
    pub locate: &'d mut Locate<'s>,
    pub diags: &'d mut Diagnostics,
}

/// A numeric expression being lowered, with what it depends on.
struct Lowered {
    expr: NumExpr,
    /// Params it reads (indices).
    params: Vec<usize>,
    uses_replica: bool,
}

/// The range a number must have beyond its type's.
#[derive(Clone, Copy, Default)]
pub(super) struct Limits {
    pub min: Option<i128>,
    pub max: Option<i128>,
}

impl Exprs<'_, '_, '_> {
    /// Checks `expr` as a value for a Rust parameter of type `target`.
    pub fn value(&mut self, expr: &ast::Expr, target: &RustType, ctx: &Ctx) -> Option<Value> {
        if let ExprKind::Error = expr.kind {
            return None;
        }
        match target {
            RustType::Int(int) => self.number(expr, NumType::Int(*int), Limits::default(), ctx),
            RustType::Float(f) => self.number(expr, NumType::Float(f), Limits::default(), ctx),
            RustType::Bool | RustType::String | RustType::Duration => {
                self.simple(expr, target, ctx)
            }
            RustType::Handle(handle) => self.handle(expr, handle, target, ctx),
            RustType::Vec(inner) => self.vec(expr, inner, target, ctx),
            RustType::Option(inner) => self
                .value(expr, inner, ctx)
                .map(|v| Value::Some(Box::new(v))),
            _ => {
                let mut diagnostic = Diagnostic::new(
                    Code::ArgumentType,
                    format!(
                        "{} has type `{}`, which a `.lp` program cannot give",
                        ctx.what,
                        target.display()
                    ),
                )
                .primary(expr.span.clone(), "cannot be converted");
                if let Some(span) = ctx.rust_span {
                    diagnostic = diagnostic.secondary(span.clone(), "parameter type declared here");
                }
                self.diags.push(diagnostic.help(
                    "take an integer, float, `bool`, `String`, `Duration`, `Handle<T>`, an `Option` or a `Vec` of these",
                ));
                None
            }
        }
    }

    /// A number of type `target` (within `limits`): folded when constant, else a site.
    pub fn number(
        &mut self,
        expr: &ast::Expr,
        target: NumType,
        limits: Limits,
        ctx: &Ctx,
    ) -> Option<Value> {
        let lowered = self.lower(expr, target, ctx)?;
        if let (NumExpr::Param(i), None, None) = (&lowered.expr, limits.min, limits.max) {
            if let Some((name, ty)) = self.param_at(*i) {
                if ty.rust_type() == num_rust_type(target) {
                    return Some(Value::Param(name));
                }
            }
        }
        let float = matches!(target, NumType::Float(_));
        let replicas = ctx.group.as_ref().and_then(const_count);
        let known = Known {
            replica: None,
            replicas,
        };
        match fold::eval(&lowered.expr, float, known) {
            Err(fault) => {
                self.fault(expr, fault, None, ctx);
                return None;
            }
            Ok(Some(value)) => {
                self.fits(expr, value, target, limits, None, ctx)?;
                return Some(Value::Literal(match value {
                    Num::Int(v) => Literal::Int(v),
                    Num::Float(f) => Literal::Float(f),
                }));
            }
            Ok(None) => {}
        }
        if lowered.params.is_empty() && lowered.uses_replica {
            if let Some(count) = replicas {
                self.each_replica(expr, &lowered.expr, float, count, target, limits, ctx)?;
            }
        }
        Some(Value::Computed(
            self.site(expr, lowered, target, limits, None, ctx),
        ))
    }

    /// Folds a replica-dependent constant for every replica of a group of known size.
    #[allow(clippy::too_many_arguments)]
    fn each_replica(
        &mut self,
        expr: &ast::Expr,
        num: &NumExpr,
        float: bool,
        count: i128,
        target: NumType,
        limits: Limits,
        ctx: &Ctx,
    ) -> Option<()> {
        for replica in 0..count {
            let known = Known {
                replica: Some(replica),
                replicas: Some(count),
            };
            match fold::eval(num, float, known) {
                Err(fault) => {
                    self.fault(expr, fault, Some(replica), ctx);
                    return None;
                }
                Ok(Some(value)) => self.fits(expr, value, target, limits, Some(replica), ctx)?,
                Ok(None) => {}
            }
        }
        Some(())
    }

    /// Records a site for a value computed when the program is built.
    fn site(
        &mut self,
        expr: &ast::Expr,
        lowered: Lowered,
        target: NumType,
        limits: Limits,
        bound: Option<(usize, &GroupCount)>,
        ctx: &Ctx,
    ) -> usize {
        let mut flags = lowered.params;
        let counts = ctx
            .group
            .as_ref()
            .and_then(|g| g.count.as_ref())
            .into_iter()
            .chain(bound.map(|(_, count)| count));
        for count in counts {
            flags.extend(count.flags.iter().copied());
        }
        flags.sort_unstable();
        flags.dedup();
        self.sites.push(Site {
            what: ctx.what.clone(),
            text: self.locate.text(&expr.span),
            at: self.locate.at(&expr.span),
            expr: lowered.expr,
            target,
            min: limits.min,
            max: limits.max,
            group: ctx.group.as_ref().map(|g| g.index),
            bound: bound.map(|(index, _)| index),
            flags,
        });
        self.sites.len() - 1
    }

    /// A group's replica count: folded when constant, else a site (checked when built).
    pub fn count(&mut self, expr: &ast::Expr, name: &str) -> Option<GroupCount> {
        let ctx = Ctx {
            what: format!("the count of group `{name}`"),
            rust_span: None,
            group: None,
        };
        let target = NumType::Int(IntType::Usize);
        let lowered = self.lower(expr, target, &ctx)?;
        let limits = Limits {
            min: None,
            max: Some(MAX_REPLICAS),
        };
        match fold::eval(&lowered.expr, false, Known::default()) {
            Err(fault) => {
                self.fault(expr, fault, None, &ctx);
                None
            }
            Ok(Some(Num::Int(v))) if v < 0 => {
                self.diags.push(
                    Diagnostic::new(Code::BadCount, format!("replica count is negative: {v}"))
                        .primary(expr.span.clone(), "negative")
                        .help("a group has zero or more replicas"),
                );
                None
            }
            Ok(Some(Num::Int(v))) if v > MAX_REPLICAS => {
                self.diags.push(
                    Diagnostic::new(
                        Code::BadCount,
                        format!("replica count {v} is over the limit of {MAX_REPLICAS}"),
                    )
                    .primary(expr.span.clone(), "too many replicas")
                    .help(format!(
                        "a group has at most {MAX_REPLICAS} replicas: split it into several groups"
                    )),
                );
                None
            }
            Ok(Some(value)) => {
                let count = match value {
                    Num::Int(v) => v as u64,
                    Num::Float(_) => return None,
                };
                Some(GroupCount {
                    count: Count::Const(count),
                    flags: Vec::new(),
                })
            }
            Ok(None) => {
                let flags = lowered.params.clone();
                let site = self.site(expr, lowered, target, limits, None, &ctx);
                Some(GroupCount {
                    count: Count::Site(site),
                    flags,
                })
            }
        }
    }

    /// Lowers arithmetic to a [`NumExpr`] for `target`, reporting what is not a number of it.
    fn lower(&mut self, expr: &ast::Expr, target: NumType, ctx: &Ctx) -> Option<Lowered> {
        let mut lowered = Lowered {
            expr: NumExpr::Int(0),
            params: Vec::new(),
            uses_replica: false,
        };
        lowered.expr = self.lower_into(expr, target, ctx, &mut lowered)?;
        Some(lowered)
    }

    fn lower_into(
        &mut self,
        expr: &ast::Expr,
        target: NumType,
        ctx: &Ctx,
        out: &mut Lowered,
    ) -> Option<NumExpr> {
        let float = matches!(target, NumType::Float(_));
        match &expr.kind {
            ExprKind::Int(v) => match i128::try_from(*v) {
                Ok(v) => Some(NumExpr::Int(v)),
                Err(_) => {
                    self.diags.push(
                        Diagnostic::new(Code::OutOfRange, "integer literal is too large")
                            .primary(expr.span.clone(), "does not fit in any integer type")
                            .help("integers in `.lp` range from -2^127 to 2^127 - 1"),
                    );
                    None
                }
            },
            ExprKind::Float(f) if float => Some(NumExpr::Float(*f)),
            ExprKind::Neg(inner) => {
                let inner = self.lower_into(inner, target, ctx, out)?;
                Some(match inner {
                    NumExpr::Int(v) if v != i128::MIN => NumExpr::Int(-v),
                    NumExpr::Float(f) => NumExpr::Float(-f),
                    other => NumExpr::Neg(Box::new(other)),
                })
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let lhs = self.lower_into(lhs, target, ctx, out);
                let rhs = self.lower_into(rhs, target, ctx, out);
                Some(NumExpr::Binary(*op, Box::new(lhs?), Box::new(rhs?)))
            }
            ExprKind::Replica | ExprKind::Replicas => self.replica(expr, ctx, out),
            ExprKind::Name(name) => self.numeric_param(expr, name, target, ctx, out),
            ExprKind::Error => None,
            _ => {
                self.not_a_number(expr, target, ctx);
                None
            }
        }
    }

    /// `replica` or `replicas`, which only a group's arguments may use.
    fn replica(&mut self, expr: &ast::Expr, ctx: &Ctx, out: &mut Lowered) -> Option<NumExpr> {
        let word = if matches!(expr.kind, ExprKind::Replica) {
            "replica"
        } else {
            "replicas"
        };
        if ctx.group.is_none() {
            self.diags.push(
                Diagnostic::new(
                    Code::ReplicaOutsideGroup,
                    format!("`{word}` used outside a group"),
                )
                .primary(expr.span.clone(), "only a group's replicas have an index")
                .help("use `replica` in the arguments of a `group` declaration"),
            );
            return None;
        }
        out.uses_replica = true;
        Some(if word == "replica" {
            NumExpr::Replica
        } else {
            NumExpr::Replicas
        })
    }

    /// A name in arithmetic for `target`: a param of a numeric type that fits it.
    fn numeric_param(
        &mut self,
        expr: &ast::Expr,
        name: &ast::Ident,
        target: NumType,
        ctx: &Ctx,
        out: &mut Lowered,
    ) -> Option<NumExpr> {
        let float = matches!(target, NumType::Float(_));
        match self.scope.get(&name.name) {
            Some(Entity::Param { ty, index, .. })
                if matches!(ty, ParamType::Int(_))
                    || (float && matches!(ty, ParamType::Float(_))) =>
            {
                if !out.params.contains(index) {
                    out.params.push(*index);
                }
                Some(NumExpr::Param(*index))
            }
            Some(_) => {
                self.not_a_number(expr, target, ctx);
                None
            }
            None => {
                self.known_name(name);
                None
            }
        }
    }

    fn not_a_number(&mut self, expr: &ast::Expr, target: NumType, ctx: &Ctx) {
        if ctx.what.starts_with("the count of") {
            self.diags.push(
                Diagnostic::new(
                    Code::BadCount,
                    format!(
                        "{} must be an integer, found {}",
                        ctx.what,
                        self.describe(expr)
                    ),
                )
                .primary(expr.span.clone(), "not an integer")
                .help("use an integer literal, an integer param, or arithmetic over them"),
            );
            return;
        }
        if ctx.what.starts_with("the index") {
            self.diags.push(
                Diagnostic::new(
                    Code::BadIndex,
                    format!(
                        "{} must be an integer, found {}",
                        ctx.what,
                        self.describe(expr)
                    ),
                )
                .primary(expr.span.clone(), "not an integer")
                .help("use an integer literal, an integer param, or arithmetic over them"),
            );
            return;
        }
        self.mismatch(expr, &num_rust_type(target), ctx);
    }

    /// Reports why constant arithmetic has no value.
    fn fault(&mut self, expr: &ast::Expr, fault: Fault, replica: Option<i128>, ctx: &Ctx) {
        let text = self.locate.text(&expr.span);
        let message = match replica {
            Some(r) => format!("for replica {r}, `{text}` {}", fault.describe()),
            None => format!("`{text}` {}", fault.describe()),
        };
        let help = match fault {
            Fault::DivisionByZero => "make sure the divisor is never zero",
            Fault::Overflow => "use smaller numbers: arithmetic in `.lp` is checked",
        };
        self.diags.push(
            Diagnostic::new(Code::ConstantArithmetic, message)
                .primary(expr.span.clone(), fault.describe())
                .note(format!("this is {}", ctx.what))
                .help(help),
        );
    }

    /// Checks a folded value against its target, reporting E0206 when it does not fit.
    fn fits(
        &mut self,
        expr: &ast::Expr,
        value: Num,
        target: NumType,
        limits: Limits,
        replica: Option<i128>,
        ctx: &Ctx,
    ) -> Option<()> {
        let misfit = match fold::fits(value, target, limits.min) {
            Ok(()) => match (limits.max, value) {
                (Some(max), Num::Int(v)) if v > max => fold::Misfit {
                    allowed: format!("at most {max}"),
                },
                _ => return Some(()),
            },
            Err(_) if limits.min.is_some() && matches!(value, Num::Int(_)) => fold::Misfit {
                allowed: format!("at least {}", limits.min.unwrap_or_default()),
            },
            Err(misfit) => misfit,
        };
        let ty = num_rust_type(target).display();
        let plain_literal = matches!(expr.kind, ExprKind::Int(_) | ExprKind::Float(_))
            || matches!(&expr.kind, ExprKind::Neg(inner) if matches!(inner.kind, ExprKind::Int(_) | ExprKind::Float(_)));
        let message = match (replica, plain_literal) {
            (None, true) => format!("literal `{value}` out of range for `{ty}`"),
            (None, false) => format!(
                "`{}` is {value}, out of range for `{ty}`",
                self.locate.text(&expr.span)
            ),
            (Some(r), _) => format!(
                "for replica {r}, `{}` is {value}, out of range for `{ty}`",
                self.locate.text(&expr.span)
            ),
        };
        let mut diagnostic = Diagnostic::new(Code::OutOfRange, message).primary(
            expr.span.clone(),
            format!("{} takes {}", ctx.what, misfit.allowed),
        );
        let help = match ctx.rust_span {
            Some(rust) => {
                diagnostic = diagnostic.secondary(rust.clone(), "parameter type declared here");
                format!(
                    "give a value of {}, or a wider type in Rust",
                    misfit.allowed
                )
            }
            None => format!("give a value of {}", misfit.allowed),
        };
        self.diags.push(diagnostic.help(help));
        None
    }

    /// Literals and params of the scalar types `bool`, `String`, `Duration`.
    fn simple(&mut self, expr: &ast::Expr, target: &RustType, ctx: &Ctx) -> Option<Value> {
        let literal = match (&expr.kind, target) {
            (ExprKind::Bool(b), RustType::Bool) => Some(Literal::Bool(*b)),
            (ExprKind::Str(s), RustType::String) => Some(Literal::Str(s.clone())),
            (ExprKind::Duration(d), RustType::Duration) => Some(Literal::Duration(*d)),
            _ => None,
        };
        if let Some(literal) = literal {
            return Some(Value::Literal(literal));
        }
        if let ExprKind::Name(name) = &expr.kind {
            if let Some(Entity::Param { ty, .. }) = self.scope.get(&name.name) {
                if ty.rust_type() == *target {
                    return Some(Value::Param(name.name.clone()));
                }
            }
        }
        self.mismatch(expr, target, ctx);
        None
    }

    fn handle(
        &mut self,
        expr: &ast::Expr,
        handle: &HandleTarget,
        target: &RustType,
        ctx: &Ctx,
    ) -> Option<Value> {
        match &expr.kind {
            ExprKind::Name(name) => match self.scope.get(&name.name) {
                Some(Entity::Node {
                    target: node_target,
                    is_group: false,
                    written,
                    ..
                }) => {
                    let (node_target, written) = (node_target.clone(), written.clone());
                    self.serves(expr, &name.name, &node_target, &written, handle, ctx)?;
                    Some(Value::Node(name.name.clone()))
                }
                Some(Entity::Node { is_group: true, .. }) => {
                    let mut diagnostic = Diagnostic::new(
                        Code::HandleShape,
                        format!(
                            "{} expects one handle, but `{}` is a group",
                            ctx.what, name.name
                        ),
                    )
                    .primary(
                        expr.span.clone(),
                        format!("`{}` is a group of replicas", name.name),
                    );
                    if let Some(span) = ctx.rust_span {
                        diagnostic = diagnostic.secondary(span.clone(), "one handle expected here");
                    }
                    self.diags.push(diagnostic.help(format!(
                        "pick one replica, e.g. `{0}[0]`, or take `Vec<Handle<{1}>>` in Rust",
                        name.name,
                        handle.display()
                    )));
                    None
                }
                _ => {
                    self.known_name(name)?;
                    self.mismatch(expr, target, ctx);
                    None
                }
            },
            ExprKind::Index { base, index } => self.group_at(expr, base, index, handle, ctx),
            _ => {
                self.mismatch(expr, target, ctx);
                None
            }
        }
    }

    /// `group[i]` given for a `Handle<T>`.
    fn group_at(
        &mut self,
        expr: &ast::Expr,
        base: &ast::Ident,
        index: &ast::Expr,
        handle: &HandleTarget,
        ctx: &Ctx,
    ) -> Option<Value> {
        let group = self.indexed_group(base)?;
        self.serves(expr, &base.name, &group.target, &group.written, handle, ctx)?;
        let index_ctx = Ctx {
            what: format!("the index into `{}` in {}", base.name, ctx.what),
            rust_span: None,
            group: ctx.group.clone(),
        };
        let target = NumType::Int(IntType::Usize);
        let lowered = self.lower(index, target, &index_ctx)?;
        let count = group.count?;
        let replicas = ctx.group.as_ref().and_then(const_count);
        let folded = fold::eval(
            &lowered.expr,
            false,
            Known {
                replica: None,
                replicas,
            },
        );
        match (folded, count.count) {
            (Err(fault), _) => {
                self.fault(index, fault, None, &index_ctx);
                None
            }
            (Ok(Some(Num::Int(i))), Count::Const(n)) => self.const_index(base, index, i, n),
            _ => {
                let limits = Limits::default();
                if let (true, Some(replicas), Count::Const(n)) =
                    (lowered.params.is_empty(), replicas, count.count)
                {
                    let bound = Limits {
                        min: None,
                        max: Some(i128::from(n) - 1),
                    };
                    let num = lowered.expr.clone();
                    self.each_replica(index, &num, false, replicas, target, bound, &index_ctx)?;
                }
                let site = self.site(
                    index,
                    lowered,
                    target,
                    limits,
                    Some((group.index, &count)),
                    &index_ctx,
                );
                Some(Value::GroupAt(base.name.clone(), Index::Site(site)))
            }
        }
    }

    /// The group `base` names, for indexing; reports a name that is not a group.
    fn indexed_group(&mut self, base: &ast::Ident) -> Option<IndexedGroup> {
        let Some(Entity::Node {
            target,
            is_group,
            count,
            written,
            index,
            ..
        }) = self.scope.get(&base.name)
        else {
            self.known_name(base)?;
            self.diags.push(
                Diagnostic::new(
                    Code::BadIndex,
                    format!("cannot index `{}`: it is not a group", base.name),
                )
                .primary(base.span.clone(), "not a group")
                .help("only groups (`group name[count] = …`) can be indexed"),
            );
            return None;
        };
        if !is_group {
            self.diags.push(
                Diagnostic::new(
                    Code::BadIndex,
                    format!("cannot index `{}`: it is a single node", base.name),
                )
                .primary(base.span.clone(), "a node, not a group")
                .help(format!("use `{}` without an index", base.name)),
            );
            return None;
        }
        Some(IndexedGroup {
            target: target.clone(),
            written: written.clone(),
            count: count.clone(),
            index: *index,
        })
    }

    /// Replica `i` of the group `base` of `n` replicas, a constant index: reported when out of
    /// range.
    fn const_index(
        &mut self,
        base: &ast::Ident,
        index: &ast::Expr,
        i: i128,
        n: u64,
    ) -> Option<Value> {
        if i < 0 || i >= i128::from(n) {
            self.diags.push(
                Diagnostic::new(
                    Code::BadIndex,
                    format!(
                        "index {i} is out of range for group `{}` of {n} replicas",
                        base.name
                    ),
                )
                .primary(index.span.clone(), "out of range")
                .help(if n == 0 {
                    format!("group `{}` is empty: it has no replica to index", base.name)
                } else {
                    format!("use an index from 0 to {}", n - 1)
                }),
            );
            return None;
        }
        Some(Value::GroupAt(base.name.clone(), Index::Const(i as u64)))
    }

    fn vec(
        &mut self,
        expr: &ast::Expr,
        inner: &RustType,
        target: &RustType,
        ctx: &Ctx,
    ) -> Option<Value> {
        match (&expr.kind, inner) {
            (ExprKind::List(items), _) => {
                let mut values = Vec::new();
                for item in items {
                    values.push(self.value(item, inner, ctx));
                }
                values
                    .into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(Value::List)
            }
            (ExprKind::Name(name), RustType::Handle(handle)) => match self.scope.get(&name.name) {
                Some(Entity::Node {
                    target: node_target,
                    is_group: true,
                    written,
                    ..
                }) => {
                    let (node_target, written) = (node_target.clone(), written.clone());
                    self.serves(expr, &name.name, &node_target, &written, handle, ctx)?;
                    Some(Value::Group(name.name.clone()))
                }
                Some(Entity::Node {
                    is_group: false, ..
                }) => {
                    let mut diagnostic = Diagnostic::new(
                        Code::HandleShape,
                        format!(
                            "{} expects a list of handles, but `{}` is a single node",
                            ctx.what, name.name
                        ),
                    )
                    .primary(expr.span.clone(), "one node");
                    if let Some(span) = ctx.rust_span {
                        diagnostic = diagnostic.secondary(span.clone(), "a `Vec` expected here");
                    }
                    self.diags
                        .push(diagnostic.help(format!("write a list: `[{}]`", name.name)));
                    None
                }
                _ => {
                    self.known_name(name)?;
                    self.mismatch(expr, target, ctx);
                    None
                }
            },
            _ => {
                self.mismatch(expr, target, ctx);
                None
            }
        }
    }

    /// Checks that a node serves what a handle expects: a courier of the handle's type, or of
    /// a type implementing the handle's trait.
    fn serves(
        &mut self,
        expr: &ast::Expr,
        node: &str,
        target: &NodeTarget,
        written: &str,
        handle: &HandleTarget,
        ctx: &Ctx,
    ) -> Option<()> {
        match target {
            NodeTarget::Unresolved => None,
            NodeTarget::Courier(path) if self.answers(path, handle) => Some(()),
            NodeTarget::Worker(path) if self.answers(path, handle) => {
                let mut diagnostic = Diagnostic::new(
                    Code::HandleType,
                    format!(
                        "{} expects a handle to `{}`, but `{node}` is a `worker`: it serves no calls",
                        ctx.what,
                        handle.display()
                    ),
                )
                .primary(expr.span.clone(), "a worker node");
                if let Some(span) = ctx.rust_span {
                    diagnostic = diagnostic.secondary(span.clone(), "a handle expected here");
                }
                self.diags.push(diagnostic.help(format!(
                    "declare `{node}` as a `courier` (its `run` still runs), or pass another node"
                )));
                None
            }
            NodeTarget::Function(path) => {
                let mut diagnostic = Diagnostic::new(
                    Code::HandleType,
                    format!(
                        "{} expects a handle to `{}`, but `{node}` is a `fn` node running `{path}`: it serves no calls",
                        ctx.what,
                        handle.display()
                    ),
                )
                .primary(expr.span.clone(), "a `fn` node");
                if let Some(span) = ctx.rust_span {
                    diagnostic = diagnostic.secondary(span.clone(), "a handle expected here");
                }
                self.diags.push(diagnostic.help(
                    "only `courier` nodes can be called: pass a courier node of the expected type",
                ));
                None
            }
            NodeTarget::Courier(path) => {
                let label = format!("a `{written}` node");
                self.wrong_handle_type(expr, node, written, path, label, handle, ctx);
                None
            }
            NodeTarget::Worker(path) => {
                let label = format!("a `{written}` worker");
                self.wrong_handle_type(expr, node, written, path, label, handle, ctx);
                None
            }
        }
    }

    /// Whether the type at `path` answers calls through `handle`: it is the handle's type, or
    /// implements the handle's trait.
    fn answers(&self, path: &[String], handle: &HandleTarget) -> bool {
        if handle.is_dyn {
            self.model
                .type_at_path(path)
                .is_some_and(|t| t.implements(&handle.path))
        } else {
            path == handle.path.as_slice()
        }
    }

    /// Reports `node`, of the type at `path` (written `written`, labelled `label`), given for a
    /// handle it does not answer, naming a node that would.
    #[allow(clippy::too_many_arguments)]
    fn wrong_handle_type(
        &mut self,
        expr: &ast::Expr,
        node: &str,
        written: &str,
        path: &[String],
        label: String,
        handle: &HandleTarget,
        ctx: &Ctx,
    ) {
        let expected = handle.display();
        // Two types of one name: say both paths.
        let actual = path.join("::");
        let both = Some(actual)
            .filter(|actual| actual.rsplit("::").next() == handle.path.last().map(String::as_str));
        let message = match &both {
            Some(actual) => format!(
                "{} expects a handle to `{}`, but `{node}` is a `{actual}`",
                ctx.what,
                handle.full()
            ),
            None if handle.is_dyn => format!(
                "{} expects a handle to `{expected}`, but `{node}`'s type `{written}` does not implement `{}`",
                ctx.what,
                handle.path.last().map_or("?", String::as_str)
            ),
            None => format!(
                "{} expects a handle to `{expected}`, but `{node}` is a `{written}`",
                ctx.what
            ),
        };
        let mut diagnostic =
            Diagnostic::new(Code::HandleType, message).primary(expr.span.clone(), label);
        if let Some(span) = ctx.rust_span {
            diagnostic = diagnostic.secondary(span.clone(), format!("`{expected}` expected here"));
        }
        let candidates = self.scope.nodes_serving(|path| self.answers(path, handle));
        diagnostic = match candidates.first() {
            Some(other) => diagnostic.help(format!("did you mean `{other}`?")),
            None if handle.is_dyn => diagnostic.help(format!(
                "implement `{}` for the node's type, or pass a courier node whose type does",
                handle.path.join("::")
            )),
            None => diagnostic.help(format!(
                "declare a courier node of type `{}` and pass it",
                handle.full()
            )),
        };
        self.diags.push(diagnostic);
    }

    /// Reports an unknown name (with "did you mean"); `Some(())` when the name is known.
    pub fn known_name(&mut self, name: &ast::Ident) -> Option<()> {
        if self.scope.get(&name.name).is_some() {
            return Some(());
        }
        if self.scope.is_broken(&name.name) {
            return None; // its declaration failed to parse, which is reported already
        }
        let mut diagnostic = Diagnostic::new(
            Code::UnknownName,
            format!("cannot find `{}` in this program", name.name),
        )
        .primary(name.span.clone(), "not found");
        diagnostic = match did_you_mean(&name.name, self.scope.names()) {
            Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
            None => diagnostic.help("declare it with `param`, `node` or `group` in this program"),
        };
        self.diags.push(diagnostic);
        None
    }

    fn param_at(&self, index: usize) -> Option<(String, ParamType)> {
        self.scope
            .names()
            .find_map(|name| match self.scope.get(name) {
                Some(Entity::Param { ty, index: i, .. }) if *i == index => {
                    Some((name.to_string(), *ty))
                }
                _ => None,
            })
    }

    pub fn mismatch(&mut self, expr: &ast::Expr, target: &RustType, ctx: &Ctx) {
        if let ExprKind::Name(name) = &expr.kind {
            if self.known_name(name).is_none() {
                return;
            }
        }
        let found = self.describe(expr);
        let mut diagnostic = Diagnostic::new(
            Code::ArgumentType,
            format!(
                "mismatched types: {} expects `{}`, found {found}",
                ctx.what,
                target.display()
            ),
        )
        .primary(
            expr.span.clone(),
            format!("expected `{}`", target.display()),
        );
        if let Some(span) = ctx.rust_span {
            diagnostic = diagnostic.secondary(span.clone(), "parameter type declared here");
        }
        self.diags.push(diagnostic.help(example_of(target)));
    }

    fn describe(&self, expr: &ast::Expr) -> String {
        match &expr.kind {
            ExprKind::Int(_) | ExprKind::Neg(_) | ExprKind::Binary { .. } => {
                if contains_float(expr) {
                    "a float".into()
                } else {
                    "an integer".into()
                }
            }
            ExprKind::Float(_) => "a float".into(),
            ExprKind::Str(_) => "a string".into(),
            ExprKind::Bool(_) => "a `bool`".into(),
            ExprKind::Duration(_) => "a duration".into(),
            ExprKind::List(_) => "a list".into(),
            ExprKind::Replica | ExprKind::Replicas => "an integer".into(),
            ExprKind::Index { base, .. } => format!("one replica of `{}`", base.name),
            ExprKind::Call { name, .. } => format!("a call to `{}`", name.name),
            ExprKind::Error => "an invalid expression".into(),
            ExprKind::Name(name) => match self.scope.get(&name.name) {
                Some(Entity::Param { ty, .. }) => {
                    format!("param `{}` of type `{}`", name.name, ty.name())
                }
                Some(Entity::Node {
                    written,
                    is_group: true,
                    ..
                }) => format!("group `{}` of `{written}`", name.name),
                Some(Entity::Node { written, .. }) => {
                    format!("a handle to `{}` (a `{written}`)", name.name)
                }
                None => format!("`{}`", name.name),
            },
        }
    }
}

/// A group's size when it is known while checking.
fn const_count(group: &GroupCtx) -> Option<i128> {
    match group.count.as_ref()?.count {
        Count::Const(n) => Some(i128::from(n)),
        Count::Site(_) => None,
    }
}

/// Whether an arithmetic expression mentions a float literal.
fn contains_float(expr: &ast::Expr) -> bool {
    match &expr.kind {
        ExprKind::Float(_) => true,
        ExprKind::Neg(inner) => contains_float(inner),
        ExprKind::Binary { lhs, rhs, .. } => contains_float(lhs) || contains_float(rhs),
        _ => false,
    }
}

/// The Rust type of a numeric target.
pub(super) fn num_rust_type(target: NumType) -> RustType {
    match target {
        NumType::Int(int) => RustType::Int(int),
        NumType::Float(f) => RustType::Float(f),
    }
}

/// What to write for a value of `target`.
fn example_of(target: &RustType) -> String {
    match target {
        RustType::Int(_) => "write an integer, e.g. `4`, or an integer param".into(),
        RustType::Float(_) => "write a number, e.g. `0.5`".into(),
        RustType::Bool => "write `true` or `false`".into(),
        RustType::String => "write a string in double quotes, e.g. `\"name\"`".into(),
        RustType::Duration => "write a duration, e.g. `250ms`, `2s`, `5m`".into(),
        RustType::Handle(t) => format!("pass the name of a node of type `{}`", t.display()),
        RustType::Vec(inner) => match &**inner {
            RustType::Handle(t) => format!(
                "pass the name of a group of `{}`, or a list of nodes",
                t.display()
            ),
            other => format!("write a list, e.g. `[…]` of {}", other.display()),
        },
        RustType::Option(inner) => format!("{}, or leave the argument out", example_of(inner)),
        other => format!("give a value of type `{}`", other.display()),
    }
}
