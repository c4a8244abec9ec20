//! Checking argument expressions against the Rust parameters they are given to, and turning
//! them into checked [`Value`]s.

use super::model::{IntExpr, Literal, ParamType, Value};
use super::scope::{Entity, ProgramScope};
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics, Span};
use crate::rust::{IntType, RustType};
use crate::syntax::ast::{self, ExprKind};

/// Where an expression is being checked: for messages and for `replica`.
pub(super) struct Site<'a> {
    /// Whether the expression is inside a group's declaration (`replica` is allowed).
    pub in_group: bool,
    /// What the value is for, e.g. "argument `seed`".
    pub what: String,
    /// The Rust parameter's type span, when there is one.
    pub rust_span: Option<&'a Span>,
}

/// Checks expressions of one program.
pub(super) struct Exprs<'a, 'd> {
    pub scope: &'a ProgramScope,
    pub diags: &'d mut Diagnostics,
}

impl Exprs<'_, '_> {
    /// Checks `expr` as a value for a Rust parameter of type `target`.
    pub fn value(&mut self, expr: &ast::Expr, target: &RustType, site: &Site) -> Option<Value> {
        if let ExprKind::Error = expr.kind {
            return None;
        }
        match target {
            RustType::Int(int) => {
                let value = self.int(expr, site, Code::ArgumentType, target)?;
                match value {
                    IntExpr::Literal(v) => {
                        self.in_range(v, *int, &expr.span, site)?;
                        Some(Value::Literal(Literal::Int(v)))
                    }
                    IntExpr::Param(p) if self.param_type(&p) == Some(ParamType::Int(*int)) => {
                        Some(Value::Param(p))
                    }
                    other => Some(Value::Int(other)),
                }
            }
            RustType::Float(_) => match &expr.kind {
                ExprKind::Float(f) => Some(Value::Literal(Literal::Float(*f))),
                ExprKind::Int(_) | ExprKind::Neg(_) | ExprKind::Binary { .. } => {
                    let value = self.int(expr, site, Code::ArgumentType, target)?;
                    match value {
                        IntExpr::Literal(v) => Some(Value::Literal(Literal::Float(v as f64))),
                        other => Some(Value::Int(other)),
                    }
                }
                _ => self.simple(expr, target, site),
            },
            RustType::Bool | RustType::String | RustType::Duration => {
                self.simple(expr, target, site)
            }
            RustType::Handle(node_type) => self.handle(expr, node_type, target, site),
            RustType::Vec(inner) => self.vec(expr, inner, target, site),
            _ => {
                let mut diagnostic = Diagnostic::new(
                    Code::ArgumentType,
                    format!(
                        "{} has type `{}`, which a `.lp` program cannot give",
                        site.what,
                        target.display()
                    ),
                )
                .primary(expr.span.clone(), "cannot be converted");
                if let Some(span) = site.rust_span {
                    diagnostic = diagnostic.secondary(span.clone(), "parameter type declared here");
                }
                self.diags.push(diagnostic.help(
                    "take an integer, float, `bool`, `String`, `Duration`, `Handle<T>`, or a `Vec` of these",
                ));
                None
            }
        }
    }

