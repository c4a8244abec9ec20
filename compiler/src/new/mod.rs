//! `lpc new NAME`: a ready package — a small courier + worker program that builds, runs and has
//! a test — to start from.
//!
//! The package depends on `lp` (the runtime) and, for its build script, on `lpc`. Nothing is
//! published to a registry yet, so by default ([`Deps::Workspace`]) these are path dependencies
//! on the `runtime/` and `compiler/` directories of the workspace this `lpc` was built from
//! (known at compile time); [`Deps::Version`] writes registry dependencies instead, for once
//! the crates are published.

use std::path::{Path, PathBuf};

/// How the new package depends on the `lp` and `lpc` crates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Deps {
    /// Path dependencies on `runtime/` and `compiler/` of the workspace `lpc` was built from.
    #[default]
    Workspace,
    /// Path dependencies on these directories (the `lp` crate's and the `lpc` crate's).
    Paths {
        /// The directory of the `lp` crate (`runtime/` in this workspace).
        lp: PathBuf,
        /// The directory of the `lpc` crate (`compiler/` in this workspace).
        lpc: PathBuf,
    },
    /// Registry dependencies of this version requirement (`"0.1"`), for both crates.
    Version(String),
}

impl Deps {
    /// The `runtime/` and `compiler/` directories of the workspace this `lpc` was built from.
    pub fn workspace_paths() -> (PathBuf, PathBuf) {
        let compiler = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = compiler.parent().unwrap_or(compiler);
        (root.join("runtime"), root.join("compiler"))
    }

    /// The TOML values of the `lp` and `lpc` dependency lines.
    fn toml(&self) -> Result<(String, String), NewError> {
        match self {
            Deps::Workspace => {
                let (lp, lpc) = Deps::workspace_paths();
                Deps::Paths { lp, lpc }.toml()
            }
            Deps::Paths { lp, lpc } => {
                let mut specs = Vec::new();
                for dir in [lp, lpc] {
                    if !dir.join("Cargo.toml").is_file() {
                        return Err(NewError::MissingCrate { dir: dir.clone() });
                    }
                    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
                    let text = absolute.to_str().ok_or_else(|| NewError::NonUtf8Path {
                        path: absolute.clone(),
                    })?;
                    specs.push(format!("{{ path = {} }}", toml_string(text)));
                }
                let lpc = specs.pop().unwrap_or_default();
                let lp = specs.pop().unwrap_or_default();
                Ok((lp, lpc))
            }
            Deps::Version(version) => {
                let spec = toml_string(version);
                Ok((spec.clone(), spec))
            }
        }
    }
}

