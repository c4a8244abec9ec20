//! The checked model: what [`super::check`] hands to code generation. Everything here has been
//! validated; codegen never reports errors.

use crate::rust::{IntType, RustType};
use proc_macro2::TokenStream;
use std::time::Duration;

/// A checked package: its programs, every courier interface they need (each once), and the
/// wrappers of `fn` nodes.
#[derive(Debug, Default)]
pub struct Package {
    /// Node types served as couriers: used as `courier` by a program, or named by an
    /// `lp::Handle<T>` anywhere in the crate.
    pub couriers: Vec<Courier>,
    /// Courier traits: traits named by an `lp::Handle<dyn Trait>` in the crate.
    pub traits: Vec<Interface>,
    /// Functions run by `fn` nodes, each wrapped in a generated worker type.
    pub functions: Vec<FnNode>,
    pub programs: Vec<Program>,
}

/// A set of remotely callable methods: a courier type's own, or a courier trait's.
#[derive(Debug)]
pub struct Interface {
    /// Path from the crate root: `crate::nodes::Producer`.
    pub path: String,
    /// The module path of the type or trait, from the crate root (`["nodes"]`).
    pub module: Vec<String>,
    /// The type's or trait's name: `Producer`.
    pub name: String,
    /// A courier trait's (handles are `Handle<dyn Trait>`), not a type's.
    pub is_trait: bool,
    pub methods: Vec<CourierMethod>,
}

/// A node type served as a courier.
#[derive(Debug)]
pub struct Courier {
    /// Its own methods (its inherent `pub fn`s taking `&self`).
    pub interface: Interface,
    /// The paths of the courier traits it implements (it answers their calls too).
    pub traits: Vec<String>,
}

/// A method callable through a handle.
#[derive(Debug)]
pub struct CourierMethod {
    pub name: String,
    pub is_async: bool,
    /// A synchronous method marked `#[lp::nonblocking]`: it runs where its call is served.
    pub nonblocking: bool,
    /// Parameter names (valid, distinct identifiers: a pattern parameter gets a fresh name)
    /// and their types (resolved from the crate root).
    pub params: Vec<(String, TokenStream)>,
    /// What the method returns to a caller.
    pub output: Output,
    /// For a batched method (`batch METHOD` in a node's block): the element types of its
    /// `Vec` parameter and of its `Vec` result, which are what a caller sends and gets.
    pub batch: Option<BatchShape>,
}

/// The per-call types of a batched method `fn m(&self, xs: Vec<I>) -> Vec<O>`.
#[derive(Debug)]
pub struct BatchShape {
    /// `I`.
    pub item: TokenStream,
    /// `O`.
    pub output: TokenStream,
}

/// A courier method's return type.
#[derive(Debug)]
pub enum Output {
    /// `()`: the dispatch calls the method, then answers `()`.
    Unit,
    /// Returned as it is.
    Plain(TokenStream),
    /// `Result<T, E>`: `Ok(T)` is returned, `Err(e)` becomes `CallError::Remote`.
    Result(TokenStream),
}

/// A function run by `fn` nodes: generated code wraps it in a worker type whose fields are its
/// `.lp`-given parameters.
#[derive(Debug)]
pub struct FnNode {
    /// Path from the crate root: `crate::nodes::setup`.
    pub path: String,
    /// The wrapper type's name in the generated `fns` module (an injective mangling of the
    /// path).
    pub wrapper: String,
    pub is_async: bool,
    /// Every parameter, in order.
    pub params: Vec<FnParam>,
    /// Whether it returns `Result<_, E>` (its error then fails the node).
    pub returns_result: bool,
    /// Whether it returns `()`: the worker calls it as a statement.
    pub returns_unit: bool,
}

/// A parameter of a function run by a `fn` node.
#[derive(Debug)]
pub struct FnParam {
    pub name: String,
    /// Its type, resolved from the crate root.
    pub tokens: TokenStream,
    /// Whether it is the node's `lp::Context` (passed by the runtime, not from `.lp`).
    pub context: bool,
    /// Whether its type is `Copy` (a number, a `bool`, a `Duration`…): the worker passes its
    /// field on without cloning it.
    pub copy: bool,
}

