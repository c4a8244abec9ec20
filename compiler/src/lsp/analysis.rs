//! What requests know about a document: its syntax tree (recovered past errors, parsed once per
//! version) and the model of its package's crate (cached until a Rust file changes).

use super::crates::Crate;
use super::documents::{Document, DOCUMENT};
use lpc_build::diag::Span;
use lpc_build::rust::{CrateModel, FunctionDef, TypeDef};
use lpc_build::syntax::ast;
use std::path::PathBuf;
use std::rc::Rc;

/// A document, parsed, with its package's crate.
pub struct Analysis<'a> {
    /// The document's path; `None` for a buffer that is not a local file (`untitled:`).
    pub path: Option<PathBuf>,
    pub text: &'a str,
    pub file: &'a ast::File,
    /// `None` when the document is not in a package with a crate root.
    pub krate: Option<Rc<Crate>>,
}

impl<'a> Analysis<'a> {
    /// The analysis of `document` (at `path`) against `krate`.
    pub fn new(document: &'a Document, path: Option<PathBuf>, krate: Option<Rc<Crate>>) -> Self {
        Analysis {
            path,
            text: &document.text,
            file: &document.parsed().file,
            krate,
        }
    }

    /// The crate's model, if the document is in a package.
    pub fn model(&self) -> Option<&CrateModel> {
        self.krate.as_deref().map(|k| &k.model)
    }

    /// The file a span points into, and its text.
    pub fn file_of(&self, span: &Span) -> Option<(PathBuf, &str)> {
        if span.file == DOCUMENT {
            return Some((self.path.clone()?, self.text));
        }
        let file = self.krate.as_deref()?.sources.get(span.file);
        Some((PathBuf::from(&file.name), file.text.as_str()))
    }

    /// The imports of the document: bound name → path segments (`crate`, `nodes`, `Producer`).
    fn import(&self, name: &str) -> Option<Vec<String>> {
        self.file.items.iter().find_map(|item| match item {
            ast::Item::Use(u) => u
                .imports
                .iter()
                .find(|i| i.name.name == name)
                .map(|i| names(&i.path.segments)),
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
    pub fn import_path(&self, import: &ast::Import, segment: usize) -> Option<Vec<String>> {
        let written = names(import.path.segments.get(..=segment)?);
        self.full_path(&written)
    }

    /// The type at a full path (`crate::nodes::Producer`).
    pub fn type_at(&self, full: &[String]) -> Option<&TypeDef> {
        let (name, module) = full.get(1..)?.split_last()?;
        self.model()?.type_at(module, name)
    }

    /// The free function at a full path (`crate::nodes::setup`).
    pub fn function_at(&self, full: &[String]) -> Option<&FunctionDef> {
        let (name, module) = full.get(1..)?.split_last()?;
        self.model()?.function_at(module, name)
    }

    /// The type a path written in the document names (`Producer`, `crate::nodes::Producer`).
    pub fn written_type(&self, written: &[String]) -> Option<&TypeDef> {
        self.type_at(&self.full_path(written)?)
    }

    /// The Rust constructor or function a node's target names, and how it reads
    /// (`Producer::new`, `crate::nodes::setup`).
    pub fn callee(
        &self,
        kind: ast::NodeKind,
        written: &[String],
    ) -> Option<&lpc_build::rust::Method> {
        if kind == ast::NodeKind::Fn {
            return Some(&self.function_at(&self.full_path(written)?)?.method);
        }
        let (ctor, type_path) = written.split_last()?;
        self.written_type(type_path)?.method(ctor)
    }

    /// The program `offset` is in: the last one starting before it (a program left open runs
    /// to the next).
    pub fn program_at(&self, offset: usize) -> Option<&'a ast::Program> {
        self.file.items.iter().rev().find_map(|item| match item {
            ast::Item::Program(p) if p.span.range.start <= offset => Some(p),
            _ => None,
        })
    }
}

/// The names of path segments.
pub fn names(segments: &[ast::Ident]) -> Vec<String> {
    segments.iter().map(|s| s.name.clone()).collect()
}
