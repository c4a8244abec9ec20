//! `lpc new NAME --from FILE.lp`: what the `.lp` file asks of the Rust crate, read from its
//! syntax tree alone (there is no crate yet to check it against): the node types and functions
//! it names, in which modules, with which constructors and argument types, which couriers are
//! batched, and which node ends each program. [`emit`](super::emit) writes it as Rust.
//!
//! The types of constructor parameters come from the values the `.lp` passes: a node's name is
//! an `lp::Handle<T>`, a group's a `Vec<lp::Handle<T>>`, `group[i]` an `lp::Handle<T>`, a
//! param its own type, an integer `u64` (or the type of the params it is computed from), a
//! float `f64`, a string `String`, a duration `std::time::Duration`, a list a `Vec` of its
//! items' type.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::NewError;
use lpc_build::diag::{Diagnostics, SourceMap, Span};
use lpc_build::syntax::{self, ast};

/// A Rust item the `.lp` file names: `crate::<module…>::<name>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct ItemPath {
    /// The modules below the crate root (empty: the crate root).
    pub module: Vec<String>,
    pub name: String,
}

impl ItemPath {
    /// `crate::nodes::Producer`.
    pub fn rust(&self) -> String {
        let mut out = String::from("crate");
        for segment in self.module.iter().chain([&self.name]) {
            out.push_str("::");
            out.push_str(segment);
        }
        out
    }
}

/// The Rust type of a constructor or function parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Ty {
    /// A type written as is: `u64`, `String`, `std::time::Duration`.
    Plain(String),
    /// `lp::Handle<T>`.
    Handle(ItemPath),
    /// `Vec<T>`.
    List(Box<Ty>),
    /// The items of an empty list: known only if another use says.
    Unknown,
}

impl Ty {
    /// The type as Rust source.
    pub fn rust(&self) -> String {
        match self {
            Ty::Plain(ty) => ty.clone(),
            Ty::Handle(path) => format!("lp::Handle<{}>", path.rust()),
            Ty::List(item) => format!("Vec<{}>", item.rust()),
            Ty::Unknown => "u64".to_string(),
        }
    }

    /// Both uses' type, or `None` when they disagree.
    fn merge(&self, other: &Ty) -> Option<Ty> {
        match (self, other) {
            (Ty::Unknown, ty) | (ty, Ty::Unknown) => Some(ty.clone()),
            (Ty::List(a), Ty::List(b)) => Some(Ty::List(Box::new(a.merge(b)?))),
            (a, b) => (a == b).then(|| a.clone()),
        }
    }
}

/// A parameter: its name and type.
pub(super) type Param = (String, Ty);

/// A constructor or function: its parameters in the order the `.lp` first passes them.
#[derive(Clone, Debug)]
pub(super) struct Signature {
    pub params: Vec<Param>,
    /// Where it is first called, for messages.
    first: String,
}

/// A node type the `.lp` names.
#[derive(Clone, Debug, Default)]
pub(super) struct TypeStub {
    /// Some node of this type is a `courier`: it answers `status`.
    pub courier: bool,
    /// Some node of this type is a `worker`: it implements `lp::Run`.
    pub worker: bool,
    /// Its constructors, by name.
    pub ctors: BTreeMap<String, Signature>,
    /// Its batched methods (`batch METHOD { … }`).
    pub batched: BTreeSet<String>,
    /// The labels of its nodes that end their program.
    pub stops: Vec<String>,
}

/// A function run by `fn` nodes.
#[derive(Clone, Debug)]
pub(super) struct FnStub {
    pub signature: Signature,
    /// The labels of its nodes that end their program.
    pub stops: Vec<String>,
}

/// A program: its name and params (for the binary and the test).
#[derive(Clone, Debug)]
pub(super) struct ProgramInfo {
    pub name: String,
    /// Name, type as written, default.
    pub params: Vec<(String, String, Option<ast::Expr>)>,
}

