//! Collecting the model from parsed modules: types, traits and functions first, then the `impl`
//! blocks that give types methods and traits (which may live in any module).

use super::load::Module;
use super::resolve::item_name;
use super::resolve::rooted;
use super::span::SynSpans as _;
use super::types::{classify, result_ok, wire};
use super::{
    CrateModel, FunctionDef, ImplMark, Method, NonblockingMark, Param, Receiver, RustType,
    TraitDef, TypeDef, Visibility,
};
use crate::diag::{LineIndex, SourceMap, Span};
use quote::ToTokens;
use std::collections::BTreeSet;
use syn::ext::IdentExt as _;

/// An identifier's name without `r#`.
pub(super) fn name(ident: &syn::Ident) -> String {
    ident.unraw().to_string()
}

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
        let at = At::new(module, sources);
        if module.path.is_empty() {
            model.root_names = type_namespace(module);
        }
        for item in module.items.iter().filter(|i| !varies(item_attrs(i))) {
            match item {
                syn::Item::Struct(s) => {
                    model
                        .types
                        .push(type_def(&s.ident, &s.vis, &s.generics, &s.attrs, &at));
                }
                syn::Item::Enum(e) => {
                    model
                        .types
                        .push(type_def(&e.ident, &e.vis, &e.generics, &e.attrs, &at));
                }
                syn::Item::Trait(t) => model.traits.push(trait_def(t, &at, &is_item)),
                syn::Item::Fn(f) => {
                    let method = lower_method(&f.sig, &f.vis, &f.attrs, &at, None, &is_item);
                    model.functions.push(FunctionDef {
                        module: module.path.clone(),
                        method,
                    });
                }
                _ => {}
            }
        }
    }

    for module in modules {
        let at = At::new(module, sources);
        for item in &module.items {
            if let syn::Item::Impl(block) = item {
                if !varies(&block.attrs) {
                    add_impl(&mut model, block, &at, &is_item);
                }
            }
        }
    }
    model.handles = super::handles::find(modules, sources, &is_item);
    model
}

/// The names a module binds in the type namespace (where a generated module would clash):
/// its modules, types, traits and crates, and every name it imports (which may be a type).
fn type_namespace(module: &Module) -> BTreeSet<String> {
    let mut names = module.scope.imported();
    for item in &module.items {
        let ident = match item {
            syn::Item::Struct(i) => &i.ident,
            syn::Item::Enum(i) => &i.ident,
            syn::Item::Union(i) => &i.ident,
            syn::Item::Type(i) => &i.ident,
            syn::Item::Trait(i) => &i.ident,
            syn::Item::TraitAlias(i) => &i.ident,
            syn::Item::Mod(i) => &i.ident,
            syn::Item::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |(_, r)| r),
            _ => continue,
        };
        names.insert(name(ident));
    }
    names
}

/// Whether an item exists in some builds of the package and not others: `#[cfg(…)]` over
/// `test` (`cargo build` and `cargo test` share one generated file) or a feature. Generated code
/// cannot name such an item, so the checker does not see it. (A target's `cfg`s are the same
/// for every build of the package, so items under them count.)
pub(super) fn varies(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().filter(|a| a.path().is_ident("cfg")).any(|a| {
        a.meta
            .require_list()
            .map(|list| mentions_build_option(list.tokens.clone()))
            .unwrap_or(false)
    })
}

/// Whether tokens mention `test` or `feature`, at any depth.
fn mentions_build_option(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == "test" || i == "feature",
        proc_macro2::TokenTree::Group(g) => mentions_build_option(g.stream()),
        _ => false,
    })
}

/// An item's attributes.
pub(super) fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        _ => &[],
    }
}

/// Where items are being read: their module, and how to turn syn spans into ours.
struct At<'a> {
    module: &'a Module,
    index: LineIndex<'a>,
}

impl<'a> At<'a> {
    fn new(module: &'a Module, sources: &'a SourceMap) -> Self {
        At {
            module,
            index: LineIndex::new(&sources.get(module.file).text),
        }
    }

    fn span(&self, span: proc_macro2::Span) -> Span {
        self.index.span(self.module.file, span)
    }
}

fn type_def(
    ident: &syn::Ident,
    vis: &syn::Visibility,
    generics: &syn::Generics,
    attrs: &[syn::Attribute],
    at: &At,
) -> TypeDef {
    let derived = derives(attrs);
    TypeDef {
        name: name(ident),
        module: at.module.path.clone(),
        visibility: visibility(vis),
        generics: generics_span(generics, at),
        span: at.span(ident.span()),
        methods: Vec::new(),
        traits: Vec::new(),
        serde: derived.contains("Serialize") && derived.contains("Deserialize"),
    }
}

