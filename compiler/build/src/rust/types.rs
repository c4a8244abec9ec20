//! Classifying the (qualified) types of signatures into [`RustType`]s, and making identifiers
//! that are valid Rust whatever the name (raw where a keyword needs it).

use super::{HandleTarget, IntType, RustType, Wire};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};

/// Classifies a type whose paths were made absolute (`crate::…` for the crate's own items).
pub(super) fn classify(ty: &syn::Type) -> RustType {
    match ty {
        syn::Type::Reference(_) => RustType::Reference,
        syn::Type::ImplTrait(_) => RustType::ImplTrait,
        syn::Type::Tuple(t) if t.elems.is_empty() => RustType::Unit,
        syn::Type::Paren(p) => classify(&p.elem),
        syn::Type::Group(g) => classify(&g.elem),
        syn::Type::Path(p) if p.qself.is_none() => classify_path(ty, &p.path),
        _ => other(ty, None),
    }
}

fn classify_path(ty: &syn::Type, path: &syn::Path) -> RustType {
    let segments = path_names(path);
    let Some(last) = path.segments.last() else {
        return other(ty, None);
    };
    // The crate's own types are never the standard ones, whatever their names.
    if segments.first().map(String::as_str) == Some("crate") {
        return other(ty, Some(segments));
    }
    let name = super::collect::name(&last.ident);
    let args = type_args(&last.arguments);
    if let Some(int) = IntType::from_name(&name).filter(|_| args.is_empty()) {
        return RustType::Int(int);
    }
    match (name.as_str(), args.as_slice()) {
        ("f32", []) => RustType::Float("f32"),
        ("f64", []) => RustType::Float("f64"),
        ("bool", []) => RustType::Bool,
        ("String", []) => RustType::String,
        ("Duration", []) => RustType::Duration,
        ("Context", []) => RustType::Context,
        ("Vec", [inner]) => RustType::Vec(Box::new(classify(inner))),
        ("Option", [inner]) => RustType::Option(Box::new(classify(inner))),
        ("Handle", [inner]) => match handle_target(inner) {
            Some(target) => RustType::Handle(target),
            None => other(ty, Some(segments)),
        },
        ("Result", [ok, err]) => RustType::Result(Box::new(classify(ok)), Box::new(classify(err))),
        ("Result", [ok]) => RustType::Result(
            Box::new(classify(ok)),
            Box::new(RustType::Other {
                text: "error".into(),
                path: None,
            }),
        ),
        _ => other(ty, Some(segments)),
    }
}

/// What `Handle<inner>` points at: a type path, or `dyn Trait`.
pub(super) fn handle_target(inner: &syn::Type) -> Option<HandleTarget> {
    match inner {
        syn::Type::Path(p) if p.qself.is_none() => Some(HandleTarget {
            path: path_names(&p.path),
            is_dyn: false,
        }),
        syn::Type::TraitObject(object) => object.bounds.iter().find_map(|bound| match bound {
            syn::TypeParamBound::Trait(t) => Some(HandleTarget {
                path: path_names(&t.path),
                is_dyn: true,
            }),
            _ => None,
        }),
        syn::Type::Paren(p) => handle_target(&p.elem),
        syn::Type::Group(g) => handle_target(&g.elem),
        _ => None,
    }
}

