//! Reading the user's crate: the crate root, then every module it declares (`mod x;` →
//! `x.rs` or `x/mod.rs`, inline `mod x { … }`), parsed with syn.

use super::collect::collect;
use super::resolve::Scope;
use super::span::SynSpans as _;
use super::CrateModel;
use crate::diag::LineIndex;
use crate::diag::{Code, Diagnostic, Diagnostics, FileId, SourceMap, Span};
use std::path::{Path, PathBuf};

/// One module of the user's crate, with the items written in it.
pub(super) struct Module {
    /// Path from the crate root (`[]` for the root).
    pub path: Vec<String>,
    pub file: FileId,
    pub items: Vec<syn::Item>,
    pub scope: Scope,
}

/// Reads `root` (e.g. `src/lib.rs`) and every module it declares, adds each file to `sources`,
/// and returns the model of the crate. Problems (unreadable or unparsable files, missing modules)
/// become diagnostics; what could be read is still modelled.
pub fn load_crate(
    root: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
    read: &mut dyn FnMut(&Path) -> std::io::Result<String>,
) -> CrateModel {
    let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut loader = Loader {
        sources,
        diags,
        read,
        modules: Vec::new(),
        package_dir: dir.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    if let Some((file, items)) = loader.parse_file(root, None) {
        loader.add_module(Vec::new(), file, items, &dir);
    }
    let mut model = collect(&loader.modules, loader.sources);
    let manifest = std::fs::read_to_string(loader.package_dir.join("Cargo.toml"));
    model.dependencies = super::manifest::dependencies(&manifest.unwrap_or_default());
    model
}

struct Loader<'a> {
    sources: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
    read: &'a mut dyn FnMut(&Path) -> std::io::Result<String>,
    modules: Vec<Module>,
    /// The package directory, to show module paths relative to it.
    package_dir: PathBuf,
}

impl Loader<'_> {
    /// Reads and parses one file; `declared_at` is the `mod x;` that asked for it.
    fn parse_file(
        &mut self,
        path: &Path,
        declared_at: Option<&Span>,
    ) -> Option<(FileId, Vec<syn::Item>)> {
        let text = match (self.read)(path) {
            Ok(text) => text,
            Err(error) => {
                let mut diagnostic = Diagnostic::new(
                    Code::MissingModule,
                    format!("cannot read `{}`: {error}", path.display()),
                );
                if let Some(span) = declared_at {
                    diagnostic = diagnostic.primary(span.clone(), "module declared here");
                }
                self.diags.push(diagnostic);
                return None;
            }
        };
        let file = self.sources.add(path.display().to_string(), text);
        let text = self.sources.get(file).text.as_str();
        match syn::parse_file(text) {
            Ok(parsed) => Some((file, parsed.items)),
            Err(error) => {
                let span = LineIndex::new(text).span(file, error.span());
                self.diags.push(
                    Diagnostic::new(
                        Code::RustSyntax,
                        format!("this Rust file does not parse: {error}"),
                    )
                    .primary(span, error.to_string())
                    .help("fix the Rust syntax error first (`cargo check` shows it too)"),
                );
                None
            }
        }
    }

    /// A path relative to the package directory, for messages.
    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.package_dir)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Records a module and, depth first, the modules it declares. `dir` is where its child
    /// modules' files live.
    fn add_module(&mut self, path: Vec<String>, file: FileId, items: Vec<syn::Item>, dir: &Path) {
        let scope = Scope::of(&path, &items);
        let mut children = Vec::new();
        for item in &items {
            let syn::Item::Mod(module) = item else {
                continue;
            };
            // A module of some builds only (`#[cfg(test)] mod tests;`): not read.
            if super::collect::varies(&module.attrs) {
                continue;
            }
            let name = super::collect::name(&module.ident);
            let mut child_path = path.clone();
            child_path.push(name.clone());
            let child_dir = dir.join(&name);
            match &module.content {
                Some((_, inline)) => children.push((child_path, file, inline.clone(), child_dir)),
                None => {
                    let span = LineIndex::new(&self.sources.get(file).text)
                        .span(file, module.ident.span());
                    let candidates = [dir.join(format!("{name}.rs")), child_dir.join("mod.rs")];
                    let Some(found) = candidates.iter().find(|p| p.is_file()).cloned() else {
                        self.diags.push(
                            Diagnostic::new(
                                Code::MissingModule,
                                format!("module file for `{name}` not found"),
                            )
                            .primary(span, "declared here")
                            .help(format!(
                                "create `{}` or `{}`",
                                self.relative(&candidates[0]),
                                self.relative(&candidates[1])
                            )),
                        );
                        continue;
                    };
                    if let Some((child_file, child_items)) = self.parse_file(&found, Some(&span)) {
                        children.push((child_path, child_file, child_items, child_dir));
                    }
                }
            }
        }
        self.modules.push(Module {
            path,
            file,
            items,
            scope,
        });
        for (child_path, child_file, child_items, child_dir) in children {
            self.add_module(child_path, child_file, child_items, &child_dir);
        }
    }
}

/// The crate root of the package in `package_dir`: `src/lib.rs`, else `src/main.rs`.
pub fn crate_root(package_dir: &Path) -> Option<PathBuf> {
    ["src/lib.rs", "src/main.rs"]
        .iter()
        .map(|p| package_dir.join(p))
        .find(|p| p.is_file())
}