/// The last segments of the macros in `#[derive(…)]` attributes.
fn derives(attrs: &[syn::Attribute]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(last) = meta.path.segments.last() {
                out.insert(name(&last.ident));
            }
            Ok(())
        });
    }
    out
}

fn generics_span(generics: &syn::Generics, at: &At) -> Option<Span> {
    generics.params.first().map(|p| at.span(spanned(p)))
}

fn trait_def(
    item: &syn::ItemTrait,
    at: &At,
    is_item: &dyn Fn(&[String], &str) -> bool,
) -> TraitDef {
    let methods = item
        .items
        .iter()
        .filter_map(|i| match i {
            syn::TraitItem::Fn(f) if !varies(&f.attrs) => {
                Some(lower_method(&f.sig, &item.vis, &f.attrs, at, None, is_item))
            }
            _ => None,
        })
        .collect();
    TraitDef {
        name: name(&item.ident),
        module: at.module.path.clone(),
        visibility: visibility(&item.vis),
        generics: generics_span(&item.generics, at),
        span: at.span(item.ident.span()),
        methods,
    }
}

/// Adds an `impl` block's methods (inherent) or trait (trait impl) to its self type.
fn add_impl(
    model: &mut CrateModel,
    block: &syn::ItemImpl,
    at: &At,
    is_item: &dyn Fn(&[String], &str) -> bool,
) {
    let syn::Type::Path(self_ty) = &*block.self_ty else {
        return;
    };
    let names = super::types::path_names(&self_ty.path);
    let absolute = at.module.scope.resolve(&names, is_item).unwrap_or(names);
    let Some(type_index) = model.types.iter().position(|t| t.segments() == absolute) else {
        return;
    };
    if let Some((trait_path, _)) = &block.trait_ {
        let written = super::types::path_names(trait_path);
        let resolved = at
            .module
            .scope
            .resolve(&written, is_item)
            .unwrap_or(written);
        let span = at.span(
            trait_path
                .segments
                .last()
                .map_or_else(proc_macro2::Span::call_site, |s| s.ident.span()),
        );
        for function in block.items.iter().filter_map(|i| match i {
            syn::ImplItem::Fn(function) => Some(function),
            _ => None,
        }) {
            if nonblocking(&function.attrs, at, is_item).is_some() {
                model.impl_marks.push(ImplMark {
                    trait_name: resolved.last().cloned().unwrap_or_default(),
                    method: lower_method(
                        &function.sig,
                        &function.vis,
                        &function.attrs,
                        at,
                        None,
                        is_item,
                    ),
                });
            }
        }
        let ty = &mut model.types[type_index];
        if resolved
            .last()
            .is_some_and(|n| n == "Serialize" || n == "Deserialize")
        {
            // A hand-written serde impl: count it as derived once both are there.
            let other = if resolved.last().is_some_and(|n| n == "Serialize") {
                "Deserialize"
            } else {
                "Serialize"
            };
            if ty
                .traits
                .iter()
                .any(|(t, _)| t.last().is_some_and(|n| n == other))
            {
                ty.serde = true;
            }
        }
        ty.traits.push((resolved, span));
        return;
    }
    let self_path: syn::Type = {
        let mut ty = syn::Type::Path(self_ty.clone());
        at.module.scope.qualify_type(&mut ty, is_item);
        strip_generics(ty)
    };
    for impl_item in &block.items {
        let syn::ImplItem::Fn(function) = impl_item else {
            continue;
        };
        if varies(&function.attrs) {
            continue;
        }
        let method = lower_method(
            &function.sig,
            &function.vis,
            &function.attrs,
            at,
            Some(&self_path),
            is_item,
        );
        model.types[type_index].methods.push(method);
    }
}

