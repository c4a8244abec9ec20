//! What go-to-definition and hover know about a document: its syntax tree (recovered past
//! errors, as the compiler parses it) and the model of its package's crate, built by the
//! compiler's own loader. Built per request: both are fast, and never stale.

use lpc_build::diag::{Diagnostics, FileId, SourceMap, Span};
use lpc_build::driver;
use lpc_build::rust::{self, CrateModel, FunctionDef, TypeDef};
use lpc_build::syntax::{self, ast};
use std::path::{Path, PathBuf};

/// A document, parsed, with its package's crate.
pub struct Analysis {
    /// File 0 is the document; the crate's `.rs` files follow.
    pub sources: SourceMap,
    pub file: ast::File,
    /// `None` when the document is not in a package with a crate root.
    pub model: Option<CrateModel>,
}

/// The document `FileId` in [`Analysis::sources`].
pub const DOCUMENT: FileId = FileId(0);

impl Analysis {
    /// Parses `text` (the document at `path`) and loads its package's crate.
    pub fn new(path: &Path, text: &str) -> Analysis {
        let mut sources = SourceMap::default();
        let mut diagnostics = Diagnostics::default();
        let id = sources.add(path.display().to_string(), text);
        let file = syntax::parse(id, text, &mut diagnostics);
        let model = driver::find_package(path)
            .ok()
            .and_then(|package| rust::crate_root(&package))
            .map(|root| {
                rust::load_crate(&root, &mut sources, &mut diagnostics, &mut |p| {
                    std::fs::read_to_string(p)
                })
            });
        Analysis {
            sources,
            file,
            model,
        }
    }

    /// The file a span points into, and its text.
    pub fn file_of(&self, span: &Span) -> (PathBuf, &str) {
        let file = self.sources.get(span.file);
        (PathBuf::from(&file.name), file.text.as_str())
    }

    /// The imports of the document: bound name → path segments (`crate`, `nodes`, `Producer`).
    fn import(&self, name: &str) -> Option<Vec<String>> {
        self.file.items.iter().find_map(|item| match item {
            ast::Item::Use(u) => u.imports.iter().find(|i| i.name.name == name).map(|i| {
                i.path
                    .segments
                    .iter()
                    .map(|s| s.name.clone())
                    .collect::<Vec<_>>()
            }),
            ast::Item::Program(_) => None,
        })
    }

    /// The full path (from `crate`) of a path as written in the document: `Producer` through
    /// its `use`, or `crate::nodes::Producer` as it is.
    pub fn full_path(&self, written: &[String]) -> Option<Vec<String>> {
        let (first, rest) = written.split_first()?;
        if first == "crate" {
            return Some(written.to_vec());
        }
        let mut path = self.import(first)?;
        path.extend(rest.iter().cloned());
        Some(path)
    }

    /// The full path of a `use` item's path up to segment `segment` (what that segment names).
    pub fn import_path(
        &self,
        import: &lpc_build::syntax::ast::Import,
        segment: usize,
    ) -> Option<Vec<String>> {
        let written: Vec<String> = import
            .path
            .segments
            .get(..=segment)?
            .iter()
            .map(|s| s.name.clone())
            .collect();
        self.full_path(&written)
    }

    /// The type at a full path (`crate::nodes::Producer`).
    pub fn type_at(&self, full: &[String]) -> Option<&TypeDef> {
        let (name, module) = full.get(1..)?.split_last()?;
        self.model.as_ref()?.type_at(module, name)
    }

    /// The free function at a full path (`crate::nodes::setup`).
    pub fn function_at(&self, full: &[String]) -> Option<&FunctionDef> {
        let (name, module) = full.get(1..)?.split_last()?;
        self.model.as_ref()?.function_at(module, name)
    }
}
