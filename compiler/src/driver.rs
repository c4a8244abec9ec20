//! The pipeline, one straight function: read → parse → load the Rust crate → check →
//! generate. Each stage reports all of its problems; generation runs only on a clean check.

use crate::check::{self, model};
use crate::codegen;
use crate::diag::{Diagnostics, SourceMap};
use crate::rust::{self, CrateModel};
use crate::syntax;
use std::path::{Path, PathBuf};
use std::string::FromUtf8Error;

/// A problem that is not about the program's text: a file that cannot be read, no package.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` is not inside a Cargo package (no `Cargo.toml` with a `[package]` above it); run `lpc new NAME` to make one")]
    NoPackage { path: PathBuf },
    #[error("package `{dir}` has no crate root: create `src/lib.rs` (the node types and `lp::include_generated!();` go there)")]
    NoCrateRoot { dir: PathBuf },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What checking a package produced: the files read, every diagnostic, and, when there was no
/// error, the checked package.
pub struct Checked {
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
    pub package: Option<model::Package>,
    /// The Rust files the check read (for `cargo:rerun-if-changed`).
    pub rust_files: Vec<PathBuf>,
}

impl Checked {
    /// The generated Rust for the checked package, if the check passed.
    pub fn generate(&self, lp_files: &[PathBuf]) -> Option<String> {
        let names: Vec<String> = lp_files
            .iter()
            .map(|p| {
                p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )
            })
            .collect();
        self.package
            .as_ref()
            .map(|package| codegen::generate(package, &names))
    }
}

/// The Cargo package that contains `file`: the nearest directory above it with a `Cargo.toml`
/// that has a `[package]` section.
pub fn find_package(file: &Path) -> Result<PathBuf, Error> {
    let absolute = std::path::absolute(file).map_err(|source| Error::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let mut dir = absolute.parent();
    while let Some(d) = dir {
        let manifest = d.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            if text.lines().any(|l| l.trim() == "[package]") {
                return Ok(d.to_path_buf());
            }
        }
        dir = d.parent();
    }
    Err(Error::NoPackage {
        path: file.to_path_buf(),
    })
}

/// Every `.lp` file of a package (outside `target/` and hidden directories), sorted.
pub fn lp_files(package_dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "lp") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(package_dir, &mut out);
    out.sort();
    out
}

/// A path as shown in diagnostics: relative to the current directory when it is below it.
fn display_path(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    std::env::current_dir()
        .ok()
        .and_then(|cwd| absolute.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(absolute)
        .display()
        .to_string()
}

/// Checks `lp_files` against the crate of the package in `package_dir`. A file that is not
/// UTF-8 is a diagnostic (E0004), not an [`Error`].
pub fn check_package(package_dir: &Path, lp_files: &[PathBuf]) -> Result<Checked, Error> {
    let mut texts = Vec::new();
    for path in lp_files {
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        texts.push((path.as_path(), String::from_utf8(bytes)));
    }
    check_texts(package_dir, texts)
}

/// Like [`check_package`], with the text of each `.lp` file given rather than read (an editor's
/// unsaved buffer); the `.lp` files come first in the [`SourceMap`], in this order.
pub fn check_sources(
    package_dir: &Path,
    lp_sources: &[(PathBuf, String)],
) -> Result<Checked, Error> {
    let texts = lp_sources
        .iter()
        .map(|(path, text)| (path.as_path(), Ok(text.clone())))
        .collect();
    check_texts(package_dir, texts)
}

/// The pipeline over the `.lp` files' contents: UTF-8 text, or the bytes of a file that is not.
fn check_texts(
    package_dir: &Path,
    texts: Vec<(&Path, Result<String, FromUtf8Error>)>,
) -> Result<Checked, Error> {
    let mut sources = SourceMap::default();
    let mut diagnostics = Diagnostics::default();

    let lp_count = texts.len();
    let mut files = Vec::new();
    for (path, text) in texts {
        match text {
            Ok(text) => {
                let id = sources.add(display_path(path), text);
                let file = syntax::parse(id, &sources.get(id).text, &mut diagnostics);
                files.push((id, file));
            }
            Err(not_utf8) => {
                let lossy = String::from_utf8_lossy(not_utf8.as_bytes()).into_owned();
                let id = sources.add(display_path(path), lossy);
                diagnostics.push(syntax::not_utf8(id, &not_utf8));
            }
        }
    }

    let root = rust::crate_root(package_dir).ok_or_else(|| Error::NoCrateRoot {
        dir: package_dir.to_path_buf(),
    })?;
    let mut rust_files = Vec::new();
    let model: CrateModel = rust::load_crate(&root, &mut sources, &mut diagnostics, &mut |path| {
        rust_files.push(path.to_path_buf());
        std::fs::read_to_string(path)
    });
    rename_rust_files(&mut sources, lp_count);

    // A crate that could not be read completely would make every type look missing: report
    // why it could not be read, and check against it only once it reads.
    let package = if diagnostics.iter().any(|d| d.code.is_rust_loading()) {
        None
    } else {
        let refs: Vec<_> = files.iter().map(|(id, file)| (*id, file)).collect();
        Some(check::check(&refs, &model, &sources, &mut diagnostics))
    };
    diagnostics.sort();
    // Warnings only for a package without errors: after an error they would be noise, or wrong
    // (a param used only in an item that failed to parse looks unused).
    if diagnostics.has_errors() {
        diagnostics.drop_warnings();
    }
    let package = package.filter(|_| !diagnostics.has_errors());
    Ok(Checked {
        sources,
        diagnostics,
        package,
        rust_files,
    })
}

/// Shows the Rust files (added after the `.lp` files) by their paths relative to the current
/// directory, like the `.lp` files.
fn rename_rust_files(sources: &mut SourceMap, skip: usize) {
    sources.rename_from(skip, |name| display_path(Path::new(name)));
}

/// Checks and generates for a build script: writes `out_dir/lp_generated.rs` (only when its
/// contents changed) and returns the check's outcome.
pub fn build(package_dir: &Path, lp_files: &[PathBuf], out_dir: &Path) -> Result<Checked, Error> {
    let checked = check_package(package_dir, lp_files)?;
    if let Some(code) = checked.generate(lp_files) {
        let path = out_dir.join("lp_generated.rs");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(code.as_str()) {
            std::fs::write(&path, code).map_err(|source| Error::Write { path, source })?;
        }
    }
    Ok(checked)
}
