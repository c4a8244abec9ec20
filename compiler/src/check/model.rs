//! The checked model: what [`super::check`] hands to code generation. Everything here has been
//! validated; codegen never reports errors.

use crate::rust::{IntType, RustType};
use proc_macro2::TokenStream;
use std::time::Duration;

/// A checked package: its programs and every courier type they use (each once).
#[derive(Debug, Default)]
pub struct Package {
    pub couriers: Vec<Courier>,
    /// Functions run by `fn` nodes, each wrapped in a generated worker type.
    pub functions: Vec<FnNode>,
    pub programs: Vec<Program>,
}

/// A type served as a courier: its remotely callable methods.
#[derive(Debug)]
pub struct Courier {
    /// Path from the crate root: `crate::nodes::Producer`.
    pub path: String,
    /// The type's name: `Producer`.
    pub name: String,
    pub methods: Vec<CourierMethod>,
}

/// A `pub fn`/`pub async fn` with a `&self` receiver.
#[derive(Debug)]
pub struct CourierMethod {
    pub name: String,
    pub is_async: bool,
    /// Parameter names and their types (resolved from the crate root).
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
    /// The wrapper type's name in `__lp_fns`.
    pub wrapper: String,
    pub is_async: bool,
    /// Every parameter, in order.
    pub params: Vec<FnParam>,
    /// Whether it returns `Result<_, E>` (its error then fails the node).
    pub returns_result: bool,
}

/// A parameter of a function run by a `fn` node.
#[derive(Debug)]
pub struct FnParam {
    pub name: String,
    /// Its type, resolved from the crate root.
    pub tokens: TokenStream,
    /// Whether it is the node's `lp::Context` (passed by the runtime, not from `.lp`).
    pub context: bool,
}

/// One checked program.
#[derive(Debug)]
pub struct Program {
    pub name: String,
    pub doc: Option<String>,
    pub params: Vec<Param>,
    /// Nodes and groups, in declaration order (which is their id order).
    pub nodes: Vec<Node>,
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
    pub count: Option<IntExpr>,
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

/// How a node's object is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Build {
    /// `Type::constructor(args)`: the constructor's name.
    Constructor(String),
    /// A `fn` node: the function's path; `type_path` is its generated wrapper, built field by
    /// field from `args`.
    Function(String),
}

/// A node's launcher settings, from its block.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Settings {
    /// Environment variables for its process.
    pub env: Vec<(String, EnvValue)>,
    pub cpus: Option<f64>,
    pub memory: Option<String>,
    pub gpus: Option<u32>,
    /// `restart: on_failure(max: …, backoff: …)`.
    pub restart: Option<Restart>,
    /// `batch METHOD { … }` entries.
    pub batches: Vec<BatchSetting>,
}

/// A restart policy: up to `max` restarts, `backoff` before each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restart {
    pub max: u32,
    pub backoff: Duration,
}

/// `batch METHOD { size: …, timeout: …, max_parallelism: … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSetting {
    pub method: String,
    /// Where the method is named in `.lp`.
    pub span: crate::diag::Span,
    pub size: u32,
    pub timeout: Duration,
    pub max_parallelism: u32,
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

/// A checked argument value.
#[derive(Debug)]
pub enum Value {
    Literal(Literal),
    /// A param used as it is (its type equals the target's).
    Param(String),
    /// Integer arithmetic over literals, params, `replica` and `replicas`.
    Int(IntExpr),
    List(Vec<Value>),
    /// A handle to a node.
    Node(String),
    /// Handles to every replica of a group.
    Group(String),
    /// A handle to one replica of a group.
    GroupAt(String, IntExpr),
}

/// Integer arithmetic, evaluated in `i128` by the generated code.
#[derive(Clone, Debug)]
pub enum IntExpr {
    Literal(i128),
    Param(String),
    Replica,
    Replicas,
    Neg(Box<IntExpr>),
    Binary(BinOp, Box<IntExpr>, Box<IntExpr>),
}

/// An arithmetic operator (the same as written).
pub use crate::syntax::ast::BinOp;
