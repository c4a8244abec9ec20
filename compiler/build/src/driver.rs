//! The pipeline, one straight function: read → parse → load the Rust crate → check →
//! generate. Each stage reports all of its problems; generation runs only on a clean check.

use crate::check::{self, model};
use crate::codegen::{self, Runtime};
use crate::diag::{Diagnostics, SourceMap};
use crate::rust::{self, CrateModel};
use crate::syntax;
use std::collections::BTreeSet;
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
    /// The generated Rust for the checked package, if the check passed, naming the runtime
    /// crate by `lp`.
    pub fn generate(&self, lp_files: &[PathBuf], lp: &Runtime) -> Option<String> {
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
            .map(|package| codegen::generate(package, &names, lp))
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
    scan(package_dir).lp_files
}

/// The `.lp` files of a package, and what cargo must watch to notice when that set changes.
///
/// Cargo reruns a build script when a `rerun-if-changed` path is newer than its last run; for a
/// directory that is the newest modification time of anything below it, the directory itself
/// included (its own time changes when an entry is added, removed or renamed). A directory
/// that holds `target/` (newer after every build) or a hidden directory (`.git/`, written by
/// every git command) cannot be watched that way without rerunning far too often, so such a
/// directory is watched through its parts instead: its `.lp` files one by one (a change, or a
/// removal or rename, which makes the watched path missing) and its other subdirectories. What
/// cargo then cannot see is a `.lp` file *added* directly to it, listed in [`Scan::blind`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Every `.lp` file, sorted.
    pub lp_files: Vec<PathBuf>,
    /// The paths for `cargo:rerun-if-changed`, sorted.
    pub watch: Vec<PathBuf>,
    /// Directories holding `.lp` files where cargo cannot notice a new one.
    pub blind: Vec<BlindDir>,
}

/// A directory holding `.lp` files that cargo cannot watch for new ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlindDir {
    /// The directory.
    pub dir: PathBuf,
    /// The skipped directory below it (`target/`, a hidden one) that makes watching it whole
    /// rerun the build script too often.
    pub because: PathBuf,
}

/// Whether the `.lp` search skips a directory of this name: `target/` (cargo's output) and
/// hidden directories (`.git/`, editors' state).
fn is_skipped_dir(name: &str) -> bool {
    name == "target" || name.starts_with('.')
}

/// Walks a package for its `.lp` files and what cargo must watch (see [`Scan`]).
pub fn scan(package_dir: &Path) -> Scan {
    let mut scan = Scan::default();
    let mut visited = BTreeSet::new();
    scan_dir(package_dir, &mut scan, &mut visited);
    scan.lp_files.sort();
    scan.watch.sort();
    scan.blind.sort_by(|a, b| a.dir.cmp(&b.dir));
    scan
}

/// Scans `dir` into `scan`; returns the first skipped directory below it, if any (`None`: the
/// whole directory can be watched). `visited` holds the directories already scanned, so a
/// symbolic link back up the tree is not followed around forever.
fn scan_dir(dir: &Path, scan: &mut Scan, visited: &mut BTreeSet<PathBuf>) -> Option<PathBuf> {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if !visited.insert(canonical) {
        return None;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return None;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    let watched = scan.watch.len();
    let mut lp_here = Vec::new();
    let mut skipped = None;
    for path in paths {
        if path.is_dir() {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let below = if is_skipped_dir(&name) {
                Some(path.clone())
            } else {
                scan_dir(&path, scan, visited)
            };
            skipped = skipped.or(below);
        } else if path.extension().is_some_and(|e| e == "lp") {
            lp_here.push(path);
        }
    }
    scan.lp_files.extend(lp_here.iter().cloned());
    if skipped.is_none() {
        // Everything below can be watched at once: the directory replaces its parts.
        scan.watch.truncate(watched);
        scan.watch.push(dir.to_path_buf());
    } else {
        if let Some(because) = &skipped {
            if !lp_here.is_empty() {
                scan.blind.push(BlindDir {
                    dir: dir.to_path_buf(),
                    because: because.clone(),
                });
            }
        }
        scan.watch.extend(lp_here);
    }
    skipped
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

    let refs: Vec<_> = files.iter().map(|(id, file)| (*id, file)).collect();
    let package = check_parsed(&refs, &model, &sources, &mut diagnostics);
    Ok(Checked {
        sources,
        diagnostics,
        package,
        rust_files,
    })
}

/// Checks parsed `files` against `model`, as `lpc check` does, into `diagnostics` (which already
/// hold the parser's and the crate loading's): not at all when the crate could not be read
/// completely (every type would look missing), then sorted, and without warnings when there
/// are errors (after an error they would be noise, or wrong: a param used only in an item that
/// failed to parse looks unused). The checked package, when there is no error.
pub fn check_parsed(
    files: &[(crate::diag::FileId, &syntax::ast::File)],
    model: &CrateModel,
    sources: &SourceMap,
    diagnostics: &mut Diagnostics,
) -> Option<model::Package> {
    let unread = diagnostics.iter().any(|d| d.code.is_rust_loading());
    let package = match unread {
        true => None,
        false => Some(check::check(files, model, sources, diagnostics)),
    };
    diagnostics.sort();
    if diagnostics.has_errors() {
        diagnostics.drop_warnings();
    }
    package.filter(|_| !diagnostics.has_errors())
}

/// Shows the Rust files (added after the `.lp` files) by their paths relative to the current
/// directory, like the `.lp` files.
fn rename_rust_files(sources: &mut SourceMap, skip: usize) {
    sources.rename_from(skip, |name| display_path(Path::new(name)));
}

/// Checks and generates for a build script: writes `out_dir/lp_generated.rs` (only when its
/// contents changed), naming the runtime crate by `lp`, and returns the check's outcome.
pub fn build(
    package_dir: &Path,
    lp_files: &[PathBuf],
    out_dir: &Path,
    lp: &Runtime,
) -> Result<Checked, Error> {
    let checked = check_package(package_dir, lp_files)?;
    if let Some(code) = checked.generate(lp_files, lp) {
        let path = out_dir.join("lp_generated.rs");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(code.as_str()) {
            std::fs::write(&path, code).map_err(|source| Error::Write { path, source })?;
        }
    }
    Ok(checked)
}