/// Everything the `.lp` file asks of the crate.
#[derive(Debug, Default)]
pub(super) struct Model {
    pub types: BTreeMap<ItemPath, TypeStub>,
    pub functions: BTreeMap<ItemPath, FnStub>,
    /// Imported names no node uses: they must exist all the same.
    pub unused: BTreeSet<ItemPath>,
    pub programs: Vec<ProgramInfo>,
}

impl Model {
    /// Every module the crate needs (not the root), parents before children.
    pub fn modules(&self) -> BTreeSet<Vec<String>> {
        let items = self
            .types
            .keys()
            .chain(self.functions.keys())
            .chain(&self.unused);
        let mut modules = BTreeSet::new();
        for item in items {
            for depth in 1..=item.module.len() {
                modules.insert(item.module[..depth].to_vec());
            }
        }
        modules
    }
}

/// Reads `text` (the file `file_name`) into a [`Model`]; a syntax error, or something the
/// scaffold cannot make (a path outside `crate::`, a constructor called with different
/// arguments), is an error that says where and what to do.
pub(super) fn read(file_name: &str, text: &str) -> Result<Model, NewError> {
    let mut sources = SourceMap::default();
    let id = sources.add(file_name, text);
    let mut diagnostics = Diagnostics::default();
    let file = syntax::parse(id, text, &mut diagnostics);
    if diagnostics.has_errors() {
        let all: Vec<_> = diagnostics.iter().collect();
        return Err(NewError::InvalidLp {
            file: file_name.to_string(),
            diagnostics: lpc_build::diag::render::human_string(&sources, &all),
        });
    }
    let reader = Reader {
        file_name,
        text,
        imports: HashMap::new(),
        model: Model::default(),
    };
    reader.read(&file)
}

/// Reads a parsed file into a [`Model`].
struct Reader<'a> {
    file_name: &'a str,
    text: &'a str,
    /// Imported names and what they name.
    imports: HashMap<String, ItemPath>,
    model: Model,
}

/// A node of the program being read: what it is, for the values that name it.
struct NodeRef {
    kind: ast::NodeKind,
    item: ItemPath,
    group: bool,
}

