//! The user's crate as the checker sees it: public types and traits, their constructors and
//! methods, the traits types implement, every `lp::Handle<…>` written anywhere. Built with syn by
//! following `mod` declarations from the crate root; syn types never leave this module (types
//! are kept as classified [`RustType`]s plus resolved tokens for code generation).
//!
//! Names are kept without their `r#` prefix (`r#type` is `type`); code generation makes an
//! identifier raw again where Rust needs it.

mod collect;
mod handles;
mod load;
mod manifest;
mod resolve;
mod span;
mod types;

pub use load::{crate_root, load_crate};
pub use types::{ident, path_tokens, vec_element};

use crate::diag::Span;
use proc_macro2::TokenStream;
use std::collections::BTreeSet;

/// A function's `#[lp::nonblocking]` (or `#[nonblocking]`, imported) attribute.
#[derive(Debug, Clone)]
pub struct NonblockingMark {
    /// The attribute's name.
    pub span: Span,
    /// Whether it was given arguments (it takes none).
    pub with_arguments: bool,
}

/// A method of `impl Trait for Type` marked `#[lp::nonblocking]`.
#[derive(Debug)]
pub struct ImplMark {
    /// The trait's name.
    pub trait_name: String,
    /// The method.
    pub method: Method,
}

/// What the checker knows about the user's crate.
#[derive(Debug, Default)]
pub struct CrateModel {
    /// Every struct and enum, in the order found.
    pub types: Vec<TypeDef>,
    /// Every trait, in the order found.
    pub traits: Vec<TraitDef>,
    /// Every free function (for `fn` nodes), in the order found.
    pub functions: Vec<FunctionDef>,
    /// The names the crate root defines or imports by name (not through a glob), in the type
    /// namespace: generated program modules live there too and must not clash with them.
    pub root_names: BTreeSet<String>,
    /// Every `lp::Handle<T>` written in the crate (fields, signatures, bodies): `T` must be a
    /// courier type (or a courier trait), whether or not a program uses it.
    pub handles: Vec<HandleUse>,
    /// The methods of trait impls marked `#[lp::nonblocking]` (which says nothing there: calls
    /// through `dyn Trait` run as the trait's declaration says).
    pub impl_marks: Vec<ImplMark>,
    /// The names the package's `[dependencies]` are known by in its code (`-` as `_`).
    pub dependencies: BTreeSet<String>,
}

impl CrateModel {
    /// The type at this module path and name (`["nodes"]`, `Producer`).
    pub fn type_at(&self, module: &[String], name: &str) -> Option<&TypeDef> {
        self.types
            .iter()
            .find(|t| t.name == name && t.module == module)
    }

    /// The type at an absolute path (`crate::nodes::Producer`), if it is one of the crate's.
    pub fn type_at_path(&self, path: &[String]) -> Option<&TypeDef> {
        let (name, module) = crate_relative(path)?.split_last()?;
        self.type_at(module, name)
    }

    /// The trait at an absolute path (`crate::vars::Source`), if it is one of the crate's.
    pub fn trait_at_path(&self, path: &[String]) -> Option<&TraitDef> {
        let (name, module) = crate_relative(path)?.split_last()?;
        self.traits
            .iter()
            .find(|t| &t.name == name && t.module == module)
    }

    /// The free function at this module path and name.
    pub fn function_at(&self, module: &[String], name: &str) -> Option<&FunctionDef> {
        self.functions
            .iter()
            .find(|f| f.method.name == name && f.module == module)
    }

    /// Every type with this name, in any module.
    pub fn types_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a TypeDef> + 'a {
        self.types.iter().filter(move |t| t.name == name)
    }
}

/// `crate::a::B` → `[a, B]`; `None` for a path outside the crate.
fn crate_relative(path: &[String]) -> Option<&[String]> {
    match path.split_first() {
        Some((first, rest)) if first == "crate" => Some(rest),
        _ => None,
    }
}

