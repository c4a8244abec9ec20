//! The user's crate as the checker sees it: public types, their constructors and methods, the
//! traits they implement. Built with syn by following `mod` declarations from the crate root;
//! syn types never leave this module (types are kept as classified [`RustType`]s plus resolved
//! tokens for code generation).

mod collect;
mod load;
mod resolve;
mod span;

pub use load::{crate_root, load_crate};

use crate::diag::Span;
use proc_macro2::TokenStream;

/// What the checker knows about the user's crate.
#[derive(Debug, Default)]
pub struct CrateModel {
    /// Every struct and enum, in the order found.
    pub types: Vec<TypeDef>,
    /// Every free function (for `fn` nodes), in the order found.
    pub functions: Vec<FunctionDef>,
}

impl CrateModel {
    /// The type at this module path and name (`["nodes"]`, `Producer`).
    pub fn type_at(&self, module: &[String], name: &str) -> Option<&TypeDef> {
        self.types
            .iter()
            .find(|t| t.name == name && t.module == module)
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
    /// Traits it implements (last path segment, e.g. `Run`), with the span of the impl's trait path.
    pub traits: Vec<(String, Span)>,
}

impl TypeDef {
    /// Its path from the crate root: `crate::nodes::Producer`.
    pub fn path(&self) -> String {
        let mut path = String::from("crate");
        for segment in &self.module {
            path.push_str("::");
            path.push_str(segment);
        }
        path.push_str("::");
        path.push_str(&self.name);
        path
    }

    /// The method with this name, if any.
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// Whether it implements a trait whose last path segment is `name`.
    pub fn implements(&self, name: &str) -> bool {
        self.traits.iter().any(|(t, _)| t == name)
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
        let mut segments = vec!["crate".to_string()];
        segments.extend(self.module.iter().cloned());
        segments.push(self.method.name.clone());
        segments.join("::")
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

/// A method of an inherent `impl` block.
#[derive(Debug)]
pub struct Method {
    pub name: String,
    /// The span of its name.
    pub span: Span,
    pub visibility: Visibility,
    pub is_async: bool,
    pub receiver: Receiver,
    /// The receiver's span, or the name's when there is none.
    pub receiver_span: Span,
    pub params: Vec<Param>,
    pub output: RustType,
    /// The return type's tokens, resolved from the crate root.
    pub output_tokens: TokenStream,
    /// For a method returning `Result<T, E>`: `T`'s tokens.
    pub result_ok: Option<TokenStream>,
    /// The span of generic parameters, if any.
    pub generics: Option<Span>,
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
    pub name: String,
    pub span: Span,
    pub ty: RustType,
    /// The type's span.
    pub ty_span: Span,
    /// The type's tokens, resolved from the crate root.
    pub tokens: TokenStream,
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
    /// `Handle<T>`: the last segment of `T`'s path.
    Handle(String),
    Vec(Box<RustType>),
    /// `Result<T, E>` (a one-argument `Result` alias has error type `Other`).
    Result(Box<RustType>, Box<RustType>),
    /// `&T` or `&mut T`
    Reference,
    /// `impl Trait`
    ImplTrait,
    /// anything else, as written
    Other(String),
}

impl RustType {
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
            RustType::Handle(t) => format!("Handle<{t}>"),
            RustType::Vec(t) => format!("Vec<{}>", t.display()),
            RustType::Result(t, e) => format!("Result<{}, {}>", t.display(), e.display()),
            RustType::Reference => "a reference".into(),
            RustType::ImplTrait => "impl Trait".into(),
            RustType::Other(s) => s.clone(),
        }
    }
}
