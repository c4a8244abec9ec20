//! Resolving the names a module's items use into paths from the crate root, as rustc would for
//! the common cases: `use` declarations (with renames and globs), items of the module itself,
//! `self::`/`super::`/`crate::` prefixes. Names that are none of these (the prelude, primitives,
//! external crates) are left as written.

use super::collect::name;
use std::collections::{BTreeMap, BTreeSet};
use syn::visit_mut::VisitMut;

/// The names visible in one module.
#[derive(Debug, Default)]
pub(super) struct Scope {
    module: Vec<String>,
    /// `use a::b::C as D;` → `D` ↦ `[a, b, C]` (already made absolute)
    uses: BTreeMap<String, Vec<String>>,
    /// `use a::b::*;` → `[a, b]`
    globs: Vec<Vec<String>>,
    /// Names of the items defined in the module.
    locals: BTreeSet<String>,
}

impl Scope {
    /// The scope of the module at `module` whose items are `items`.
    pub fn of(module: &[String], items: &[syn::Item]) -> Scope {
        let mut scope = Scope {
            module: module.to_vec(),
            ..Scope::default()
        };
        for item in items {
            match item {
                syn::Item::Use(u) => scope.add_use(&mut Vec::new(), &u.tree),
                other => {
                    if let Some(name) = item_name(other) {
                        scope.locals.insert(name);
                    }
                }
            }
        }
        scope
    }

    fn add_use(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(name(&p.ident));
                self.add_use(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = name(&n.ident);
                if name == "self" {
                    if let Some(last) = prefix.last().cloned() {
                        let path = self.absolute(prefix);
                        self.uses.insert(last, path);
                    }
                } else {
                    prefix.push(name.clone());
                    let path = self.absolute(prefix);
                    prefix.pop();
                    self.uses.insert(name, path);
                }
            }
            syn::UseTree::Rename(r) => {
                prefix.push(name(&r.ident));
                let path = self.absolute(prefix);
                prefix.pop();
                self.uses.insert(name(&r.rename), path);
            }
            syn::UseTree::Glob(_) => {
                let path = self.absolute(prefix);
                self.globs.push(path);
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.add_use(prefix, tree);
                }
            }
        }
    }

    /// Makes a `use` path absolute: `crate::…` stays, `self::`/`super::` are resolved against
    /// this module; anything else is an external crate path (edition 2018+ rules).
    fn absolute(&self, path: &[String]) -> Vec<String> {
        match path.first().map(String::as_str) {
            Some("self") | Some("super") => self.relative(path),
            _ => path.to_vec(),
        }
    }

    fn relative(&self, path: &[String]) -> Vec<String> {
        let mut base = self.module.clone();
        let mut rest = path;
        while let Some(first) = rest.first() {
            match first.as_str() {
                "self" => {}
                "super" => {
                    base.pop();
                }
                _ => break,
            }
            rest = &rest[1..];
        }
        let mut out = vec!["crate".to_string()];
        out.extend(base);
        out.extend(rest.iter().cloned());
        out
    }

    /// Whether the module imports every public name of the external crate `krate`
    /// (`use krate::*;`).
    pub fn globs_crate(&self, krate: &str) -> bool {
        self.globs.iter().any(|glob| glob[..] == [krate])
    }

    /// The names the module imports by name (not through a glob).
    pub fn imported(&self) -> BTreeSet<String> {
        self.uses
            .keys()
            .filter(|n| n.as_str() != "_")
            .cloned()
            .collect()
    }

    /// Resolves a path used in this module; `None` when it is not the crate's (prelude,
    /// primitive, external crate) and should be kept as written. `is_item` says whether a
    /// module path holds an item of that name (for glob imports).
    pub fn resolve(
        &self,
        path: &[String],
        is_item: &dyn Fn(&[String], &str) -> bool,
    ) -> Option<Vec<String>> {
        let first = path.first()?;
        match first.as_str() {
            "crate" => Some(path.to_vec()),
            "self" | "super" => Some(self.relative(path)),
            _ => {
                if let Some(target) = self.uses.get(first) {
                    let mut out = target.clone();
                    out.extend(path[1..].iter().cloned());
                    Some(out)
                } else if self.locals.contains(first) {
                    let mut out = vec!["crate".to_string()];
                    out.extend(self.module.iter().cloned());
                    out.extend(path.iter().cloned());
                    Some(out)
                } else {
                    self.globs.iter().find_map(|glob| {
                        let module = glob.strip_prefix(&["crate".to_string()])?;
                        is_item(module, first).then(|| {
                            let mut out = glob.clone();
                            out.extend(path.iter().cloned());
                            out
                        })
                    })
                }
            }
        }
    }

    /// Rewrites every path in `ty` to its absolute form, so the type can be named from the
    /// crate root (where generated code lives).
    pub fn qualify_type(&self, ty: &mut syn::Type, is_item: &dyn Fn(&[String], &str) -> bool) {
        Qualify {
            scope: self,
            is_item,
        }
        .visit_type_mut(ty);
    }
}