/// `crate::a::B` for a module path and a name.
pub fn item_path(module: &[String], name: &str) -> String {
    let mut path = String::from("crate");
    for segment in module.iter().map(String::as_str).chain([name]) {
        path.push_str("::");
        path.push_str(segment);
    }
    path
}

/// A struct or enum of the user's crate.
#[derive(Debug)]
pub struct TypeDef {
    pub name: String,
    /// Module path from the crate root, e.g. `["nodes"]`.
    pub module: Vec<String>,
    pub visibility: Visibility,
    /// The span of its generic parameters, if it has any.
    pub generics: Option<Span>,
    /// The span of its name.
    pub span: Span,
    /// Methods of its inherent `impl` blocks, in every module.
    pub methods: Vec<Method>,
    /// Traits it implements: their paths, resolved from the crate root when they are the
    /// crate's (`crate::vars::Source`), else as written (`lp::Run`, `Clone`), with the span of
    /// the impl's trait path.
    pub traits: Vec<(Vec<String>, Span)>,
    /// Whether it can cross the wire: it derives or implements both `Serialize` and
    /// `Deserialize`.
    pub serde: bool,
}

impl TypeDef {
    /// Its path from the crate root: `crate::nodes::Producer`.
    pub fn path(&self) -> String {
        item_path(&self.module, &self.name)
    }

    /// Its path as segments: `["crate", "nodes", "Producer"]`.
    pub fn segments(&self) -> Vec<String> {
        let mut path = vec!["crate".to_string()];
        path.extend(self.module.iter().cloned());
        path.push(self.name.clone());
        path
    }

    /// The method with this name, if any.
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// Whether it implements the runtime's trait `name` (`Run`, `BlockingRun`): a trait of that
    /// last segment that is not one of the crate's own.
    pub fn implements_runtime(&self, name: &str) -> bool {
        self.traits.iter().any(|(path, _)| {
            path.first().map(String::as_str) != Some("crate")
                && path.last().map(String::as_str) == Some(name)
        })
    }

    /// Whether it implements the trait at this absolute path.
    pub fn implements(&self, path: &[String]) -> bool {
        self.traits.iter().any(|(t, _)| t == path)
    }
}

/// A trait of the user's crate: a courier trait when some `lp::Handle<dyn Trait>` names it.
#[derive(Debug)]
pub struct TraitDef {
    pub name: String,
    /// Module path from the crate root.
    pub module: Vec<String>,
    pub visibility: Visibility,
    /// The span of its generic parameters, if it has any.
    pub generics: Option<Span>,
    /// The span of its name.
    pub span: Span,
    /// Its methods (`pub` by the trait's visibility), default bodies or not.
    pub methods: Vec<Method>,
}

impl TraitDef {
    /// Its path from the crate root: `crate::vars::Source`.
    pub fn path(&self) -> String {
        item_path(&self.module, &self.name)
    }
}

/// A free function of the user's crate.
#[derive(Debug)]
pub struct FunctionDef {
    /// Module path from the crate root.
    pub module: Vec<String>,
    /// Its signature (with no receiver).
    pub method: Method,
}

impl FunctionDef {
    /// Its path from the crate root: `crate::nodes::setup`.
    pub fn path(&self) -> String {
        item_path(&self.module, &self.method.name)
    }
}

/// How visible an item is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// `pub`
    Public,
    /// `pub(crate)`, `pub(super)`, `pub(in …)`
    Restricted,
    /// no `pub`
    Private,
}