/// The `#[lp::nonblocking]` among `attrs`, if there is one, however the module names it
/// (`#[nonblocking]` after `use lp::nonblocking`, `use lp::*`, a rename): its path resolves to
/// `lp::nonblocking`, as rustc resolves it. An attribute of another crate by that name is not it.
fn nonblocking(
    attrs: &[syn::Attribute],
    at: &At,
    is_item: &dyn Fn(&[String], &str) -> bool,
) -> Option<NonblockingMark> {
    attrs.iter().find_map(|attr| {
        let path = attr.path();
        let written: Vec<String> = path.segments.iter().map(|s| name(&s.ident)).collect();
        let scope = &at.module.scope;
        let resolved = match path.leading_colon {
            Some(_) => written.clone(),
            None => scope
                .resolve(&written, is_item)
                .or_else(|| match &written[..] {
                    [one] if scope.globs_crate("lp") => Some(vec!["lp".into(), one.clone()]),
                    _ => None,
                })
                .unwrap_or_else(|| written.clone()),
        };
        let last = path.segments.last()?;
        (resolved == ["lp", "nonblocking"]).then(|| NonblockingMark {
            span: at.span(last.ident.span()),
            with_arguments: !matches!(attr.meta, syn::Meta::Path(_)),
        })
    })
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

/// A method (with the impl's self type), a trait method, or a free function (`self_path` is
/// `None`).
fn lower_method(
    sig: &syn::Signature,
    vis: &syn::Visibility,
    attrs: &[syn::Attribute],
    at: &At,
    self_path: Option<&syn::Type>,
    is_item: &dyn Fn(&[String], &str) -> bool,
) -> Method {
    let name_span = at.span(sig.ident.span());
    let qualify = |ty: &syn::Type| qualified(ty, self_path, at, is_item);
    let mut receiver = Receiver::None;
    let mut receiver_span = name_span.clone();
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(r) => (receiver, receiver_span) = lower_receiver(r, at),
            syn::FnArg::Typed(typed) => params.push(lower_param(typed, qualify(&typed.ty), at)),
        }
    }
    let mut method = Method {
        name: name(&sig.ident),
        span: name_span.clone(),
        visibility: visibility(vis),
        is_async: sig.asyncness.is_some(),
        is_unsafe: matches!(sig.safety, syn::Safety::Unsafe(_)),
        nonblocking: nonblocking(attrs, at, is_item),
        receiver,
        receiver_span,
        params,
        output: RustType::Unit,
        output_tokens: quote::quote!(()),
        output_span: name_span,
        result_ok: None,
        output_wire: super::Wire::default(),
        // Lifetime parameters alone are inferred at the call: only types and consts count.
        generics: sig
            .generics
            .params
            .iter()
            .find(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
            .map(|p| at.span(spanned(p))),
    };
    if let syn::ReturnType::Type(_, ty) = &sig.output {
        let span = at.span(first_span(&**ty));
        set_output(&mut method, &qualify(ty), span);
    }
    method
}

/// A signature's type, `Self` replaced by the impl's self type (if any) and every path made
/// absolute.
fn qualified(
    ty: &syn::Type,
    self_path: Option<&syn::Type>,
    at: &At,
    is_item: &dyn Fn(&[String], &str) -> bool,
) -> syn::Type {
    let mut ty = ty.clone();
    if let Some(self_path) = self_path {
        ReplaceSelf(self_path).visit(&mut ty);
    }
    at.module.scope.qualify_type(&mut ty, is_item);
    ty
}

/// How a method takes `self`, and the span of `self` (from its `&`).
fn lower_receiver(receiver: &syn::Receiver, at: &At) -> (Receiver, Span) {
    let kind = match &receiver.kind {
        syn::ReceiverKind::Reference(_, _, Some(_)) => Receiver::RefMut,
        syn::ReceiverKind::Reference(_, _, None) => Receiver::Ref,
        _ => Receiver::Value,
    };
    let mut span = at.span(receiver.self_token.span);
    if let syn::ReceiverKind::Reference(and, _, _) = &receiver.kind {
        span.range.start = at.span(and.span).range.start;
    }
    (kind, span)
}

/// A typed parameter, its type `ty` already qualified.
fn lower_param(typed: &syn::PatType, ty: syn::Type, at: &At) -> Param {
    let (param_name, is_pattern, span) = match &*typed.pat {
        syn::Pat::Ident(p) if p.subpat.is_none() => {
            (name(&p.ident), false, at.span(p.ident.span()))
        }
        other => (
            other.to_token_stream().to_string(),
            true,
            at.span(first_span(other)),
        ),
    };
    Param {
        name: param_name,
        is_pattern,
        span,
        ty: classify(&ty),
        ty_span: at.span(first_span(&*typed.ty)),
        tokens: rooted(&ty).to_token_stream(),
        wire: wire(&ty),
    }
}

/// Sets what a method returns from its (qualified) return type `ty`, written at `span`.
fn set_output(method: &mut Method, ty: &syn::Type, span: Span) {
    let ok = super::types::result_ok_type(ty);
    method.output_wire = wire(ok.unwrap_or(ty));
    method.output = classify(ty);
    let rooted = rooted(ty);
    method.output_tokens = rooted.to_token_stream();
    method.result_ok = result_ok(&rooted);
    method.output_span = span;
}

/// A span covering the node's tokens (start of the first to end of the last).
pub(super) fn first_span(node: &dyn ToTokens) -> proc_macro2::Span {
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