/// One checked program.
#[derive(Debug)]
pub struct Program {
    pub name: String,
    pub doc: Option<String>,
    pub params: Vec<Param>,
    /// Nodes and groups, in declaration order (which is their id order).
    pub nodes: Vec<Node>,
    /// The values computed from flags (and replica indices) when the program is built: each is
    /// evaluated and range-checked once, before any node starts.
    pub sites: Vec<Site>,
    /// The `process` blocks that end with their first finished node
    /// (`return_on_first_completed: true;`).
    pub first_completed: Vec<String>,
}

/// The type of a program param.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum ParamType {
    Int(IntType),
    Float(&'static str),
    Bool,
    String,
    Duration,
}

impl ParamType {
    /// Parses a param type name as written in `.lp`.
    pub fn from_name(name: &str) -> Option<ParamType> {
        if let Some(int) = IntType::from_name(name) {
            return Some(ParamType::Int(int));
        }
        Some(match name {
            "f32" => ParamType::Float("f32"),
            "f64" => ParamType::Float("f64"),
            "bool" => ParamType::Bool,
            "String" => ParamType::String,
            "Duration" => ParamType::Duration,
            _ => return None,
        })
    }

    /// The Rust type name.
    pub fn name(self) -> &'static str {
        match self {
            ParamType::Int(i) => i.name(),
            ParamType::Float(f) => f,
            ParamType::Bool => "bool",
            ParamType::String => "String",
            ParamType::Duration => "Duration",
        }
    }

    /// The Rust type a param of this type matches exactly.
    pub fn rust_type(self) -> RustType {
        match self {
            ParamType::Int(i) => RustType::Int(i),
            ParamType::Float(f) => RustType::Float(f),
            ParamType::Bool => RustType::Bool,
            ParamType::String => RustType::String,
            ParamType::Duration => RustType::Duration,
        }
    }

    /// Whether arithmetic may use it.
    pub fn is_number(self) -> bool {
        matches!(self, ParamType::Int(_) | ParamType::Float(_))
    }
}

/// A program param: a flag of the program binary.
#[derive(Debug)]
pub struct Param {
    pub name: String,
    pub doc: Option<String>,
    pub ty: ParamType,
    /// The default, already of the param's type.
    pub default: Option<Literal>,
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Int(i128),
    Float(f64),
    Bool(bool),
    Str(String),
    Duration(Duration),
}

/// Whether a node serves methods or only runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Courier,
    Worker,
}

/// How a node's `run` is called at program entry.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Runner {
    /// It has no `run`.
    None,
    /// It implements `lp::Run` (async).
    Async,
    /// It implements `lp::BlockingRun`.
    Blocking,
}

/// A node or a group of replicas.
#[derive(Debug)]
pub struct Node {
    pub name: String,
    pub doc: Option<String>,
    /// `Some(count)` for a group.
    pub count: Option<Count>,
    pub kind: Kind,
    pub runner: Runner,
    /// The node type's path from the crate root.
    pub type_path: String,
    /// How the node's object is made from `args`.
    pub build: Build,
    /// Constructor arguments in the Rust parameter order.
    pub args: Vec<Arg>,
    /// The `process` block the node runs in (colocated with the block's other nodes).
    pub process: Option<String>,
    /// What its block asks of launchers.
    pub settings: Settings,
    /// Where the node is named in `.lp`.
    pub span: crate::diag::Span,
}

/// A group's replica count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// Known when checking.
    Const(u64),
    /// Computed from flags: the index of its [`Site`].
    Site(usize),
}

/// How a node's object is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Build {
    /// `Type::constructor(args)`; `fallible` when it returns `Result<Self, E>`.
    Constructor { name: String, fallible: bool },
    /// A `fn` node: the function's path; `type_path` is its generated wrapper, built field by
    /// field from `args`.
    Function(String),
}

/// A node's launcher settings, from its block.
#[derive(Debug, Default)]
pub struct Settings {
    /// Environment variables for its process.
    pub env: Vec<(String, EnvValue)>,
    /// `f64`.
    pub cpus: Option<Value>,
    /// `String`.
    pub memory: Option<Value>,
    /// `u32`.
    pub gpus: Option<Value>,
    /// `restart: on_failure(max: …, backoff: …)`.
    pub restart: Option<Restart>,
    /// `batch METHOD { … }` entries.
    pub batches: Vec<BatchSetting>,
    /// `deadline: 2s` (`Duration`): how long its callers wait for a reply.
    pub deadline: Option<Value>,
}