impl Reader<'_> {
    fn read(mut self, file: &ast::File) -> Result<Model, NewError> {
        for item in &file.items {
            if let ast::Item::Use(use_) = item {
                for import in &use_.imports {
                    let path = self.crate_path(&import.path.segments, &import.path.span)?;
                    self.imports.insert(import.name.name.clone(), path);
                }
            }
        }
        let mut used = BTreeSet::new();
        for item in &file.items {
            if let ast::Item::Program(program) = item {
                self.program(program, &mut used)?;
            }
        }
        self.model.unused = self
            .imports
            .values()
            .filter(|path| !used.contains(*path))
            .cloned()
            .collect();
        self.check_handles()?;
        Ok(self.model)
    }

    /// `file.lp:LINE:COLUMN` of a span.
    fn at(&self, span: &Span) -> String {
        let before = &self.text[..span.range.start.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("{}:{line}:{column}", self.file_name)
    }

    fn error(&self, span: &Span, message: String) -> NewError {
        NewError::Scaffold {
            at: self.at(span),
            message,
        }
    }

    /// The item `crate::a::B` names; anything not under `crate::` is an error.
    fn crate_path(&self, segments: &[ast::Ident], span: &Span) -> Result<ItemPath, NewError> {
        match segments {
            [first, modules @ .., last] if first.name == "crate" => Ok(ItemPath {
                module: modules.iter().map(|m| m.name.clone()).collect(),
                name: last.name.clone(),
            }),
            _ => Err(self.error(
                span,
                format!(
                    "`{}` is not a path in this crate: the scaffold makes only items under `crate::`; write e.g. `crate::nodes::{}`",
                    segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join("::"),
                    segments.last().map_or("Name", |s| s.name.as_str())
                ),
            )),
        }
    }

    /// The item a node's target names: an imported name, or a `crate::` path.
    fn item(&self, segments: &[ast::Ident], span: &Span) -> Result<ItemPath, NewError> {
        match segments {
            [one] => self.imports.get(&one.name).cloned().ok_or_else(|| {
                self.error(
                    span,
                    format!(
                        "`{}` is not imported: add `use crate::nodes::{};` (or write its `crate::` path)",
                        one.name, one.name
                    ),
                )
            }),
            _ => self.crate_path(segments, span),
        }
    }

    fn program(
        &mut self,
        program: &ast::Program,
        used: &mut BTreeSet<ItemPath>,
    ) -> Result<(), NewError> {
        let mut params: HashMap<String, String> = HashMap::new();
        let mut info = ProgramInfo {
            name: program.name.name.clone(),
            params: Vec::new(),
        };
        let mut decls: Vec<&ast::NodeDecl> = Vec::new();
        for item in &program.items {
            match item {
                ast::ProgramItem::Param(param) => {
                    params.insert(param.name.name.clone(), param.ty.name.clone());
                    info.params.push((
                        param.name.name.clone(),
                        param.ty.name.clone(),
                        param.default.clone(),
                    ));
                }
                ast::ProgramItem::Node(decl) => decls.push(decl),
                ast::ProgramItem::Process(process) => decls.extend(&process.nodes),
            }
        }
        let mut nodes: HashMap<String, NodeRef> = HashMap::new();
        for decl in &decls {
            let segments = match decl.kind {
                ast::NodeKind::Fn => &decl.target.segments[..],
                _ => decl.target.parent(),
            };
            let item = self.item(segments, &decl.target.span)?;
            used.insert(item.clone());
            let node = NodeRef {
                kind: decl.kind,
                item,
                group: decl.is_group(),
            };
            nodes.insert(decl.name.name.clone(), node);
        }
        let scope = Scope {
            program: &program.name.name,
            params: &params,
            nodes: &nodes,
        };
        for decl in &decls {
            self.node(decl, &scope)?;
        }
        if decls.iter().any(|d| d.kind == ast::NodeKind::Courier) {
            self.choose_stopper(&decls, &nodes);
        }
        self.model.programs.push(info);
        Ok(())
    }

    /// Records what one node declaration asks of its type or function.
    fn node(&mut self, decl: &ast::NodeDecl, scope: &Scope) -> Result<(), NewError> {
        let Some(node) = scope.nodes.get(&decl.name.name) else {
            return Ok(());
        };
        let mut params = Vec::new();
        for arg in &decl.args {
            params.push((arg.name.name.clone(), self.infer(&arg.value, scope)?));
        }
        let call = Signature {
            params,
            first: self.at(&decl.target.span),
        };
        let what = decl.target.to_string();
        if decl.kind == ast::NodeKind::Fn {
            let signature = match self.model.functions.get(&node.item) {
                Some(stub) => self.merge(&stub.signature, &call, &what, &decl.target.span)?,
                None => call,
            };
            let stub = self
                .model
                .functions
                .entry(node.item.clone())
                .or_insert_with(|| FnStub {
                    signature: signature.clone(),
                    stops: Vec::new(),
                });
            stub.signature = signature;
            return Ok(());
        }
        let ctor = decl.target.last().map_or("new", |c| c.name.as_str());
        let earlier = self
            .model
            .types
            .get(&node.item)
            .and_then(|t| t.ctors.get(ctor))
            .cloned();
        let signature = match earlier {
            Some(earlier) => self.merge(&earlier, &call, &what, &decl.target.span)?,
            None => call,
        };
        let stub = self.model.types.entry(node.item.clone()).or_default();
        stub.ctors.insert(ctor.to_string(), signature);
        match decl.kind {
            ast::NodeKind::Courier => stub.courier = true,
            _ => stub.worker = true,
        }
        for entry in decl.block.iter().flat_map(|b| &b.entries) {
            if let ast::BlockEntry::Batch(batch) = entry {
                stub.batched.insert(batch.method.name.clone());
            }
        }
        Ok(())
    }

    /// One signature for two calls of one constructor or function.
    fn merge(
        &self,
        earlier: &Signature,
        call: &Signature,
        what: &str,
        span: &Span,
    ) -> Result<Signature, NewError> {
        let names = |s: &Signature| {
            s.params
                .iter()
                .map(|p| p.0.clone())
                .collect::<BTreeSet<_>>()
        };
        if names(earlier) != names(call) {
            return Err(self.error(
                span,
                format!(
                    "`{what}` is called with other arguments than at {}: one Rust function has one set of parameters; pass the same arguments, or call another constructor",
                    earlier.first
                ),
            ));
        }
        let mut merged = earlier.clone();
        for (name, ty) in &mut merged.params {
            let Some((_, other)) = call.params.iter().find(|(n, _)| n == name) else {
                continue;
            };
            *ty = ty.merge(other).ok_or_else(|| {
                self.error(
                    span,
                    format!(
                        "`{name}` of `{what}` is a `{}` here but a `{}` at {}: pass values of one type",
                        other.rust(),
                        ty.rust(),
                        earlier.first
                    ),
                )
            })?;
        }
        Ok(merged)
    }

    /// The Rust type of an argument's value.
    fn infer(&self, expr: &ast::Expr, scope: &Scope) -> Result<Ty, NewError> {
        Ok(match &expr.kind {
            ast::ExprKind::Float(_) => Ty::Plain("f64".into()),
            ast::ExprKind::Str(_) => Ty::Plain("String".into()),
            ast::ExprKind::Bool(_) => Ty::Plain("bool".into()),
            ast::ExprKind::Duration(_) => Ty::Plain(DURATION.into()),
            ast::ExprKind::List(items) => {
                let mut ty = Ty::Unknown;
                for item in items {
                    let item_ty = self.infer(item, scope)?;
                    ty = ty.merge(&item_ty).ok_or_else(|| {
                        self.error(
                            &item.span,
                            "a list's items must all be of one type".into(),
                        )
                    })?;
                }
                Ty::List(Box::new(ty))
            }
            ast::ExprKind::Name(name) => self.name(name, scope)?,
            ast::ExprKind::Index { base, .. } => match scope.nodes.get(&base.name) {
                Some(node) if node.group && node.kind != ast::NodeKind::Fn => {
                    Ty::Handle(node.item.clone())
                }
                _ => {
                    return Err(self.error(
                        &base.span,
                        format!(
                            "`{}` is not a `courier` or `worker` group of program `{}`: index only a group",
                            base.name, scope.program
                        ),
                    ))
                }
            },
            ast::ExprKind::Int(_)
            | ast::ExprKind::Neg(_)
            | ast::ExprKind::Binary { .. }
            | ast::ExprKind::Replica
            | ast::ExprKind::Replicas => Ty::Plain(self.integer(expr, scope)),
            ast::ExprKind::Call { .. } | ast::ExprKind::Error => {
                return Err(self.error(
                    &expr.span,
                    "this value cannot be a constructor argument: pass a literal, a list, a param, a node or a group".into(),
                ))
            }
        })
    }

    /// The type a name stands for: a param's type, a node's handle, a group's handles.
    fn name(&self, name: &ast::Ident, scope: &Scope) -> Result<Ty, NewError> {
        if let Some(ty) = scope.params.get(&name.name) {
            return Ok(Ty::Plain(param_type(ty)));
        }
        match scope.nodes.get(&name.name) {
            Some(node) if node.kind != ast::NodeKind::Fn => {
                let handle = Ty::Handle(node.item.clone());
                Ok(if node.group {
                    Ty::List(Box::new(handle))
                } else {
                    handle
                })
            }
            Some(_) => Err(self.error(
                &name.span,
                format!(
                    "`{}` is a `fn` node: nothing can hold a handle to it; pass a `courier` node",
                    name.name
                ),
            )),
            None => Err(self.error(
                &name.span,
                format!(
                    "`{}` is not a param, node or group of program `{}`: declare it, or fix the name",
                    name.name, scope.program
                ),
            )),
        }
    }

    /// The integer type of an integer expression: that of the first param in it, else `u64`
    /// (`i64` when it is negative).
    fn integer(&self, expr: &ast::Expr, scope: &Scope) -> String {
        fn first_param<'e>(expr: &'e ast::Expr, scope: &Scope) -> Option<&'e str> {
            match &expr.kind {
                ast::ExprKind::Name(name) if scope.params.contains_key(&name.name) => {
                    Some(&name.name)
                }
                ast::ExprKind::Neg(inner) => first_param(inner, scope),
                ast::ExprKind::Binary { lhs, rhs, .. } => {
                    first_param(lhs, scope).or_else(|| first_param(rhs, scope))
                }
                _ => None,
            }
        }
        match first_param(expr, scope).and_then(|p| scope.params.get(p)) {
            Some(ty) => param_type(ty),
            None if matches!(expr.kind, ast::ExprKind::Neg(_)) => "i64".into(),
            None => "u64".into(),
        }
    }

    /// Picks the node that ends a program with couriers (they serve until something stops
    /// the program): a worker before a `fn` node before a courier (which then also runs), a
    /// single node before a group's replica 0, the first in the file among equals.
    fn choose_stopper(&mut self, decls: &[&ast::NodeDecl], nodes: &HashMap<String, NodeRef>) {
        let rank = |decl: &ast::NodeDecl| {
            let kind = match decl.kind {
                ast::NodeKind::Worker => 0,
                ast::NodeKind::Fn => 2,
                ast::NodeKind::Courier => 4,
            };
            kind + usize::from(decl.is_group())
        };
        let Some(decl) = decls.iter().min_by_key(|d| rank(d)) else {
            return;
        };
        let Some(node) = nodes.get(&decl.name.name) else {
            return;
        };
        let label = if decl.is_group() {
            format!("{}/0", decl.name.name)
        } else {
            decl.name.name.clone()
        };
        if decl.kind == ast::NodeKind::Fn {
            if let Some(stub) = self.model.functions.get_mut(&node.item) {
                stub.stops.push(label);
            }
        } else if let Some(stub) = self.model.types.get_mut(&node.item) {
            stub.stops.push(label);
        }
    }

    /// Every handle must be to a type that some `courier` node has: only couriers are served.
    fn check_handles(&self) -> Result<(), NewError> {
        fn handles(ty: &Ty, out: &mut Vec<ItemPath>) {
            match ty {
                Ty::Handle(path) => out.push(path.clone()),
                Ty::List(item) => handles(item, out),
                Ty::Plain(_) | Ty::Unknown => {}
            }
        }
        let signatures = self
            .model
            .types
            .values()
            .flat_map(|t| t.ctors.values())
            .chain(self.model.functions.values().map(|f| &f.signature));
        for signature in signatures {
            let mut held = Vec::new();
            for (_, ty) in &signature.params {
                handles(ty, &mut held);
            }
            for path in held {
                if !self.model.types.get(&path).is_some_and(|t| t.courier) {
                    return Err(NewError::Scaffold {
                        at: signature.first.clone(),
                        message: format!(
                            "a handle to `{}`, which no node serves: only `courier` nodes can be called; make one of its nodes a `courier`",
                            path.name
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The names of the program being read.
struct Scope<'a> {
    program: &'a str,
    /// Param names and their types as written.
    params: &'a HashMap<String, String>,
    nodes: &'a HashMap<String, NodeRef>,
}

/// `std::time::Duration`, as stubs write it.
pub(super) const DURATION: &str = "std::time::Duration";

/// The Rust type of a param type as written in `.lp`.
fn param_type(ty: &str) -> String {
    match ty {
        "Duration" => DURATION.to_string(),
        other => other.to_string(),
    }
}