    /// Literals and params of the scalar types `bool`, `String`, `Duration` (and floats).
    fn simple(&mut self, expr: &ast::Expr, target: &RustType, site: &Site) -> Option<Value> {
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
            if let Some(ty) = self.param_type(&name.name) {
                if ty.rust_type() == *target {
                    return Some(Value::Param(name.name.clone()));
                }
            }
        }
        self.mismatch(expr, target, site);
        None
    }

    fn handle(
        &mut self,
        expr: &ast::Expr,
        node_type: &str,
        target: &RustType,
        site: &Site,
    ) -> Option<Value> {
        match &expr.kind {
            ExprKind::Name(name) => match self.scope.get(&name.name) {
                Some(Entity::Node {
                    type_name,
                    is_group: false,
                    ..
                }) => {
                    self.node_type_matches(expr, &name.name, type_name, node_type, site)?;
                    Some(Value::Node(name.name.clone()))
                }
                Some(Entity::Node { is_group: true, .. }) => {
                    let mut diagnostic = Diagnostic::new(
                        Code::HandleShape,
                        format!(
                            "{} expects one handle, but `{}` is a group",
                            site.what, name.name
                        ),
                    )
                    .primary(
                        expr.span.clone(),
                        format!("`{}` is a group of replicas", name.name),
                    );
                    if let Some(span) = site.rust_span {
                        diagnostic = diagnostic.secondary(span.clone(), "one handle expected here");
                    }
                    self.diags.push(diagnostic.help(format!(
                        "pick one replica, e.g. `{0}[0]`, or take `Vec<Handle<{1}>>` in Rust",
                        name.name, node_type
                    )));
                    None
                }
                _ => {
                    self.known_name(name)?;
                    self.mismatch(expr, target, site);
                    None
                }
            },
            ExprKind::Index { base, index } => {
                let Some(Entity::Node {
                    type_name,
                    is_group,
                    count,
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
                let (type_name, count) = (type_name.clone(), *count);
                self.node_type_matches(expr, &base.name, &type_name, node_type, site)?;
                let index_site = Site {
                    in_group: site.in_group,
                    what: format!("the index into `{}`", base.name),
                    rust_span: None,
                };
                let index_expr = self.int(
                    index,
                    &index_site,
                    Code::BadIndex,
                    &RustType::Int(IntType::Usize),
                )?;
                if let (IntExpr::Literal(i), Some(count)) = (&index_expr, count) {
                    if *i < 0 || *i >= count {
                        self.diags.push(
                            Diagnostic::new(
                                Code::BadIndex,
                                format!(
                                    "index {i} is out of range for group `{}` of {count} replicas",
                                    base.name
                                ),
                            )
                            .primary(index.span.clone(), "out of range")
                            .help(format!("use an index from 0 to {}", count - 1)),
                        );
                        return None;
                    }
                }
                Some(Value::GroupAt(base.name.clone(), index_expr))
            }
            _ => {
                self.mismatch(expr, target, site);
                None
            }
        }
    }

    fn vec(
        &mut self,
        expr: &ast::Expr,
        inner: &RustType,
        target: &RustType,
        site: &Site,
    ) -> Option<Value> {
        match (&expr.kind, inner) {
            (ExprKind::List(items), _) => {
                let mut values = Vec::new();
                for item in items {
                    values.push(self.value(item, inner, site));
                }
                values
                    .into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(Value::List)
            }
            (ExprKind::Name(name), RustType::Handle(node_type)) => match self.scope.get(&name.name)
            {
                Some(Entity::Node {
                    type_name,
                    is_group: true,
                    ..
                }) => {
                    self.node_type_matches(expr, &name.name, type_name, node_type, site)?;
                    Some(Value::Group(name.name.clone()))
                }
                Some(Entity::Node {
                    is_group: false, ..
                }) => {
                    let mut diagnostic = Diagnostic::new(
                        Code::HandleShape,
                        format!(
                            "{} expects a list of handles, but `{}` is a single node",
                            site.what, name.name
                        ),
                    )
                    .primary(expr.span.clone(), "one node");
                    if let Some(span) = site.rust_span {
                        diagnostic = diagnostic.secondary(span.clone(), "a `Vec` expected here");
                    }
                    self.diags
                        .push(diagnostic.help(format!("write a list: `[{}]`", name.name)));
                    None
                }
                _ => {
                    self.known_name(name)?;
                    self.mismatch(expr, target, site);
                    None
                }
            },
            _ => {
                self.mismatch(expr, target, site);
                None
            }
        }
    }

    fn node_type_matches(
        &mut self,
        expr: &ast::Expr,
        node: &str,
        actual: &str,
        expected: &str,
        site: &Site,
    ) -> Option<()> {
        if actual == expected {
            return Some(());
        }
        let mut diagnostic = Diagnostic::new(
            Code::HandleType,
            format!(
                "{} expects a handle to `{expected}`, but `{node}` is a `{actual}`",
                site.what
            ),
        )
        .primary(expr.span.clone(), format!("a `{actual}` node"));
        if let Some(span) = site.rust_span {
            diagnostic = diagnostic.secondary(span.clone(), format!("`{expected}` expected here"));
        }
        let candidates = self.scope.nodes_of_type(expected);
        diagnostic = match candidates.first() {
            Some(other) => diagnostic.help(format!("did you mean `{other}`?")),
            None => diagnostic.help(format!("declare a node of type `{expected}` and pass it")),
        };
        self.diags.push(diagnostic);
        None
    }

    /// Checks integer arithmetic; `code` is reported when the expression is not an integer.
    pub fn int(
        &mut self,
        expr: &ast::Expr,
        site: &Site,
        code: Code,
        target: &RustType,
    ) -> Option<IntExpr> {
        match &expr.kind {
            ExprKind::Int(v) => match i128::try_from(*v) {
                Ok(v) => Some(IntExpr::Literal(v)),
                Err(_) => {
                    self.diags.push(
                        Diagnostic::new(Code::OutOfRange, "integer literal is too large")
                            .primary(expr.span.clone(), "does not fit in any integer type")
                            .help("integers in `.lp` range from -2^127 to 2^127 - 1"),
                    );
                    None
                }
            },
            ExprKind::Neg(inner) => match self.int(inner, site, code, target)? {
                IntExpr::Literal(v) => Some(IntExpr::Literal(-v)),
                other => Some(IntExpr::Neg(Box::new(other))),
            },
            ExprKind::Binary { op, lhs, rhs } => {
                let lhs = self.int(lhs, site, code, target);
                let rhs = self.int(rhs, site, code, target);
                Some(IntExpr::Binary(*op, Box::new(lhs?), Box::new(rhs?)))
            }
            ExprKind::Replica | ExprKind::Replicas => {
                let word = if matches!(expr.kind, ExprKind::Replica) {
                    "replica"
                } else {
                    "replicas"
                };
                if !site.in_group {
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
                Some(if word == "replica" {
                    IntExpr::Replica
                } else {
                    IntExpr::Replicas
                })
            }
            ExprKind::Name(name) => match self.scope.get(&name.name) {
                Some(Entity::Param {
                    ty: ParamType::Int(_),
                    ..
                }) => Some(IntExpr::Param(name.name.clone())),
                Some(_) => {
                    self.not_integer(expr, site, code, target);
                    None
                }
                None => {
                    self.known_name(name);
                    None
                }
            },
            ExprKind::Error => None,
            _ => {
                self.not_integer(expr, site, code, target);
                None
            }
        }
    }

    fn not_integer(&mut self, expr: &ast::Expr, site: &Site, code: Code, target: &RustType) {
        if code == Code::ArgumentType {
            self.mismatch(expr, target, site);
            return;
        }
        self.diags.push(
            Diagnostic::new(
                code,
                format!(
                    "{} must be an integer, found {}",
                    site.what,
                    self.describe(expr)
                ),
            )
            .primary(expr.span.clone(), "not an integer")
            .help("use an integer literal, an integer param, or arithmetic over them"),
        );
    }

    fn in_range(&mut self, v: i128, int: IntType, span: &Span, site: &Site) -> Option<()> {
        let (min, max) = int.range();
        if (min..=max).contains(&v) {
            return Some(());
        }
        let mut diagnostic = Diagnostic::new(
            Code::OutOfRange,
            format!("literal `{v}` out of range for `{}`", int.name()),
        )
        .primary(
            span.clone(),
            format!("`{}` holds {min} to {max}", int.name()),
        );
        if let Some(rust) = site.rust_span {
            diagnostic = diagnostic.secondary(rust.clone(), "parameter type declared here");
        }
        self.diags.push(diagnostic.help(format!(
            "use a value from {min} to {max}, or a wider type in Rust"
        )));
        None
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

    fn param_type(&self, name: &str) -> Option<ParamType> {
        match self.scope.get(name) {
            Some(Entity::Param { ty, .. }) => Some(*ty),
            _ => None,
        }
    }

    fn mismatch(&mut self, expr: &ast::Expr, target: &RustType, site: &Site) {
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
                site.what,
                target.display()
            ),
        )
        .primary(
            expr.span.clone(),
            format!("expected `{}`", target.display()),
        );
        if let Some(span) = site.rust_span {
            diagnostic = diagnostic.secondary(span.clone(), "parameter type declared here");
        }
        self.diags.push(diagnostic.help(example_of(target)));
    }

    fn describe(&self, expr: &ast::Expr) -> String {
        match &expr.kind {
            ExprKind::Int(_) | ExprKind::Neg(_) | ExprKind::Binary { .. } => "an integer".into(),
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
                    type_name,
                    is_group: true,
                    ..
                }) => {
                    format!("group `{}` of `{type_name}`", name.name)
                }
                Some(Entity::Node { type_name, .. }) => {
                    format!("a handle to `{}` (a `{type_name}`)", name.name)
                }
                None => format!("`{}`", name.name),
            },
        }
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
        RustType::Handle(t) => format!("pass the name of a node of type `{t}`"),
        RustType::Vec(inner) => match &**inner {
            RustType::Handle(t) => format!("pass the name of a group of `{t}`, or a list of nodes"),
            other => format!("write a list, e.g. `[…]` of {}", other.display()),
        },
        other => format!("give a value of type `{}`", other.display()),
    }
}
