//! The `lpc` command: check, build, run and expand `.lp` programs.

use clap::{Parser, Subcommand, ValueEnum};
use lpc_build::codegen::Runtime;
use lpc_build::diag::render;
use lpc_build::driver::{self, Checked};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The compiler for Launchpad-for-Rust `.lp` programs.
#[derive(Parser)]
#[command(name = "lpc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Parse and check `.lp` files against the Rust node types of their package.
    Check {
        /// The `.lp` files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Check a `.lp` file, then `cargo build` its package.
    Build {
        /// The `.lp` file.
        file: PathBuf,
        /// Build with optimizations.
        #[arg(long)]
        release: bool,
    },
    /// Check, build and run a program.
    Run {
        /// The `.lp` file.
        file: PathBuf,
        /// How to launch: `local_mt` (threads), `local_mp` (one process per node), `sim`
        /// (simulated hosts, network and clock; `-- --lp_seed N` picks the run).
        #[arg(
            long = "launch-type",
            alias = "lp_launch_type",
            default_value = "local_mt"
        )]
        launch_type: String,
        /// The program to run when the file holds several (default: the only one).
        #[arg(long)]
        program: Option<String>,
        /// Build with optimizations.
        #[arg(long)]
        release: bool,
        /// Flags for the program (its params), after `--`.
        #[arg(last = true)]
        flags: Vec<String>,
    },
    /// Format `.lp` files in the canonical layout (comments kept).
    Fmt {
        /// The `.lp` files to format.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Change nothing; exit 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Draw a program's topology: groups with replica counts, edges for held handles.
    Graph {
        /// The `.lp` file.
        file: PathBuf,
        /// The program to draw when the file holds several (default: the first).
        #[arg(long)]
        program: Option<String>,
        /// `dot` (Graphviz), `mermaid`, or `svg` (drawn by lpc itself).
        #[arg(long, default_value = "dot")]
        format: lpc::graph::Format,
    },
    /// Create a package NAME with a ready program, its nodes and its test; or, with `--from`,
    /// around an existing `.lp` file.
    #[command(
        long_about = "Create a package NAME with a ready program, its nodes and its test; or, with `--from FILE.lp`, around an existing `.lp` file.\n\nWith `--from`, the file is copied into the package's `src/`, and every node type and function it names gets a stub in the module its path says (`crate::nodes::Producer` in `src/nodes.rs`), with the constructors it calls and parameters typed from the values it passes (a node: `lp::Handle<T>`, a group: `Vec<lp::Handle<T>>`, `group[i]`: `lp::Handle<T>`, an integer: `u64` or its param's type, a float: `f64`, a string: `String`, a duration: `std::time::Duration`, a list: `Vec<…>`). Couriers answer a `status` method (and their batched methods), workers log their arguments and finish, and in a program with couriers one node calls every courier it holds and then stops the program; each program gets a binary named like it and a test that runs it to its end. The package checks clean, builds, and `cargo run` runs the first program to completion."
    )]
    New {
        /// The package name (lowercase snake_case).
        name: String,
        /// Build the package around this `.lp` file instead of the ready program.
        #[arg(long, value_name = "FILE.lp")]
        from: Option<PathBuf>,
    },
    /// Print the Rust code generated for a `.lp` file's package.
    Expand {
        /// The `.lp` file.
        file: PathBuf,
    },
    /// Serve the Language Server Protocol on stdin/stdout, for editors: diagnostics, go to
    /// definition, hover and formatting of `.lp` files.
    Lsp,
    /// A live view of a running launch, from its dashboard: the program's state, per node its
    /// kind, pid, state, restarts, CPU, memory and calls, and the slowest recent calls of the
    /// selected node (up/down or j/k). `q` quits.
    Top {
        /// The dashboard URL the launcher printed, or a `local_mp` launch's directory; by
        /// default the only running `local_mp` launch.
        target: Option<String>,
        /// Print one frame and exit.
        #[arg(long)]
        once: bool,
        /// The node selected first, by label (default: the first node).
        #[arg(long, value_name = "LABEL")]
        node: Option<String>,
    },
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
enum Format {
    /// rustc-style text on stderr
    Human,
    /// one JSON object per diagnostic per line on stdout
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Check { files, format } => check(&files, format),
        Cmd::Build { file, release } => build(&file, release).map(|_| ExitCode::SUCCESS),
        Cmd::Run {
            file,
            launch_type,
            program,
            release,
            flags,
        } => run(&file, &launch_type, program.as_deref(), release, &flags),
        Cmd::Fmt { files, check } => fmt(&files, check),
        Cmd::Graph {
            file,
            program,
            format,
        } => graph(&file, program.as_deref(), format),
        Cmd::New { name, from } => new(&name, from.as_deref()),
        Cmd::Expand { file } => expand(&file),
        Cmd::Lsp => lpc::lsp::run().map(|()| ExitCode::SUCCESS),
        Cmd::Top { target, once, node } => lpc::top::run(target.as_deref(), once, node.as_deref())
            .map(|()| ExitCode::SUCCESS)
            .map_err(|e| chain(&e)),
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        ExitCode::FAILURE
    })
}

