//! The generator's property: every program it makes (random names from the generated code's
//! own and Rust's keywords, same-named types in keyword-named modules, aliases, every kind of
//! value, courier traits, handles in calls, pattern parameters) checks clean; the package of all
//! of them builds with one `cargo build`; and each program launches in `test_mt` and in
//! `test_mp` with every courier reporting exactly what the `.lp` computes, once a call through
//! each handle it holds answered (under `test_mp`, with only the keys its arguments give).
//!
//! Building the package takes a minute or two, so this runs with `LP_SLOW_TESTS=1` and in CI
//! (`CI=true`). `LP_GEN_SEED` and `LP_GEN_PROGRAMS` explore other programs (CI runs a fixed seed):
//! `LP_SLOW_TESTS=1 LP_GEN_SEED=42 LP_GEN_PROGRAMS=40 cargo test -p lp-tests --test generated_programs`.

use lp_tests::generator::{self, Package};
use lp_tests::packages::{cargo, share_lock_file, slow_tests, target_dir};
use lp_tests::support::{run, workspace};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Where each program is launched: every node in the harness's process, then each in its own
/// (where a node's process holds only the keys of the nodes its arguments name).
const LAUNCH_TYPES: [(&str, &str); 2] = [("TestMt", "test_mt"), ("TestMp", "test_mp")];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes a package around `lib` (the modules it declares) and the given `.lp` files.
fn write_package(dir: &Path, package: &Package, lp: &[&generator::Program], harness: bool) {
    let runtime = workspace().join("runtime");
    let compiler = workspace().join("compiler/build");
    let manifest = format!(
        "[package]\nname = \"gen_pkg\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
         [[bin]]\nname = \"gen-harness\"\npath = \"src/main.rs\"\n\n\
         [dependencies]\nlp = {{ path = {runtime:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\
         tokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }}\n\n\
         [build-dependencies]\nlpc-build = {{ path = {compiler:?} }}\n\n[workspace]\n"
    );
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("dirs");
        std::fs::write(path, text).expect("written");
    };
    write("Cargo.toml", &manifest);
    write(
        "build.rs",
        "fn main() -> Result<(), lpc_build::BuildError> {\n    lpc_build::Build::new().compile()\n}\n",
    );
    let mut lib = String::from("//! Generated programs.\n#![allow(clippy::all)]\n");
    for program in lp {
        let _ = writeln!(lib, "pub mod {};", program.module);
    }
    lib.push_str("lp::include_generated!();\n");
    write("src/lib.rs", &lib);
    for (path, text) in &package.files {
        write(path, text);
    }
    for program in lp {
        write(&program.lp_file, &program.lp);
    }
    let mut main = String::from(
        "//! Launches every generated program and prints what its couriers received.\n\
         macro_rules! report {\n    ($out:expr, $h:expr) => {{\n        let h = $h;\n        \
         let got = h.received().await.expect(\"received\");\n        \
         $out.push(format!(\"{}={:?}\", lp::Handle::label(&h), got));\n    }};\n}\n\n",
    );
    if harness {
        for program in lp {
            main.push_str(&program.harness);
        }
    }
    // Under `test_mp` the harness is also every node's process: `LP_PROGRAM` says which.
    main.push_str(
        "fn main() -> std::process::ExitCode {\n    if std::env::var_os(\"LP_NODE_ID\").is_some() {\n        \
         return match std::env::var(\"LP_PROGRAM\").unwrap_or_default().as_str() {\n",
    );
    if harness {
        for program in lp {
            main.push_str(&program.child);
        }
    }
    main.push_str(
        "            _ => std::process::ExitCode::FAILURE,\n        };\n    }\n    \
         tokio::runtime::Runtime::new().expect(\"a runtime\").block_on(run_all());\n    \
         std::process::ExitCode::SUCCESS\n}\n\nasync fn run_all() {\n",
    );
    if harness {
        for program in lp {
            for (launch_type, name) in LAUNCH_TYPES {
                let _ = writeln!(
                    main,
                    "    println!(\"== {m} {name}\");\n    for line in run_{m}(lp::LaunchType::{launch_type}).await {{ println!(\"{{line}}\"); }}",
                    m = program.module
                );
            }
        }
    }
    main.push_str("}\n");
    write("src/main.rs", &main);
}