/// Why a package could not be created.
#[derive(Debug, thiserror::Error)]
pub enum NewError {
    /// The name cannot be a package's (and program's) name.
    #[error("`{name}` cannot be the package's name: {reason}")]
    InvalidName { name: String, reason: String },
    /// Something is already there.
    #[error("`{path}` already exists; choose another name or directory")]
    Exists { path: PathBuf },
    /// A path dependency's directory holds no crate.
    #[error("`{dir}` has no Cargo.toml: the new package needs the `lp` and `lpc` crates there (was this `lpc` built from a workspace that has moved?)")]
    MissingCrate { dir: PathBuf },
    /// A path that cannot be written into `Cargo.toml`.
    #[error("`{path}` is not valid UTF-8, so it cannot be written into Cargo.toml")]
    NonUtf8Path { path: PathBuf },
    /// Creating a directory or writing a file failed.
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Names that are Rust keywords, `.lp` keywords, or taken inside the package or by Cargo.
const RESERVED: &[(&str, &str)] = &[
    ("nodes", "the package's `src/nodes.rs` module has that name"),
    ("lp", "the package depends on the `lp` crate"),
    ("lpc", "the package depends on the `lpc` crate"),
    ("tokio", "the package depends on the `tokio` crate"),
    ("std", "it is a standard library crate"),
    ("core", "it is a standard library crate"),
    ("alloc", "it is a standard library crate"),
    ("proc_macro", "it is a standard library crate"),
    ("test", "it is a standard library crate"),
    ("build", "Cargo reserves it"),
    ("deps", "Cargo reserves it"),
    ("examples", "Cargo reserves it"),
    ("incremental", "Cargo reserves it"),
];

/// Rust's keywords (strict, reserved and 2018+ ones).
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro", "override",
    "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// `.lp`'s keywords, which cannot name a program.
const LP_KEYWORDS: &[&str] = &[
    "use", "program", "param", "node", "group", "process", "courier", "worker", "fn", "as", "true",
    "false", "replicas", "replica",
];

/// Checks that `name` can be the package's name, its crate's, its program's and its binary's:
/// a lowercase Rust identifier (`my_app`) that nothing else claims.
pub fn validate_name(name: &str) -> Result<(), NewError> {
    let invalid = |reason: &str| NewError::InvalidName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    let Some(first) = name.chars().next() else {
        return Err(invalid("it is empty"));
    };
    if name.contains('-') {
        let suggestion = name.replace('-', "_");
        return Err(invalid(&format!(
            "it is also the program's name and a Rust module's, which cannot contain `-`; use `{suggestion}`"
        )));
    }
    if !first.is_ascii_lowercase() {
        return Err(invalid("it must start with a lowercase ASCII letter"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(invalid(&format!(
            "`{}` is not allowed: use lowercase ASCII letters, digits and `_` (snake_case)",
            c.escape_default()
        )));
    }
    if name.len() > 64 {
        return Err(invalid("it is longer than 64 characters"));
    }
    if RUST_KEYWORDS.contains(&name) {
        return Err(invalid("it is a Rust keyword"));
    }
    if LP_KEYWORDS.contains(&name) {
        return Err(invalid("it is a `.lp` keyword"));
    }
    if let Some((_, why)) = RESERVED.iter().find(|(n, _)| *n == name) {
        return Err(invalid(why));
    }
    Ok(())
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The package's files: path inside the package, template.
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("template/Cargo.toml.tmpl")),
    (".gitignore", include_str!("template/gitignore.tmpl")),
    ("build.rs", include_str!("template/build.rs.tmpl")),
    // In `src/`, not next to `target/`: cargo notices a `.lp` file added there (`lpc::Build`).
    ("src/{{name}}.lp", include_str!("template/program.lp.tmpl")),
    ("src/lib.rs", include_str!("template/lib.rs.tmpl")),
    ("src/nodes.rs", include_str!("template/nodes.rs.tmpl")),
    ("src/main.rs", include_str!("template/main.rs.tmpl")),
    ("tests/{{name}}.rs", include_str!("template/test.rs.tmpl")),
    ("Dockerfile", include_str!("template/Dockerfile.tmpl")),
];

/// Creates a ready package NAME in `dir/NAME`: Cargo.toml, build.rs, src/NAME.lp, src/lib.rs,
/// src/nodes.rs, src/main.rs, tests/NAME.rs, a Dockerfile for cluster launches (and a
/// `.gitignore`). `dir` is created if needed;
/// `dir/NAME` must not exist. Returns the package's directory.
///
/// The package is standalone (its own `[workspace]` table), so it builds where it is even
/// inside another Cargo workspace. `cargo run -- --lp_launch_type local_mt` runs it;
/// `cargo test` runs its test.
pub fn create(dir: &Path, name: &str, deps: Deps) -> Result<PathBuf, NewError> {
    validate_name(name)?;
    let (lp, lpc) = deps.toml()?;
    let package = dir.join(name);
    if package.exists() || package.is_symlink() {
        return Err(NewError::Exists { path: package });
    }
    std::fs::create_dir_all(dir).map_err(|source| NewError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    std::fs::create_dir(&package).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            NewError::Exists {
                path: package.clone(),
            }
        } else {
            NewError::Write {
                path: package.clone(),
                source,
            }
        }
    })?;
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{lpc}}", &lpc)
            .replace("{{lp}}", &lp)
    };
    let written = FILES.iter().try_for_each(|(path, template)| {
        let path = package.join(fill(path));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| NewError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, fill(template)).map_err(|source| NewError::Write { path, source })
    });
    if let Err(error) = written {
        // Leave nothing half-made behind: the directory is the one this call created.
        let _ = std::fs::remove_dir_all(&package);
        return Err(error);
    }
    Ok(package)
}
