//! `lpc new`: the package it makes checks clean at once, and (slow, so only with
//! `LP_SLOW_TESTS=1` or in CI) passes its own `cargo test` and runs with `cargo run`.

use lp_tests::packages::{cargo, share_lock_file, slow_tests};
use lp_tests::support::{run, workspace};
use lpc::new::{create, Deps, NewError};
use std::time::Duration;

const FILES: &[&str] = &[
    "Cargo.toml",
    "build.rs",
    "src/demo.lp",
    "src/lib.rs",
    "src/nodes.rs",
    "src/main.rs",
    "tests/demo.rs",
    "Dockerfile",
];

#[test]
fn creates_a_package_that_checks_clean() {
    let dir = tempfile::tempdir().expect("temp dir");
    let package = create(dir.path(), "demo", Deps::Workspace).expect("package created");
    assert_eq!(package, dir.path().join("demo"));
    for file in FILES {
        assert!(package.join(file).is_file(), "missing {file}");
    }
    let manifest = std::fs::read_to_string(package.join("Cargo.toml")).expect("manifest");
    assert!(manifest.contains("name = \"demo\""), "{manifest}");
    assert!(
        manifest.contains("\n[workspace]\n"),
        "standalone: {manifest}"
    );
    let runtime = workspace().join("runtime");
    assert!(
        manifest.contains(&format!("lp = {{ path = \"{}\" }}", runtime.display())),
        "{manifest}"
    );
    let main = std::fs::read_to_string(package.join("src/main.rs")).expect("main.rs");
    assert!(main.contains("demo::demo::main()"), "{main}");
    // The image runs as the user the hardened pods run as.
    let dockerfile = std::fs::read_to_string(package.join("Dockerfile")).expect("Dockerfile");
    assert!(dockerfile.contains("\nUSER 10001:10001\n"), "{dockerfile}");

    let lp_files = lpc_build::driver::lp_files(&package);
    assert_eq!(lp_files, vec![package.join("src/demo.lp")]);
    let checked = lpc_build::driver::check_package(&package, &lp_files).expect("package checks");
    let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let programs = checked.package.expect("checked").programs;
    assert_eq!(programs.len(), 1);
    assert_eq!(programs[0].name, "demo");
}

#[test]
fn version_dependencies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let package =
        create(dir.path(), "demo", Deps::Version("0.1".to_string())).expect("package created");
    let manifest = std::fs::read_to_string(package.join("Cargo.toml")).expect("manifest");
    assert!(manifest.contains("\nlp = \"0.1\"\n"), "{manifest}");
    assert!(manifest.contains("\nlpc-build = \"0.1\"\n"), "{manifest}");
}

#[test]
fn missing_path_dependency_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deps = Deps::Paths {
        lp: dir.path().join("nowhere"),
        lpc_build: workspace().join("compiler/build"),
    };
    let error = create(dir.path(), "demo", deps).expect_err("no lp crate there");
    assert!(matches!(error, NewError::MissingCrate { .. }), "{error}");
    assert!(!dir.path().join("demo").exists());
}

#[test]
fn rejects_names_that_cannot_be_a_package_and_program() {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in [
        "",
        "Demo",
        "my-app",
        "1demo",
        "_demo",
        "de mo",
        "démo",
        "demo/x",
        "../x",
        "fn",
        "node",
        "replica",
        "nodes",
        "lp",
        "lpc_build",
        "std",
        "test",
        "self",
    ] {
        match create(dir.path(), name, Deps::Workspace) {
            Err(error @ NewError::InvalidName { .. }) => {
                let message = error.to_string();
                assert!(message.contains(&format!("`{name}`")), "{message}");
            }
            other => panic!("`{name}` accepted: {other:?}"),
        }
    }
    let hyphen = create(dir.path(), "my-app", Deps::Workspace).expect_err("hyphen");
    assert!(hyphen.to_string().contains("use `my_app`"), "{hyphen}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert!(left.is_empty(), "nothing created: {left:?}");
}

#[test]
fn refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let package = create(dir.path(), "demo", Deps::Workspace).expect("package created");
    std::fs::write(package.join("src/nodes.rs"), "// mine").expect("edit");
    let error = create(dir.path(), "demo", Deps::Workspace).expect_err("exists");
    assert!(matches!(error, NewError::Exists { .. }), "{error}");
    assert!(error.to_string().contains("already exists"), "{error}");
    let kept = std::fs::read_to_string(package.join("src/nodes.rs")).expect("nodes.rs");
    assert_eq!(kept, "// mine");

    std::fs::write(dir.path().join("file"), "").expect("a file");
    let error = create(dir.path(), "file", Deps::Workspace).expect_err("a file is there");
    assert!(matches!(error, NewError::Exists { .. }), "{error}");
}

#[test]
fn new_package_builds_tests_and_runs() {
    if !slow_tests() {
        eprintln!("skipped: building a new package takes minutes; set LP_SLOW_TESTS=1 to run it");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let package = create(dir.path(), "demo", Deps::Workspace).expect("package created");
    share_lock_file(&package);

    let limit = Duration::from_secs(600);
    let out = run(cargo(&package, &["test"]), limit);
    assert_eq!(out.status, Some(0), "{out:#?}");
    assert!(out.all().contains("test greeter_greets ... ok"), "{out:#?}");

    let out = run(
        cargo(&package, &["run", "--", "--lp_launch_type", "local_mt"]),
        limit,
    );
    assert_eq!(out.status, Some(0), "{out:#?}");
    let all = out.all();
    for i in 1..=3 {
        let expected = format!("[client] greeting {i}: Hello, world {i}!");
        assert!(all.contains(&expected), "missing `{expected}` in:\n{all}");
    }
}