#[test]
fn generated_programs_check_build_and_launch() {
    if !slow_tests() {
        eprintln!("skipped: building the generated package takes minutes; set LP_SLOW_TESTS=1");
        return;
    }
    let seed = env_number("LP_GEN_SEED", 1);
    let count = env_number("LP_GEN_PROGRAMS", 16) as usize;
    eprintln!("generated programs: seed {seed}, {count} programs (LP_GEN_SEED, LP_GEN_PROGRAMS)");
    let package = generator::package(seed, count);

    // Each program alone: it must check clean.
    let mut rejected = Vec::new();
    for program in &package.programs {
        let dir = tempfile::tempdir().expect("temp dir");
        write_package(dir.path(), &package, &[program], false);
        let lp = dir.path().join(&program.lp_file);
        let checked = lpc_build::driver::check_package(dir.path(), &[lp]).expect("checked");
        if checked.package.is_none() || checked.diagnostics.has_errors() {
            let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
            rejected.push(format!(
                "{} (seed {seed}):\n{}\n{}",
                program.module,
                program.lp,
                lpc_build::diag::render::human_string(&checked.sources, &diagnostics)
            ));
        }
    }
    assert!(
        rejected.is_empty(),
        "generated programs the checker rejected:\n{}",
        rejected.join("\n")
    );

    // All of them in one package: it builds, and each program launches and reports.
    let dir = tempfile::tempdir().expect("temp dir");
    let programs: Vec<&generator::Program> = package.programs.iter().collect();
    write_package(dir.path(), &package, &programs, true);
    share_lock_file(dir.path());
    // Into the workspace's target directory, reusing what it built (the harness's name is its own).
    let out = run(
        cargo(dir.path(), &["build", "--offline"]),
        Duration::from_secs(900),
    );
    assert_eq!(
        out.status,
        Some(0),
        "the package of generated programs (seed {seed}) does not build:\n{}",
        out.stderr
    );
    let harness = target_dir().join("debug/gen-harness");
    let out = run(Command::new(harness), Duration::from_secs(300));
    assert_eq!(
        out.status,
        Some(0),
        "the harness failed (seed {seed}): {out:#?}"
    );
    let mut sections = std::collections::BTreeMap::<String, Vec<String>>::new();
    let mut current = String::new();
    for line in out.stdout.lines() {
        match line.strip_prefix("== ") {
            Some(module) => current = module.to_string(),
            None => sections
                .entry(current.clone())
                .or_default()
                .push(line.to_string()),
        }
    }
    let reports: usize = package.programs.iter().map(|p| p.expected.len()).sum();
    eprintln!(
        "{count} programs built and launched; {reports} courier replicas reported their values"
    );
    if let Ok(dir) = std::env::var("LP_GEN_KEEP") {
        for program in &package.programs {
            let _ = std::fs::write(Path::new(&dir).join(&program.lp_file), &program.lp);
        }
    }
    for program in &package.programs {
        for (_, name) in LAUNCH_TYPES {
            let got = sections
                .remove(&format!("{} {name}", program.module))
                .unwrap_or_default();
            assert_eq!(
                got, program.expected,
                "{} (seed {seed}, {name}) received other values than its `.lp` says:\n{}",
                program.module, program.lp
            );
        }
    }
}

/// Every generated program, broken one way at a time, is rejected with the code of that
/// mistake (and never makes the checker panic): fast, so it runs everywhere.
#[test]
fn broken_generated_programs_are_rejected_with_their_code() {
    let seed = env_number("LP_GEN_SEED", 1);
    let count = env_number("LP_GEN_PROGRAMS", 16) as usize;
    let package = generator::package(seed, count);
    let mutations: [(&str, &str); 5] = [
        ("node zz_missing = courier Missing::new();", "E0102"),
        ("param zz_byte: u8 = 300;", "E0206"),
        ("param lp_zz: u32 = 1;", "E0108"),
        ("group zz_none[1 / 0] = courier Missing::new();", "E0209"),
        ("node zz_fn = fn crate::missing::function();", "E0107"),
    ];
    let mut problems = Vec::new();
    for program in &package.programs {
        for (line, code) in mutations {
            let broken = match program.lp.rfind('}') {
                Some(end) => format!("{}    {line}\n{}", &program.lp[..end], &program.lp[end..]),
                None => continue,
            };
            let mutated = generator::Program {
                lp: broken,
                name: program.name.clone(),
                lp_file: program.lp_file.clone(),
                module: program.module.clone(),
                harness: String::new(),
                child: String::new(),
                expected: Vec::new(),
            };
            let dir = tempfile::tempdir().expect("temp dir");
            write_package(dir.path(), &package, &[&mutated], false);
            let lp = dir.path().join(&mutated.lp_file);
            let checked = lpc_build::driver::check_package(dir.path(), &[lp]).expect("checked");
            let codes: Vec<&str> = checked
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.code.as_str())
                .collect();
            if !codes.contains(&code) || checked.package.is_some() {
                problems.push(format!(
                    "{} + `{line}`: expected {code}, got {codes:?}",
                    program.module
                ));
            }
        }
    }
    assert!(problems.is_empty(), "seed {seed}:\n{}", problems.join("\n"));
}
