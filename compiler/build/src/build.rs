//! The build-script API, like `tonic-build`: check the package's `.lp` programs and generate
//! `$OUT_DIR/lp_generated.rs`, which `lp::include_generated!()` includes.
//!
//! Cargo reruns the script when a `.lp` file or a Rust file it read changes, and when the set of
//! `.lp` files changes: one added, removed or renamed anywhere in the package, except that a
//! file *added* to a directory that also holds `target/` or a hidden directory (the root of a
//! package that is its own workspace) goes unnoticed until something else changes — the script
//! warns about `.lp` files kept there ([`crate::driver::Scan`] says why).
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), lpc_build::BuildError> {
//!     lpc_build::Build::new().compile()
//! }
//! ```

use crate::codegen::{InvalidRuntimePath, Runtime};
use crate::diag::render;
use crate::driver;
use std::path::{Path, PathBuf};

/// Configures code generation for a package's build script.
#[derive(Debug, Default)]
pub struct Build {
    programs: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    package_dir: Option<PathBuf>,
    runtime_path: Option<String>,
}

/// Why a build script failed. Its `Debug` is its message, so `main() -> Result<(), BuildError>`
/// prints something readable.
#[derive(thiserror::Error)]
pub enum BuildError {
    /// An environment variable cargo sets for build scripts is missing.
    #[error("`{name}` is not set: run this from a build script, or set it with `Build::{setter}`")]
    NotInBuildScript {
        /// The variable (`OUT_DIR`, `CARGO_MANIFEST_DIR`).
        name: &'static str,
        /// The setter that replaces it.
        setter: &'static str,
    },
    /// The package has no `.lp` file and none was named.
    #[error("no `.lp` file found in `{dir}`: add one, or name it with `Build::program`")]
    NoPrograms {
        /// The package's directory.
        dir: PathBuf,
    },
    /// [`Build::runtime_path`] was not a path.
    #[error(transparent)]
    RuntimePath(#[from] InvalidRuntimePath),
    /// A file could not be read or written, or the package has no crate root.
    #[error(transparent)]
    Driver(#[from] driver::Error),
    /// The programs have errors; their diagnostics were printed to stderr.
    #[error("lpc found {errors} error(s) in the package's `.lp` programs (shown above); `lpc check FILE` shows them too")]
    Diagnostics {
        /// How many errors.
        errors: usize,
    },
}

impl std::fmt::Debug for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl Build {
    /// A build of every `.lp` file in the package (outside `target/` and hidden directories;
    /// the default), into `$OUT_DIR`.
    pub fn new() -> Self {
        Build::default()
    }

    /// Compiles this `.lp` file (relative to the package directory) instead of all of them;
    /// call once per file.
    pub fn program(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.programs.push(path.as_ref().to_path_buf());
        self
    }

    /// Where to write `lp_generated.rs`. Default: `$OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The package's directory. Default: `$CARGO_MANIFEST_DIR`.
    pub fn package_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.package_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The path generated code names the runtime crate by, for a package that renamed its
    /// dependency on it (`my_lp = { package = "lp", … }` in `Cargo.toml`: `"::my_lp"`), or
    /// reaches it through a re-export (`"crate::deps::lp"`). Default: `"::lp"`.
    pub fn runtime_path(&mut self, path: impl Into<String>) -> &mut Self {
        self.runtime_path = Some(path.into());
        self
    }

    /// Checks and generates. Diagnostics are printed to stderr (cargo shows them when the build
    /// fails; warnings also become `cargo:warning` lines).
    pub fn compile(&self) -> Result<(), BuildError> {
        let env_dir = |name: &'static str, setter: &'static str| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .ok_or(BuildError::NotInBuildScript { name, setter })
        };
        let package_dir = match &self.package_dir {
            Some(dir) => dir.clone(),
            None => env_dir("CARGO_MANIFEST_DIR", "package_dir")?,
        };
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => env_dir("OUT_DIR", "out_dir")?,
        };
        let runtime = match &self.runtime_path {
            Some(path) => Runtime::new(path)?,
            None => Runtime::default(),
        };
        let (lp_files, watch, blind) = if self.programs.is_empty() {
            let scan = driver::scan(&package_dir);
            (scan.lp_files, scan.watch, scan.blind)
        } else {
            let files: Vec<PathBuf> = self.programs.iter().map(|p| package_dir.join(p)).collect();
            // The set is fixed here; `src/` is watched for a module file that is still missing.
            let watch = files.iter().cloned().chain([package_dir.join("src")]);
            (files.clone(), watch.collect(), Vec::new())
        };
        if lp_files.is_empty() {
            return Err(BuildError::NoPrograms { dir: package_dir });
        }
        let checked = driver::build(&package_dir, &lp_files, &out_dir, &runtime)?;
        for path in watch.iter().chain(&checked.rust_files) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        for dir in &blind {
            println!("cargo:warning={}", blind_warning(&package_dir, dir));
        }
        let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
        if !diagnostics.is_empty() {
            eprint!("{}", render::human_string(&checked.sources, &diagnostics));
            for warning in diagnostics.iter().filter(|d| !d.is_error()) {
                println!(
                    "cargo:warning=[{}] {}",
                    warning.code.as_str(),
                    warning.message
                );
            }
        }
        if checked.package.is_none() {
            return Err(BuildError::Diagnostics {
                errors: checked.diagnostics.error_count(),
            });
        }
        Ok(())
    }
}

/// Why cargo will not notice a `.lp` file added to `blind.dir`, and what to do.
fn blind_warning(package_dir: &Path, blind: &driver::BlindDir) -> String {
    let dir = match blind.dir.strip_prefix(package_dir) {
        Ok(relative) if relative.as_os_str().is_empty() => "the package root".to_string(),
        Ok(relative) => format!("`{}/`", relative.display()),
        Err(_) => format!("`{}`", blind.dir.display()),
    };
    let because = blind
        .because
        .strip_prefix(&blind.dir)
        .unwrap_or(&blind.because);
    format!(
        "{dir} holds `.lp` files and `{because}/`, so cargo cannot rerun this build script when a `.lp` file is added there without rerunning it whenever `{because}/` changes; keep `.lp` files in `src/` or another subdirectory",
        because = because.display()
    )
}