/// A method of an inherent `impl` block or a trait, or a free function.
#[derive(Debug)]
pub struct Method {
    pub name: String,
    /// The span of its name.
    pub span: Span,
    pub visibility: Visibility,
    pub is_async: bool,
    /// `unsafe fn`: generated code cannot call it.
    pub is_unsafe: bool,
    /// Its `#[lp::nonblocking]` mark, if it has one: a synchronous courier method then runs
    /// where its call is served.
    pub nonblocking: Option<NonblockingMark>,
    pub receiver: Receiver,
    /// The receiver's span, or the name's when there is none.
    pub receiver_span: Span,
    pub params: Vec<Param>,
    pub output: RustType,
    /// The return type's tokens, resolved from the crate root.
    pub output_tokens: TokenStream,
    /// The return type's span (the name's when it returns `()`).
    pub output_span: Span,
    /// For a method returning `Result<T, E>`: `T`'s tokens.
    pub result_ok: Option<TokenStream>,
    /// What a caller gets (`T` of a `Result<T, E>`, else the return type), as it travels.
    pub output_wire: Wire,
    /// The span of generic parameters, if any.
    pub generics: Option<Span>,
}

impl Method {
    /// Whether a handle can call it, on a courier of its type: a `pub` method taking `&self`.
    pub fn is_callable(&self) -> bool {
        self.visibility == Visibility::Public && self.receiver == Receiver::Ref
    }
}

/// What a type needs to travel in a call: the crate's own types it mentions (which must be
/// `Serialize` and `Deserialize`), or why it cannot travel at all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Wire {
    /// Paths (from the crate root) of the crate's types in it, e.g. `crate::msg::Batch`.
    pub mentions: Vec<Vec<String>>,
    /// Why it cannot cross the wire, whatever serde says: a reference, a trait object, …
    pub problem: Option<&'static str>,
    /// A name in it that generated code (at the crate root) cannot resolve: imported through a
    /// glob of another crate, or made by a macro.
    pub unnamed: Option<String>,
}

/// How a method takes `self`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Receiver {
    /// an associated function: no `self`
    None,
    /// `&self`
    Ref,
    /// `&mut self`
    RefMut,
    /// `self`, `mut self`, `self: Box<Self>`, …
    Value,
}

/// A parameter of a method or constructor.
#[derive(Debug)]
pub struct Param {
    /// Its name (`mut x` is `x`); for a pattern (`_`, `(a, b)`), the pattern as written.
    pub name: String,
    /// Whether it is bound by a pattern other than a plain name (`_`, `(a, b)`): `.lp` cannot
    /// name it, and generated code calls it positionally.
    pub is_pattern: bool,
    pub span: Span,
    pub ty: RustType,
    /// The type's span.
    pub ty_span: Span,
    /// The type's tokens, resolved from the crate root.
    pub tokens: TokenStream,
    /// What the type needs to travel in a call.
    pub wire: Wire,
}

/// The integer types a param or literal may have.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IntType {
    U8,
    U16,
    U32,
    U64,
    Usize,
    I8,
    I16,
    I32,
    I64,
    Isize,
}

impl IntType {
    /// Parses a Rust integer type name.
    pub fn from_name(name: &str) -> Option<IntType> {
        Some(match name {
            "u8" => IntType::U8,
            "u16" => IntType::U16,
            "u32" => IntType::U32,
            "u64" => IntType::U64,
            "usize" => IntType::Usize,
            "i8" => IntType::I8,
            "i16" => IntType::I16,
            "i32" => IntType::I32,
            "i64" => IntType::I64,
            "isize" => IntType::Isize,
            _ => return None,
        })
    }

    /// The Rust name of the type.
    pub fn name(self) -> &'static str {
        match self {
            IntType::U8 => "u8",
            IntType::U16 => "u16",
            IntType::U32 => "u32",
            IntType::U64 => "u64",
            IntType::Usize => "usize",
            IntType::I8 => "i8",
            IntType::I16 => "i16",
            IntType::I32 => "i32",
            IntType::I64 => "i64",
            IntType::Isize => "isize",
        }
    }

    /// The inclusive range of values (usize/isize as on 64-bit targets).
    pub fn range(self) -> (i128, i128) {
        match self {
            IntType::U8 => (0, u8::MAX.into()),
            IntType::U16 => (0, u16::MAX.into()),
            IntType::U32 => (0, u32::MAX.into()),
            IntType::U64 | IntType::Usize => (0, u64::MAX.into()),
            IntType::I8 => (i8::MIN.into(), i8::MAX.into()),
            IntType::I16 => (i16::MIN.into(), i16::MAX.into()),
            IntType::I32 => (i32::MIN.into(), i32::MAX.into()),
            IntType::I64 | IntType::Isize => (i64::MIN.into(), i64::MAX.into()),
        }
    }
}

