//! `lpc new NAME`: a ready package — a small courier + worker program that builds, runs and has
//! a test — to start from. `lpc new NAME --from FILE.lp` ([`create_from`]) makes the package
//! around an existing `.lp` file instead: a stub for every node type and function it names
//! (`scaffold` reads what the file asks, `emit` writes it), a binary per program and a test.
//!
//! The package depends on `lp` (the runtime) and, for its build script, on `lpc-build` (the
//! compiler library; not on `lpc`, the command, whose dependencies a build does not need).
//! Nothing is published to a registry yet, so by default ([`Deps::Workspace`]) these are path
//! dependencies on the `runtime/` and `compiler/build/` directories of the workspace this `lpc`
//! was built from (known at compile time); [`Deps::Version`] writes registry dependencies
//! instead, for once the crates are published.

mod emit;
mod scaffold;

use std::path::{Path, PathBuf};

/// How the new package depends on the `lp` and `lpc-build` crates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Deps {
    /// Path dependencies on `runtime/` and `compiler/build/` of the workspace `lpc` was built
    /// from.
    #[default]
    Workspace,
    /// Path dependencies on these directories (the `lp` crate's and the `lpc-build` crate's).
    Paths {
        /// The directory of the `lp` crate (`runtime/` in this workspace).
        lp: PathBuf,
        /// The directory of the `lpc-build` crate (`compiler/build/` in this workspace).
        lpc_build: PathBuf,
    },
    /// Registry dependencies of this version requirement (`"0.1"`), for both crates.
    Version(String),
}

impl Deps {
    /// The `runtime/` and `compiler/build/` directories of the workspace this `lpc` was built
    /// from.
    pub fn workspace_paths() -> (PathBuf, PathBuf) {
        let compiler = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = compiler.parent().unwrap_or(compiler);
        (root.join("runtime"), compiler.join("build"))
    }

    /// The TOML values of the `lp` and `lpc-build` dependency lines.
    fn toml(&self) -> Result<(String, String), NewError> {
        match self {
            Deps::Workspace => {
                let (lp, lpc_build) = Deps::workspace_paths();
                Deps::Paths { lp, lpc_build }.toml()
            }
            Deps::Paths { lp, lpc_build } => {
                let mut specs = Vec::new();
                for dir in [lp, lpc_build] {
                    if !dir.join("Cargo.toml").is_file() {
                        return Err(NewError::MissingCrate { dir: dir.clone() });
                    }
                    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
                    let text = absolute.to_str().ok_or_else(|| NewError::NonUtf8Path {
                        path: absolute.clone(),
                    })?;
                    specs.push(format!("{{ path = {} }}", toml_string(text)));
                }
                let lpc_build = specs.pop().unwrap_or_default();
                let lp = specs.pop().unwrap_or_default();
                Ok((lp, lpc_build))
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
    #[error("`{dir}` has no Cargo.toml: the new package needs the `lp` and `lpc-build` crates there (was this `lpc` built from a workspace that has moved?)")]
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
    /// The `--from` file cannot be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The `--from` file is not a `.lp` file.
    #[error(
        "`{path}` is not a `.lp` file: give `--from` the `.lp` file to build the package around"
    )]
    NotLp { path: PathBuf },
    /// The `--from` file has syntax errors (rendered below the message).
    #[error("`{file}` has syntax errors; fix them, then run `lpc new` again:\n{diagnostics}")]
    InvalidLp { file: String, diagnostics: String },
    /// The `--from` file asks for something the scaffold cannot make.
    #[error("{at}: {message}")]
    Scaffold { at: String, message: String },
}

/// Names that are Rust keywords, `.lp` keywords, or taken inside the package or by Cargo.
const RESERVED: &[(&str, &str)] = &[
    ("nodes", "the package's `src/nodes.rs` module has that name"),
    ("lp", "the package depends on the `lp` crate"),
    (
        "lpc_build",
        "the package's build script depends on the `lpc-build` crate",
    ),
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

/// The files of every package: path inside the package, template.
const COMMON: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("template/Cargo.toml.tmpl")),
    (".gitignore", include_str!("template/gitignore.tmpl")),
    ("build.rs", include_str!("template/build.rs.tmpl")),
    ("Dockerfile", include_str!("template/Dockerfile.tmpl")),
];

