//! Finding every `lp::Handle<T>` written in the crate — in fields, signatures and bodies — so
//! that every `T` gets a client, whichever programs the package has.

use super::load::Module;
use super::span::SynSpans as _;
use super::types::{handle_target, path_names, type_args};
use super::HandleUse;
use crate::diag::{LineIndex, SourceMap};
use syn::visit::Visit;

/// Every `Handle<T>` of every module, with `T` resolved from the crate root.
pub(super) fn find(
    modules: &[Module],
    sources: &SourceMap,
    is_item: &dyn Fn(&[String], &str) -> bool,
) -> Vec<HandleUse> {
    let mut found = Vec::new();
    for module in modules {
        let mut finder = Finder {
            module,
            index: LineIndex::new(&sources.get(module.file).text),
            is_item,
            found: &mut found,
        };
        for item in &module.items {
            // Inline modules are modules of their own, visited with their own scope; items of
            // some builds only are not seen (as in `collect`).
            if !matches!(item, syn::Item::Mod(_))
                && !super::collect::varies(super::collect::item_attrs(item))
            {
                finder.visit_item(item);
            }
        }
    }
    found
}

struct Finder<'a> {
    module: &'a Module,
    index: LineIndex<'a>,
    is_item: &'a dyn Fn(&[String], &str) -> bool,
    found: &'a mut Vec<HandleUse>,
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_type_path(&mut self, ty: &'ast syn::TypePath) {
        syn::visit::visit_type_path(self, ty);
        if ty.qself.is_some() {
            return;
        }
        let Some(last) = ty.path.segments.last() else {
            return;
        };
        if last.ident != "Handle" {
            return;
        }
        // The crate's own type named `Handle` is not the runtime's.
        let written = path_names(&ty.path);
        let resolved = self.module.scope.resolve(&written, self.is_item);
        if resolved.is_some_and(|p| p.first().is_some_and(|f| f == "crate")) {
            return;
        }
        let [inner] = type_args(&last.arguments)[..] else {
            return;
        };
        let mut qualified = inner.clone();
        self.module.scope.qualify_type(&mut qualified, self.is_item);
        if let Some(target) = handle_target(&qualified) {
            let span = self
                .index
                .span(self.module.file, super::collect::first_span(inner));
            self.found.push(HandleUse { target, span });
        }
    }

    fn visit_item_mod(&mut self, _: &'ast syn::ItemMod) {
        // Inline modules nested in bodies are rare; their items are visited as modules of
        // their own when declared at module level.
    }
}