/// What an `lp::Handle<…>` points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandleTarget {
    /// The type's (or trait's) path: from the crate root (`crate::nodes::Store`) when it is the
    /// crate's, else as written.
    pub path: Vec<String>,
    /// `Handle<dyn Trait>`: any node whose type implements the trait.
    pub is_dyn: bool,
}

impl HandleTarget {
    /// How the target reads in a message: `Store`, or `dyn Source`.
    pub fn display(&self) -> String {
        let name = self.path.last().map_or("?", String::as_str);
        if self.is_dyn {
            format!("dyn {name}")
        } else {
            name.to_string()
        }
    }

    /// The full path, for messages that must tell two same-named types apart.
    pub fn full(&self) -> String {
        let path = self.path.join("::");
        if self.is_dyn {
            format!("dyn {path}")
        } else {
            path
        }
    }
}

/// One `lp::Handle<T>` written in the crate.
#[derive(Clone, Debug)]
pub struct HandleUse {
    pub target: HandleTarget,
    /// Where `T` is written.
    pub span: Span,
}

/// A Rust type, classified for checking `.lp` arguments against it.
#[derive(Clone, Debug, PartialEq)]
pub enum RustType {
    Int(IntType),
    /// `f32` or `f64`
    Float(&'static str),
    Bool,
    String,
    Duration,
    /// `()`
    Unit,
    /// `lp::Context` (a node's context)
    Context,
    /// `lp::Handle<T>`
    Handle(HandleTarget),
    Vec(Box<RustType>),
    /// `Option<T>`: a constructor argument that may be left out.
    Option(Box<RustType>),
    /// `Result<T, E>` (a one-argument `Result` alias has error type `Other`).
    Result(Box<RustType>, Box<RustType>),
    /// `&T` or `&mut T`
    Reference,
    /// `impl Trait`
    ImplTrait,
    /// anything else: as written, and its path (from the crate root when it is the crate's)
    /// when it is a path.
    Other {
        text: String,
        path: Option<Vec<String>>,
    },
}

impl RustType {
    /// Whether the type is `Copy`, as far as its kind tells: numbers, `bool`, `Duration`, `()`
    /// and options of these.
    pub fn is_copy(&self) -> bool {
        match self {
            RustType::Int(_)
            | RustType::Float(_)
            | RustType::Bool
            | RustType::Duration
            | RustType::Unit => true,
            RustType::Option(inner) => inner.is_copy(),
            _ => false,
        }
    }

    /// How the type reads in a message.
    pub fn display(&self) -> String {
        match self {
            RustType::Int(i) => i.name().to_string(),
            RustType::Float(f) => f.to_string(),
            RustType::Bool => "bool".into(),
            RustType::String => "String".into(),
            RustType::Duration => "Duration".into(),
            RustType::Unit => "()".into(),
            RustType::Context => "Context".into(),
            RustType::Handle(t) => format!("Handle<{}>", t.display()),
            RustType::Vec(t) => format!("Vec<{}>", t.display()),
            RustType::Option(t) => format!("Option<{}>", t.display()),
            RustType::Result(t, e) => format!("Result<{}, {}>", t.display(), e.display()),
            RustType::Reference => "a reference".into(),
            RustType::ImplTrait => "impl Trait".into(),
            RustType::Other { text, .. } => text.clone(),
        }
    }

    /// The path of a type written as a plain path (`crate::nodes::Store`), if it is one.
    pub fn path(&self) -> Option<&[String]> {
        match self {
            RustType::Other { path, .. } => path.as_deref(),
            _ => None,
        }
    }
}