/// An error and its sources, one line.
fn chain(error: &dyn std::error::Error) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

/// Checks the files of one package and prints their diagnostics; `Ok(None)` when any error.
fn check_files(files: &[PathBuf], format: Format) -> Result<Option<Checked>, String> {
    let Some(first) = files.first() else {
        return Err("no `.lp` file given".into());
    };
    for file in files {
        if !file.is_file() {
            return Err(format!("`{}` is not a file", file.display()));
        }
    }
    let package = driver::find_package(first).map_err(|e| e.to_string())?;
    let checked = driver::check_package(&package, files).map_err(|e| e.to_string())?;
    let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
    match format {
        Format::Json => print!("{}", lpc::json::lines(&checked.sources, &diagnostics)),
        Format::Human => {
            let choice = if std::io::stderr().is_terminal() {
                codespan_reporting::term::termcolor::ColorChoice::Auto
            } else {
                codespan_reporting::term::termcolor::ColorChoice::Never
            };
            let mut stderr = codespan_reporting::term::termcolor::StandardStream::stderr(choice);
            render::human(&checked.sources, &diagnostics, &mut stderr)
                .map_err(|e| e.to_string())?;
        }
    }
    let (errors, warnings) = (
        checked.diagnostics.error_count(),
        checked.diagnostics.warning_count(),
    );
    let names = files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if format == Format::Human {
        match &checked.package {
            Some(package) => {
                let nodes: usize = package.programs.iter().map(|p| p.nodes.len()).sum();
                eprintln!(
                    "checked {names}: {} program{}, {nodes} node declaration{}, {}",
                    package.programs.len(),
                    plural(package.programs.len()),
                    plural(nodes),
                    if warnings == 0 {
                        "no problems".to_string()
                    } else {
                        format!("{warnings} warning{}", plural(warnings))
                    }
                );
            }
            // Warnings come only with a package without errors (`driver::check_sources`).
            None => eprintln!(
                "error: could not check {names}: {errors} error{}",
                plural(errors)
            ),
        }
    }
    Ok(checked.package.is_some().then_some(checked))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn check(files: &[PathBuf], format: Format) -> Result<ExitCode, String> {
    Ok(match check_files(files, format)? {
        Some(_) => ExitCode::SUCCESS,
        None => ExitCode::FAILURE,
    })
}

/// Checks, then builds the package with cargo; returns the package directory and the checked
/// programs, or an error message.
fn build(file: &Path, release: bool) -> Result<(PathBuf, Vec<String>), String> {
    let checked = check_files(&[file.to_path_buf()], Format::Human)?
        .ok_or_else(|| "fix the errors above, then build again".to_string())?;
    let programs = checked
        .package
        .as_ref()
        .map(|p| p.programs.iter().map(|p| p.name.clone()).collect())
        .unwrap_or_default();
    let package = driver::find_package(file).map_err(|e| e.to_string())?;
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .arg("build")
        .arg("--manifest-path")
        .arg(package.join("Cargo.toml"));
    if release {
        cargo.arg("--release");
    }
    let status = cargo
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("cargo build failed (its output is above)".into());
    }
    Ok((package, programs))
}