/// The files of the ready program of [`create`].
const READY: &[(&str, &str)] = &[
    // In `src/`, not next to `target/`: cargo notices a `.lp` file added there (`lpc_build::Build`).
    ("src/{{name}}.lp", include_str!("template/program.lp.tmpl")),
    ("src/lib.rs", include_str!("template/lib.rs.tmpl")),
    ("src/nodes.rs", include_str!("template/nodes.rs.tmpl")),
    ("src/main.rs", MAIN),
    ("tests/{{name}}.rs", include_str!("template/test.rs.tmpl")),
];

/// A program's binary.
const MAIN: &str = include_str!("template/main.rs.tmpl");

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
    write_package(dir, name, name, &deps, READY, Vec::new())
}

/// Creates package NAME in `dir/NAME` around the `.lp` file `from` (copied into `src/`): a
/// stub for every node type and function it names, in the modules its paths say (`crate::a::B`
/// in `src/a.rs`), with the constructors it calls and parameters typed from the values it
/// passes; a binary per program, named like it (`src/main.rs` for the program named NAME,
/// `src/bin/PROGRAM.rs` for the others; `cargo run` runs the first); a test that runs every
/// program to its end; Cargo.toml, build.rs, a Dockerfile and a `.gitignore`. The stubs build,
/// check clean and run to completion. Nothing is written when the file cannot be scaffolded.
pub fn create_from(dir: &Path, name: &str, from: &Path, deps: Deps) -> Result<PathBuf, NewError> {
    validate_name(name)?;
    let file_name = from
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|_| from.extension().is_some_and(|e| e == "lp"))
        .ok_or_else(|| NewError::NotLp {
            path: from.to_path_buf(),
        })?;
    let text = std::fs::read_to_string(from).map_err(|source| NewError::Read {
        path: from.to_path_buf(),
        source,
    })?;
    let model = scaffold::read(&file_name, &text)?;
    if let Some(message) = emit::clash(&model) {
        return Err(NewError::Scaffold {
            at: file_name,
            message,
        });
    }
    let Some(first) = model.programs.first() else {
        return Err(NewError::Scaffold {
            at: file_name,
            message: "it holds no program: write `program NAME { … }` in it".to_string(),
        });
    };
    let bin = first.name.clone();
    let mut files = vec![(format!("src/{file_name}"), text.clone())];
    files.extend(emit::modules(&model, &file_name, name));
    files.extend(emit::binaries(&model, name, MAIN));
    files.push((
        format!("tests/{name}.rs"),
        emit::test(&model, name, &file_name),
    ));
    write_package(dir, name, &bin, &deps, &[], files)
}

/// Writes the [`COMMON`] templates and `templates`, filled in (`bin`: the binary `cargo run`
/// runs), and `files` as they are, into the new directory `dir/name`; on an error, removes
/// what it wrote.
fn write_package(
    dir: &Path,
    name: &str,
    bin: &str,
    deps: &Deps,
    templates: &[(&str, &str)],
    files: Vec<(String, String)>,
) -> Result<PathBuf, NewError> {
    let (lp, lpc_build) = deps.toml()?;
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
            .replace("{{program}}", name)
            .replace("{{bin}}", bin)
            .replace("{{lpc_build}}", &lpc_build)
            .replace("{{lp}}", &lp)
    };
    let filled = COMMON
        .iter()
        .chain(templates)
        .map(|(path, text)| (fill(path), fill(text)));
    let written = filled.chain(files).try_for_each(|(path, text)| {
        let path = package.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| NewError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| NewError::Write { path, source })
    });
    if let Err(error) = written {
        // Leave nothing half-made behind: the directory is the one this call created.
        let _ = std::fs::remove_dir_all(&package);
        return Err(error);
    }
    Ok(package)
}