impl Settings {
    /// Whether the block asked for nothing.
    pub fn is_empty(&self) -> bool {
        self.env.is_empty()
            && self.cpus.is_none()
            && self.memory.is_none()
            && self.gpus.is_none()
            && self.restart.is_none()
            && self.batches.is_empty()
            && self.deadline.is_none()
    }
}

/// A restart policy: up to `max` (`u32`) restarts, `backoff` (`Duration`) before each.
#[derive(Debug)]
pub struct Restart {
    pub max: Value,
    pub backoff: Value,
}

/// `batch METHOD { size: …, timeout: …, max_parallelism: … }`.
#[derive(Debug)]
pub struct BatchSetting {
    pub method: String,
    /// Where the method is named in `.lp`.
    pub span: crate::diag::Span,
    /// `usize`, at least 1.
    pub size: Value,
    /// `Duration`.
    pub timeout: Value,
    /// `usize`, at least 1.
    pub max_parallelism: Value,
}

/// The value of an environment variable.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvValue {
    Literal(String),
    /// A `String` param.
    Param(String),
}

/// One constructor argument, with the type of the Rust parameter it goes to.
#[derive(Debug)]
pub struct Arg {
    pub name: String,
    pub value: Value,
    pub target: RustType,
}

/// A checked value, of the type of what it is given to.
#[derive(Debug)]
pub enum Value {
    /// A constant, of the target's type.
    Literal(Literal),
    /// A param used as it is (its type equals the target's).
    Param(String),
    /// A number computed from params and the replica index: the index of its [`Site`].
    Computed(usize),
    List(Vec<Value>),
    /// `Some(…)` for an `Option` parameter.
    Some(Box<Value>),
    /// `None`: an `Option` parameter left out.
    None,
    /// A handle to a node.
    Node(String),
    /// Handles to every replica of a group.
    Group(String),
    /// A handle to one replica of a group.
    GroupAt(String, Index),
}

impl Value {
    /// Adds the names of the nodes and groups it holds handles to.
    pub fn held<'a>(&'a self, out: &mut std::collections::BTreeSet<&'a str>) {
        match self {
            Value::Node(n) | Value::Group(n) | Value::GroupAt(n, _) => {
                out.insert(n);
            }
            Value::List(items) => items.iter().for_each(|i| i.held(out)),
            Value::Some(inner) => inner.held(out),
            Value::Literal(_) | Value::Param(_) | Value::Computed(_) | Value::None => {}
        }
    }
}

/// The index of `group[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// Known (and checked) when checking.
    Const(u64),
    /// Computed when the program is built (and checked against the group's size): a site.
    Site(usize),
}

/// A number computed when the program is built, from params, the replica index and the group
/// size: evaluated and checked once before any node starts (a bad value is a flag error), then
/// again by the node's factory.
#[derive(Debug, Clone)]
pub struct Site {
    /// What the value is for: "argument `seed` of `actor`", "the count of group `g`".
    pub what: String,
    /// The expression as written.
    pub text: String,
    /// Where it is written: `file.lp:LINE:COL`.
    pub at: String,
    pub expr: NumExpr,
    pub target: NumType,
    /// The least value allowed (e.g. 1 for a batch size), beyond the type's range.
    pub min: Option<i128>,
    /// The greatest value allowed (e.g. the replica limit for a count), beyond the type's.
    pub max: Option<i128>,
    /// The index of the group (in [`Program::nodes`]) whose replicas it is evaluated for.
    pub group: Option<usize>,
    /// For an index `g[i]`: the node index of `g`, whose size bounds it.
    pub bound: Option<usize>,
    /// The params it depends on (indices into [`Program::params`]), directly or through a
    /// group size: the flags a bad value is blamed on.
    pub flags: Vec<usize>,
}

/// The numeric type a [`Site`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumType {
    Int(IntType),
    /// `f32` or `f64`.
    Float(&'static str),
}

/// Arithmetic over numbers. Integer targets compute in `i128`, checked; float targets in
/// `f64`, integers converted (so `1 / (replica + 1)` into an `f32` is a real division).
#[derive(Debug, Clone, PartialEq)]
pub enum NumExpr {
    Int(i128),
    Float(f64),
    /// A numeric param, by its index in [`Program::params`].
    Param(usize),
    Replica,
    Replicas,
    Neg(Box<NumExpr>),
    Binary(BinOp, Box<NumExpr>, Box<NumExpr>),
}

/// An arithmetic operator (the same as written).
pub use crate::syntax::ast::BinOp;