fn run(
    file: &Path,
    launch_type: &str,
    program: Option<&str>,
    release: bool,
    flags: &[String],
) -> Result<ExitCode, String> {
    let (package, programs) = build(file, release)?;
    let program = match (program, programs.as_slice()) {
        (Some(p), _) if programs.iter().any(|q| q == p) => p.to_string(),
        (Some(p), _) => {
            return Err(format!(
                "no program `{p}` in `{}`; it has: {}",
                file.display(),
                programs.join(", ")
            ))
        }
        (None, [only]) => only.clone(),
        (None, _) => {
            return Err(format!(
                "`{}` holds several programs ({}): choose one with `--program NAME`",
                file.display(),
                programs.join(", ")
            ))
        }
    };
    let binary = find_binary(&package, &program, release)?;
    let mut command = Command::new(&binary);
    command.arg("--lp_launch_type").arg(launch_type).args(flags);
    // Become the program, so signals (Ctrl-C, SIGTERM) reach its launcher directly.
    let error = std::os::unix::process::CommandExt::exec(&mut command);
    Err(format!("cannot run `{}`: {error}", binary.display()))
}

/// The program's binary: the package's bin target named like the program.
fn find_binary(package: &Path, program: &str, release: bool) -> Result<PathBuf, String> {
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(package.join("Cargo.toml"))
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cannot read cargo metadata: {e}"))?;
    let target_dir = metadata["target_directory"]
        .as_str()
        .ok_or("cargo metadata has no target directory")?;
    let path = Path::new(target_dir)
        .join(if release { "release" } else { "debug" })
        .join(program);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no binary `{program}` was built: add a `[[bin]]` named `{program}` (or `src/bin/{program}.rs`) whose `main` calls `{program}::main()`"
        ))
    }
}

fn expand(file: &Path) -> Result<ExitCode, String> {
    let Some(checked) = check_files(&[file.to_path_buf()], Format::Human)? else {
        return Ok(ExitCode::FAILURE);
    };
    match checked.generate(&[file.to_path_buf()], &Runtime::default()) {
        Some(code) => {
            print!("{code}");
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::FAILURE),
    }
}

fn fmt(files: &[PathBuf], check: bool) -> Result<ExitCode, String> {
    let mut clean = true;
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
        let formatted = lpc::fmt::format(&text)
            .map_err(|e| format!("cannot format `{}`: {e}", file.display()))?;
        if formatted == text {
            continue;
        }
        if check {
            clean = false;
            eprintln!(
                "`{}` is not formatted: run `lpc fmt {}`",
                file.display(),
                file.display()
            );
        } else {
            std::fs::write(file, formatted)
                .map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
            eprintln!("formatted {}", file.display());
        }
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn graph(
    file: &Path,
    program: Option<&str>,
    format: lpc::graph::Format,
) -> Result<ExitCode, String> {
    let Some(checked) = check_files(&[file.to_path_buf()], Format::Human)? else {
        return Ok(ExitCode::FAILURE);
    };
    let programs = checked.package.map(|p| p.programs).unwrap_or_default();
    let chosen = match program {
        Some(name) => programs.iter().find(|p| p.name == name).ok_or_else(|| {
            let names: Vec<&str> = programs.iter().map(|p| p.name.as_str()).collect();
            format!(
                "no program `{name}` in `{}`; it has: {}",
                file.display(),
                names.join(", ")
            )
        })?,
        None => programs
            .first()
            .ok_or_else(|| format!("`{}` has no program", file.display()))?,
    };
    print!("{}", lpc::graph::render(chosen, format));
    Ok(ExitCode::SUCCESS)
}

fn new(name: &str, from: Option<&Path>) -> Result<ExitCode, String> {
    let dir =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let deps = lpc::new::Deps::default();
    let path = match from {
        Some(from) => lpc::new::create_from(&dir, name, from, deps),
        None => lpc::new::create(&dir, name, deps),
    }
    .map_err(|e| e.to_string())?;
    eprintln!(
        "created package `{name}` in {}\nrun it:  cd {name} && cargo run -- --lp_launch_type local_mp\ntest it: cd {name} && cargo test",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
