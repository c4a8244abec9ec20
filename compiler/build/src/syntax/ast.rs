//! The syntax tree of a `.lp` file. Every node owns its [`Span`] (a byte range into the file);
//! nothing here borrows the source text or mentions pest.

use std::fmt;
use std::time::Duration;

use crate::diag::Span;

/// A whole `.lp` file: `use` items and programs, in source order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Use(Use),
    Program(Program),
}

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `a::b::C`: at least one segment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    /// The last segment (`new` in `Producer::new`).
    pub fn last(&self) -> Option<&Ident> {
        self.segments.last()
    }

    /// Every segment but the last (`Producer` in `Producer::new`).
    pub fn parent(&self) -> &[Ident] {
        match self.segments.split_last() {
            Some((_, parent)) => parent,
            None => &[],
        }
    }
}

impl fmt::Display for Path {
    /// `a::b::C`, as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str("::")?;
            }
            f.write_str(&segment.name)?;
        }
        Ok(())
    }
}

/// `use a::b::C;`, `use a::b::{C, D};` or `use a::b::C as E;`: one [`Import`] per name bound.
#[derive(Clone, Debug, PartialEq)]
pub struct Use {
    /// The `///` comment above the item, without the markers.
    pub doc: Option<String>,
    pub imports: Vec<Import>,
    pub span: Span,
}

/// One name brought into scope by a `use`.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// The full path, including the last segment (`crate::nodes::Producer`).
    pub path: Path,
    /// The name it binds: the last segment, or the alias after `as`.
    pub name: Ident,
    /// The alias, when there is one (`E` in `C as E`); `name` is then the same ident.
    pub alias: Option<Ident>,
}

/// `program NAME { … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub doc: Option<String>,
    pub name: Ident,
    pub items: Vec<ProgramItem>,
    /// Names declared by items that failed to parse (`param x u32`): the checker does not
    /// report uses of them as unknown, which would only repeat the syntax error.
    pub broken_names: Vec<Ident>,
    pub span: Span,
}

/// An item inside a program.
#[derive(Clone, Debug, PartialEq)]
pub enum ProgramItem {
    Param(Param),
    /// A `node` or a `group` (then [`NodeDecl::count`] is `Some`).
    Node(NodeDecl),
    Process(Process),
}

/// `param NAME: TYPE = DEFAULT;`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub doc: Option<String>,
    pub name: Ident,
    /// The type as written (`u32`, `String`, `Duration`, or any Rust type such as `Vec<u8>`,
    /// which is not supported); the checker validates it.
    pub ty: Ident,
    /// `None` when omitted: the flag is then required.
    pub default: Option<Expr>,
    pub span: Span,
}

/// `process NAME { node …; group …; }`: nodes colocated in one OS process.
#[derive(Clone, Debug, PartialEq)]
pub struct Process {
    pub doc: Option<String>,
    pub name: Ident,
    pub nodes: Vec<NodeDecl>,
    /// `return_on_first_completed: true;`
    pub settings: Vec<Arg>,
    pub span: Span,
}

/// How a node runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// `courier`: a server whose methods are callable through handles.
    Courier,
    /// `worker`: no server; its `run` is called.
    Worker,
    /// `fn`: a free function run at entry.
    Fn,
}

impl NodeKind {
    /// The keyword: `courier`, `worker` or `fn`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Courier => "courier",
            NodeKind::Worker => "worker",
            NodeKind::Fn => "fn",
        }
    }
}

/// `node NAME = KIND PATH(ARGS)` or `group NAME[COUNT] = KIND PATH(ARGS)`, ending in `;` or a
/// [`Block`].
#[derive(Clone, Debug, PartialEq)]
pub struct NodeDecl {
    pub doc: Option<String>,
    pub name: Ident,
    /// `Some(COUNT)` for a `group`, `None` for a single `node`.
    pub count: Option<Expr>,
    pub kind: NodeKind,
    pub kind_span: Span,
    /// `Producer::new`, `crate::nodes::Producer::new`, or for `fn`, `path::to::function`.
    pub target: Path,
    pub args: Vec<Arg>,
    /// The parenthesised argument list, parentheses included.
    pub args_span: Span,
    pub block: Option<Block>,
    pub span: Span,
}

