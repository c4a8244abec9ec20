//! Collecting the model from parsed modules: types first, then the `impl` blocks that give them
//! methods and traits (which may live in any module).

use super::load::Module;
use super::resolve::item_name;
use super::span::SynSpans as _;
use super::{
    CrateModel, FunctionDef, IntType, Method, Param, Receiver, RustType, TypeDef, Visibility,
};
use crate::diag::LineIndex;
use crate::diag::SourceMap;
use quote::ToTokens;
use std::collections::BTreeSet;

/// Builds the crate model from every module's items.
pub(super) fn collect(modules: &[Module], sources: &SourceMap) -> CrateModel {
    let items: BTreeSet<(Vec<String>, String)> = modules
        .iter()
        .flat_map(|m| {
            m.items
                .iter()
                .filter_map(|i| item_name(i).map(|n| (m.path.clone(), n)))
        })
        .collect();
    let is_item =
        |module: &[String], name: &str| items.contains(&(module.to_vec(), name.to_string()));

    let mut model = CrateModel::default();
    for module in modules {
        let index = LineIndex::new(&sources.get(module.file).text);
        for item in &module.items {
            let (ident, vis, generics) = match item {
                syn::Item::Struct(s) => (&s.ident, &s.vis, &s.generics),
                syn::Item::Enum(e) => (&e.ident, &e.vis, &e.generics),
                syn::Item::Fn(f) => {
                    let method = lower_method(&f.sig, &f.vis, module, &index, None, &is_item);
                    model.functions.push(FunctionDef {
                        module: module.path.clone(),
                        method,
                    });
                    continue;
                }
                _ => continue,
            };
            model.types.push(TypeDef {
                name: ident.to_string(),
                module: module.path.clone(),
                visibility: visibility(vis),
                generics: (!generics.params.is_empty()).then(|| {
                    index.span(
                        module.file,
                        generics.params.first().map_or(ident.span(), spanned),
                    )
                }),
                span: index.span(module.file, ident.span()),
                methods: Vec::new(),
                traits: Vec::new(),
            });
        }
    }

    for module in modules {
        let index = LineIndex::new(&sources.get(module.file).text);
        for item in &module.items {
            let syn::Item::Impl(block) = item else {
                continue;
            };
            let syn::Type::Path(self_ty) = &*block.self_ty else {
                continue;
            };
            let names: Vec<String> = self_ty
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let absolute = module.scope.resolve(&names, &is_item).unwrap_or(names);
            let Some((name, prefix)) = absolute.split_last() else {
                continue;
            };
            let module_path = prefix
                .strip_prefix(&["crate".to_string()])
                .unwrap_or(prefix);
            let Some(type_index) = model
                .types
                .iter()
                .position(|t| &t.name == name && t.module == module_path)
            else {
                continue;
            };
            let self_path: syn::Type = {
                let mut ty = syn::Type::Path(self_ty.clone());
                module.scope.qualify_type(&mut ty, &is_item);
                strip_generics(ty)
            };
            if let Some((_, trait_path, _)) = &block.trait_ {
                if let Some(last) = trait_path.segments.last() {
                    let span = index.span(module.file, last.ident.span());
                    model.types[type_index]
                        .traits
                        .push((last.ident.to_string(), span));
                }
                continue;
            }
            for impl_item in &block.items {
                let syn::ImplItem::Fn(function) = impl_item else {
                    continue;
                };
                let method = lower_method(
                    &function.sig,
                    &function.vis,
                    module,
                    &index,
                    Some(&self_path),
                    &is_item,
                );
                model.types[type_index].methods.push(method);
            }
        }
    }
    model
}

fn spanned(param: &syn::GenericParam) -> proc_macro2::Span {
    match param {
        syn::GenericParam::Lifetime(l) => l.lifetime.apostrophe,
        syn::GenericParam::Type(t) => t.ident.span(),
        syn::GenericParam::Const(c) => c.ident.span(),
    }
}

fn strip_generics(ty: syn::Type) -> syn::Type {
    let syn::Type::Path(mut path) = ty else {
        return ty;
    };
    if let Some(last) = path.path.segments.last_mut() {
        last.arguments = syn::PathArguments::None;
    }
    syn::Type::Path(path)
}

fn visibility(vis: &syn::Visibility) -> Visibility {
    match vis {
        syn::Visibility::Public(_) => Visibility::Public,
        syn::Visibility::Restricted(_) => Visibility::Restricted,
        syn::Visibility::Inherited => Visibility::Private,
    }
}