/// `ty`, qualified, with every path into another crate made absolute (`std::path::PathBuf` →
/// `::std::path::PathBuf`): the tokens generated code names it by, which then resolve in any
/// module (one that has an item named like the crate, or no extern prelude).
pub(super) fn rooted(ty: &syn::Type) -> syn::Type {
    let mut ty = ty.clone();
    Root.visit_type_mut(&mut ty);
    ty
}

/// Roots the paths of a qualified type that lead into other crates: those of two segments or
/// more that start with neither `crate`, `self`, `super` nor `Self`.
struct Root;

impl Root {
    fn root(path: &mut syn::Path) {
        let first = path.segments.first().map(|s| name(&s.ident));
        let external = path.segments.len() > 1
            && !matches!(
                first.as_deref(),
                Some("crate" | "self" | "super" | "Self") | None
            );
        if external {
            path.leading_colon = Some(Default::default());
        }
    }
}

impl VisitMut for Root {
    fn visit_type_path_mut(&mut self, ty: &mut syn::TypePath) {
        syn::visit_mut::visit_type_path_mut(self, ty);
        if ty.qself.is_none() {
            Root::root(&mut ty.path);
        }
    }

    /// The traits of `dyn Trait` and `impl Trait`.
    fn visit_trait_bound_mut(&mut self, bound: &mut syn::TraitBound) {
        syn::visit_mut::visit_trait_bound_mut(self, bound);
        Root::root(&mut bound.path);
    }
}

struct Qualify<'a> {
    scope: &'a Scope,
    is_item: &'a dyn Fn(&[String], &str) -> bool,
}

impl VisitMut for Qualify<'_> {
    fn visit_type_path_mut(&mut self, ty: &mut syn::TypePath) {
        syn::visit_mut::visit_type_path_mut(self, ty);
        if ty.qself.is_none() {
            self.qualify(&mut ty.path);
        }
    }

    /// The traits of `dyn Trait` and `impl Trait`.
    fn visit_trait_bound_mut(&mut self, bound: &mut syn::TraitBound) {
        syn::visit_mut::visit_trait_bound_mut(self, bound);
        self.qualify(&mut bound.path);
    }
}

impl Qualify<'_> {
    /// Rewrites a path to its absolute form, when it is the crate's.
    fn qualify(&self, path: &mut syn::Path) {
        if path.leading_colon.is_some() {
            return;
        }
        let ty = path;
        let names = super::types::path_names(ty);
        let Some(absolute) = self.scope.resolve(&names, self.is_item) else {
            return;
        };
        let last = ty.segments.last().cloned();
        let mut segments: syn::punctuated::Punctuated<syn::PathSegment, syn::Token![::]> = absolute
            [..absolute.len().saturating_sub(1)]
            .iter()
            .map(|s| syn::PathSegment::from(super::types::ident(s)))
            .collect();
        if let Some(mut last) = last {
            if let Some(name) = absolute.last() {
                let span = last.ident.span();
                last.ident = super::types::ident(name);
                last.ident.set_span(span);
            }
            segments.push(last);
        }
        ty.segments = segments;
    }
}

/// The name an item defines in its module's namespace, if any.
pub(super) fn item_name(item: &syn::Item) -> Option<String> {
    Some(name(match item {
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::TraitAlias(i) => &i.ident,
        syn::Item::Mod(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Const(i) => &i.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |(_, r)| r),
        _ => return None,
    }))
}