impl NodeDecl {
    /// Whether this is a `group` (replicated) rather than a single `node`.
    pub fn is_group(&self) -> bool {
        self.count.is_some()
    }
}

/// `name: value`: a constructor argument, a field of a block section, or a block setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `{ … }` after a constructor: settings for launchers.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub entries: Vec<BlockEntry>,
    pub span: Span,
}

/// One entry of a [`Block`].
#[derive(Clone, Debug, PartialEq)]
pub enum BlockEntry {
    /// `resources { cpus: 1, memory: "2Gi" }`, `env { RUST_LOG: "info" }`.
    Section(Section),
    /// `batch compute { size: 8, timeout: 200ms }`.
    Batch(Batch),
    /// `restart: on_failure(max: 3, backoff: 1s)`, `deadline: 2s`.
    Setting(Arg),
}

impl BlockEntry {
    /// Where the whole entry is.
    pub fn span(&self) -> &Span {
        match self {
            BlockEntry::Section(section) => &section.span,
            BlockEntry::Batch(batch) => &batch.span,
            BlockEntry::Setting(arg) => &arg.span,
        }
    }
}

/// `NAME { field: value, … }` in a block.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub name: Ident,
    pub fields: Vec<Arg>,
    pub span: Span,
}

/// `batch METHOD { field: value, … }` in a block.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// The `batch` keyword.
    pub keyword: Span,
    pub method: Ident,
    pub fields: Vec<Arg>,
    pub span: Span,
}

/// An expression: a literal, a name, `replica`/`replicas`, a list, integer arithmetic, or a
/// call-like value in a block setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// What an [`Expr`] is.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `42`, `1_000`, `0xff`.
    Int(u128),
    /// `0.5`, `1e-3`.
    Float(f64),
    /// `"text"`, escapes resolved.
    Str(String),
    /// `true`, `false`.
    Bool(bool),
    /// `250ms`, `2s`, `5m`, `1h`.
    Duration(Duration),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// A param, node or group name.
    Name(Ident),
    /// `group[i]`.
    Index { base: Ident, index: Box<Expr> },
    /// `replica`: the replica index inside a group.
    Replica,
    /// `replicas`: the size of the enclosing group.
    Replicas,
    /// `-x`.
    Neg(Box<Expr>),
    /// `a + b`, `a * b`, ….
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `on_failure(max: 3, backoff: 1s)`.
    Call { name: Ident, args: Vec<Arg> },
    /// A placeholder for a literal that was reported invalid.
    Error,
}

/// An integer operator.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    /// The operator as written: `+`, `-`, `*`, `/`, `%`.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

impl Item {
    /// Moves every span of the item by `delta` bytes (text was inserted or removed before it).
    pub fn shift(&mut self, delta: isize) {
        Shift::shift(self, delta);
    }
}

impl ProgramItem {
    /// The item's span (without its doc comments).
    pub fn span(&self) -> &Span {
        match self {
            ProgramItem::Param(param) => &param.span,
            ProgramItem::Node(node) => &node.span,
            ProgramItem::Process(process) => &process.span,
        }
    }

    /// Moves every span of the item by `delta` bytes (text was inserted or removed before it).
    pub fn shift(&mut self, delta: isize) {
        Shift::shift(self, delta);
    }
}

/// Moving spans, node by node.
trait Shift {
    fn shift(&mut self, delta: isize);
}

impl Shift for Span {
    fn shift(&mut self, delta: isize) {
        let moved = |at: usize| at.saturating_add_signed(delta);
        self.range = moved(self.range.start)..moved(self.range.end);
    }
}

impl<T: Shift> Shift for Vec<T> {
    fn shift(&mut self, delta: isize) {
        self.iter_mut().for_each(|x| x.shift(delta));
    }
}