/// A method (with the impl's self type) or a free function (`self_path` is `None`).
fn lower_method(
    sig: &syn::Signature,
    vis: &syn::Visibility,
    module: &Module,
    index: &LineIndex,
    self_path: Option<&syn::Type>,
    is_item: &dyn Fn(&[String], &str) -> bool,
) -> Method {
    let file = module.file;
    let name_span = index.span(file, sig.ident.span());
    let qualify = |ty: &syn::Type| {
        let mut ty = ty.clone();
        if let Some(self_path) = self_path {
            ReplaceSelf(self_path).visit(&mut ty);
        }
        module.scope.qualify_type(&mut ty, is_item);
        ty
    };
    let mut receiver = Receiver::None;
    let mut receiver_span = name_span.clone();
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(r) => {
                receiver = match (&r.reference, r.mutability, r.colon_token) {
                    (Some(_), Some(_), None) => Receiver::RefMut,
                    (Some(_), None, None) => Receiver::Ref,
                    _ => Receiver::Value,
                };
                receiver_span = index.span(file, r.self_token.span);
                if let Some((and, _)) = &r.reference {
                    let start = index.span(file, and.span);
                    receiver_span.range.start = start.range.start;
                }
            }
            syn::FnArg::Typed(typed) => {
                let (name, span) = match &*typed.pat {
                    syn::Pat::Ident(p) => (p.ident.to_string(), index.span(file, p.ident.span())),
                    other => ("_".to_string(), index.span(file, first_span(other))),
                };
                let ty = qualify(&typed.ty);
                params.push(Param {
                    name,
                    span,
                    ty: classify(&ty),
                    ty_span: index.span(file, first_span(&*typed.ty)),
                    tokens: ty.to_token_stream(),
                });
            }
        }
    }
    let (output, output_tokens, result_ok) = match &sig.output {
        syn::ReturnType::Default => (RustType::Unit, quote::quote!(()), None),
        syn::ReturnType::Type(_, ty) => {
            let ty = qualify(ty);
            (classify(&ty), ty.to_token_stream(), result_ok(&ty))
        }
    };
    Method {
        name: sig.ident.to_string(),
        span: name_span,
        visibility: visibility(vis),
        is_async: sig.asyncness.is_some(),
        receiver,
        receiver_span,
        params,
        output,
        output_tokens,
        result_ok,
        generics: sig
            .generics
            .params
            .first()
            .map(|p| index.span(file, spanned(p))),
    }
}

/// A span covering the node's tokens (start of the first to end of the last).
fn first_span(node: &dyn ToTokens) -> proc_macro2::Span {
    let mut tokens = node.to_token_stream().into_iter();
    let Some(first) = tokens.next() else {
        return proc_macro2::Span::call_site();
    };
    let last = tokens.last().map_or(first.span(), |t| t.span());
    first.span().join(last).unwrap_or(first.span())
}

/// Replaces `Self` in a type by the impl's self type.
struct ReplaceSelf<'a>(&'a syn::Type);

impl ReplaceSelf<'_> {
    fn visit(&mut self, ty: &mut syn::Type) {
        syn::visit_mut::VisitMut::visit_type_mut(self, ty);
    }
}

impl syn::visit_mut::VisitMut for ReplaceSelf<'_> {
    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        if let syn::Type::Path(p) = ty {
            if p.qself.is_none() && p.path.is_ident("Self") {
                *ty = self.0.clone();
                return;
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

/// Classifies a (qualified) type for argument checking.
fn classify(ty: &syn::Type) -> RustType {
    match ty {
        syn::Type::Reference(_) => RustType::Reference,
        syn::Type::ImplTrait(_) => RustType::ImplTrait,
        syn::Type::Tuple(t) if t.elems.is_empty() => RustType::Unit,
        syn::Type::Paren(p) => classify(&p.elem),
        syn::Type::Group(g) => classify(&g.elem),
        syn::Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return other(ty);
            };
            let name = last.ident.to_string();
            let args: Vec<&syn::Type> = match &last.arguments {
                syn::PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .filter_map(|arg| match arg {
                        syn::GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
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
                ("Handle", [inner]) => RustType::Handle(last_segment(inner)),
                ("Result", [ok, err]) => {
                    RustType::Result(Box::new(classify(ok)), Box::new(classify(err)))
                }
                ("Result", [ok]) => RustType::Result(
                    Box::new(classify(ok)),
                    Box::new(RustType::Other("error".into())),
                ),
                _ => other(ty),
            }
        }
        _ => other(ty),
    }
}

/// `T` of a `Result<T, …>` type.
fn result_ok(ty: &syn::Type) -> Option<proc_macro2::TokenStream> {
    let syn::Type::Path(p) = ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::Type(t) => Some(t.to_token_stream()),
        _ => None,
    })
}

fn last_segment(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map_or_else(|| other_text(ty), |s| s.ident.to_string()),
        _ => other_text(ty),
    }
}

fn other(ty: &syn::Type) -> RustType {
    RustType::Other(other_text(ty))
}

fn other_text(ty: &syn::Type) -> String {
    ty.to_token_stream().to_string()
}
