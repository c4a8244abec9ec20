//! The Rust side of each package, loaded once and reused by every check and request until one
//! of its files changes: a `.rs` file it read, `Cargo.toml`, or a directory under `src/` (a
//! module file added or removed). Freshness is a `stat` of those paths, compared with what they
//! were at loading time.

use lpc_build::diag::{Diagnostic, Diagnostics, SourceMap};
use lpc_build::driver;
use lpc_build::rust::{self, CrateModel};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

/// A package's crate as the checker sees it.
#[derive(Debug)]
pub struct Crate {
    /// File 0 is an empty stand-in for the document being checked; the crate's `.rs` files
    /// follow, as the model's spans number them.
    pub sources: SourceMap,
    pub model: CrateModel,
    /// What loading the crate reported (unreadable or unparsable files, missing modules).
    pub diagnostics: Vec<Diagnostic>,
    /// Every path the model depends on, with its modification time and length then.
    stamps: Vec<(PathBuf, Stamp)>,
}

/// What a path looked like: `None` when it did not exist.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl Crate {
    /// Loads the crate of the package in `dir`.
    fn load(dir: &Path) -> Result<Crate, driver::Error> {
        let root = rust::crate_root(dir).ok_or_else(|| driver::Error::NoCrateRoot {
            dir: dir.to_path_buf(),
        })?;
        let mut sources = SourceMap::default();
        sources.add(String::new(), String::new());
        let mut diagnostics = Diagnostics::default();
        let mut read = Vec::new();
        let model = rust::load_crate(&root, &mut sources, &mut diagnostics, &mut |path| {
            read.push(path.to_path_buf());
            std::fs::read_to_string(path)
        });
        read.push(dir.join("Cargo.toml"));
        directories(&dir.join("src"), &mut read);
        let stamps = read.into_iter().map(|p| (p.clone(), stamp(&p))).collect();
        Ok(Crate {
            sources,
            model,
            diagnostics: diagnostics.iter().cloned().collect(),
            stamps,
        })
    }

    /// Whether a path the model depends on changed since it was loaded.
    fn is_stale(&self) -> bool {
        self.stamps.iter().any(|(path, then)| stamp(path) != *then)
    }
}

/// `dir` and every directory below it (not hidden ones, not `target/`), into `out`.
fn directories(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type().is_ok_and(|t| t.is_dir()) && !name.starts_with('.') && name != "target"
        {
            directories(&entry.path(), out);
        }
    }
}

/// The loaded crates, by package directory.
#[derive(Debug, Default)]
pub struct Crates {
    loaded: HashMap<PathBuf, Rc<Crate>>,
}

impl Crates {
    /// The crate of the package holding the `.lp` file at `path`: the cached one when none of
    /// its files changed, else loaded again.
    pub fn for_document(&mut self, path: &Path) -> Result<Rc<Crate>, driver::Error> {
        let dir = driver::find_package(path)?;
        if let Some(loaded) = self.loaded.get(&dir) {
            if !loaded.is_stale() {
                return Ok(Rc::clone(loaded));
            }
        }
        let loaded = Rc::new(Crate::load(&dir)?);
        self.loaded.insert(dir, Rc::clone(&loaded));
        Ok(loaded)
    }

    /// Forgets every crate (the client says files changed).
    pub fn forget_all(&mut self) {
        self.loaded.clear();
    }

    /// Forgets the crates whose files changed; returns their package directories.
    pub fn forget_stale(&mut self) -> Vec<PathBuf> {
        let stale: Vec<PathBuf> = self
            .loaded
            .iter()
            .filter(|(_, c)| c.is_stale())
            .map(|(dir, _)| dir.clone())
            .collect();
        for dir in &stale {
            self.loaded.remove(dir);
        }
        stale
    }
}