impl<T: Shift> Shift for Option<T> {
    fn shift(&mut self, delta: isize) {
        if let Some(x) = self {
            x.shift(delta);
        }
    }
}

impl Shift for Item {
    fn shift(&mut self, delta: isize) {
        match self {
            Item::Use(Use {
                doc: _,
                imports,
                span,
            }) => {
                imports.shift(delta);
                span.shift(delta);
            }
            Item::Program(Program {
                doc: _,
                name,
                items,
                broken_names,
                span,
            }) => {
                name.shift(delta);
                items.shift(delta);
                broken_names.shift(delta);
                span.shift(delta);
            }
        }
    }
}

impl Shift for Import {
    fn shift(&mut self, delta: isize) {
        let Import { path, name, alias } = self;
        path.shift(delta);
        name.shift(delta);
        alias.shift(delta);
    }
}

impl Shift for Ident {
    fn shift(&mut self, delta: isize) {
        self.span.shift(delta);
    }
}

impl Shift for Path {
    fn shift(&mut self, delta: isize) {
        self.segments.shift(delta);
        self.span.shift(delta);
    }
}

impl Shift for ProgramItem {
    fn shift(&mut self, delta: isize) {
        match self {
            ProgramItem::Param(Param {
                doc: _,
                name,
                ty,
                default,
                span,
            }) => {
                name.shift(delta);
                ty.shift(delta);
                default.shift(delta);
                span.shift(delta);
            }
            ProgramItem::Node(node) => node.shift(delta),
            ProgramItem::Process(Process {
                doc: _,
                name,
                nodes,
                settings,
                span,
            }) => {
                name.shift(delta);
                nodes.shift(delta);
                settings.shift(delta);
                span.shift(delta);
            }
        }
    }
}

impl Shift for NodeDecl {
    fn shift(&mut self, delta: isize) {
        let NodeDecl {
            doc: _,
            name,
            count,
            kind: _,
            kind_span,
            target,
            args,
            args_span,
            block,
            span,
        } = self;
        name.shift(delta);
        count.shift(delta);
        kind_span.shift(delta);
        target.shift(delta);
        args.shift(delta);
        args_span.shift(delta);
        block.shift(delta);
        span.shift(delta);
    }
}

impl Shift for Arg {
    fn shift(&mut self, delta: isize) {
        let Arg { name, value, span } = self;
        name.shift(delta);
        value.shift(delta);
        span.shift(delta);
    }
}

impl Shift for Block {
    fn shift(&mut self, delta: isize) {
        self.entries.shift(delta);
        self.span.shift(delta);
    }
}

impl Shift for BlockEntry {
    fn shift(&mut self, delta: isize) {
        match self {
            BlockEntry::Section(Section { name, fields, span }) => {
                name.shift(delta);
                fields.shift(delta);
                span.shift(delta);
            }
            BlockEntry::Batch(Batch {
                keyword,
                method,
                fields,
                span,
            }) => {
                keyword.shift(delta);
                method.shift(delta);
                fields.shift(delta);
                span.shift(delta);
            }
            BlockEntry::Setting(arg) => arg.shift(delta),
        }
    }
}

impl Shift for Expr {
    fn shift(&mut self, delta: isize) {
        self.span.shift(delta);
        match &mut self.kind {
            ExprKind::List(items) => items.shift(delta),
            ExprKind::Name(name) => name.shift(delta),
            ExprKind::Index { base, index } => {
                base.shift(delta);
                index.shift(delta);
            }
            ExprKind::Neg(inner) => inner.shift(delta),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.shift(delta);
                rhs.shift(delta);
            }
            ExprKind::Call { name, args } => {
                name.shift(delta);
                args.shift(delta);
            }
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Duration(_)
            | ExprKind::Replica
            | ExprKind::Replicas
            | ExprKind::Error => {}
        }
    }
}

impl<T: Shift> Shift for Box<T> {
    fn shift(&mut self, delta: isize) {
        T::shift(self, delta);
    }
}