/// The type arguments of a path segment (`Vec<u8>` → `[u8]`).
pub(super) fn type_args(arguments: &syn::PathArguments) -> Vec<&syn::Type> {
    match arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A path's segment names, without `r#`.
pub(super) fn path_names(path: &syn::Path) -> Vec<String> {
    path.segments
        .iter()
        .map(|s| super::collect::name(&s.ident))
        .collect()
}

/// `T` of a `Result<T, …>` type, as tokens.
pub(super) fn result_ok(ty: &syn::Type) -> Option<TokenStream> {
    result_ok_type(ty).map(ToTokens::to_token_stream)
}

/// `T` of a `Result<T, …>` type (`std`'s, or an alias such as `anyhow::Result<T>`).
pub(super) fn result_ok_type(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    if last.ident != "Result" || path_names(&p.path).first().map(String::as_str) == Some("crate") {
        return None;
    }
    type_args(&last.arguments).first().copied()
}

/// What a (qualified) type needs to travel in a call.
pub(super) fn wire(ty: &syn::Type) -> Wire {
    let mut out = Wire::default();
    walk_wire(ty, &mut out);
    out
}

fn walk_wire(ty: &syn::Type, out: &mut Wire) {
    let problem = match ty {
        syn::Type::Reference(_) => Some("a reference cannot cross the wire"),
        syn::Type::ImplTrait(_) => Some("`impl Trait` has no concrete type to send"),
        syn::Type::TraitObject(_) => Some("a trait object (`dyn …`) has no concrete type to send"),
        syn::Type::FnPtr(_) => Some("a function pointer cannot cross the wire"),
        syn::Type::Ptr(_) => Some("a raw pointer cannot cross the wire"),
        syn::Type::Never(_) => Some("`!` has no value to send"),
        syn::Type::Infer(_) | syn::Type::Macro(_) | syn::Type::Verbatim(_) => {
            Some("this type cannot be named in generated code")
        }
        syn::Type::Paren(p) => return walk_wire(&p.elem, out),
        syn::Type::Group(g) => return walk_wire(&g.elem, out),
        syn::Type::Array(a) => return walk_wire(&a.elem, out),
        syn::Type::Slice(s) => return walk_wire(&s.elem, out),
        syn::Type::Tuple(t) => {
            t.elems.iter().for_each(|e| walk_wire(e, out));
            return;
        }
        syn::Type::Path(p) => {
            if let Some(qself) = &p.qself {
                walk_wire(&qself.ty, out);
            }
            let names = path_names(&p.path);
            if out.unnamed.is_none() && p.qself.is_none() && !nameable(&names) {
                out.unnamed = names.first().cloned();
            }
            // A handle travels as its node's id, whatever it points at.
            if is_runtime_handle(&names) {
                return;
            }
            if names.first().map(String::as_str) == Some("crate") {
                out.mentions.push(names.clone());
            }
            for segment in &p.path.segments {
                type_args(&segment.arguments)
                    .into_iter()
                    .for_each(|t| walk_wire(t, out));
            }
            cannot_travel(&names)
        }
        _ => None,
    };
    if out.problem.is_none() {
        out.problem = problem;
    }
}

/// Whether generated code at the crate root resolves a (qualified) path: one of the crate's,
/// a path of several segments (from an external crate), a primitive or a prelude type.
fn nameable(path: &[String]) -> bool {
    const PRELUDE: [&str; 23] = [
        "bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32",
        "i64", "i128", "isize", "f32", "f64", "Option", "Result", "Vec", "String", "Box", "Self",
    ];
    match path {
        [single] => PRELUDE.contains(&single.as_str()),
        _ => true,
    }
}

/// Whether a path is the runtime's `Handle` (not a type of the crate named `Handle`).
fn is_runtime_handle(path: &[String]) -> bool {
    path.first().map(String::as_str) != Some("crate")
        && path.last().map(String::as_str) == Some("Handle")
}

/// Why a type from outside the crate (by its path as written) cannot be sent in a call, for
/// the standard and runtime types that are known not to be `Serialize` or `Send`.
fn cannot_travel(path: &[String]) -> Option<&'static str> {
    if path.first().map(String::as_str) == Some("crate") {
        return None;
    }
    Some(match path.last()?.as_str() {
        "Context" => "`lp::Context` belongs to the node that runs: it cannot be sent",
        "Rc" => "an `Rc` is not `Send`: it cannot cross the wire (use `Arc`, or send the value)",
        "Instant" => {
            "an `Instant` means nothing in another process: send a `Duration` or a `SystemTime`"
        }
        "JoinHandle" | "Sender" | "Receiver" | "SyncSender" | "File" | "TcpStream"
        | "TcpListener" | "UdpSocket" | "UnixStream" | "UnixListener" | "Thread" => {
            "a live resource (a thread, a channel, a file or a socket) cannot cross the wire"
        }
        _ => return None,
    })
}

fn other(ty: &syn::Type, path: Option<Vec<String>>) -> RustType {
    RustType::Other {
        text: ty.to_token_stream().to_string(),
        path,
    }
}

/// An identifier for `name`: raw when it is a keyword (`type` → `r#type`); `crate`, `self`,
/// `super` and `Self`, which cannot be raw, as they are (they only appear as path segments).
pub fn ident(name: &str) -> Ident {
    match name {
        // `_` never reaches code generation (the checker rejects it as a name); kept as it is
        // rather than a raw identifier, which would panic.
        "crate" | "self" | "super" | "Self" | "_" => Ident::new(name, Span::call_site()),
        _ => syn::parse_str::<Ident>(name)
            .unwrap_or_else(|_| Ident::new_raw(name, Span::call_site())),
    }
}

/// `crate::a::B` as tokens, each segment a valid identifier.
pub fn path_tokens(path: &str) -> TokenStream {
    let segments = path.split("::").map(ident);
    quote!(#(#segments)::*)
}

/// `T` of the type `Vec<T>` (however the path to `Vec` is written), as tokens; `None` for
/// another type.
pub fn vec_element(ty: &TokenStream) -> Option<TokenStream> {
    let syn::Type::Path(path) = syn::parse2::<syn::Type>(ty.clone()).ok()? else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Vec" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(element)) if args.args.len() == 1 => {
            Some(element.to_token_stream())
        }
        _ => None,
    }
}
