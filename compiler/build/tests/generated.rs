//! Snapshots of the code generated for the examples (the examples' own builds compile it,
//! with `#![deny(warnings)]`).

use lpc_build::codegen::Runtime;
use std::path::{Path, PathBuf};

/// The code generated for the example package `name`, naming the runtime by `lp`.
fn generated(name: &str, lp: &Runtime) -> String {
    let package: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    let lp_files = lpc_build::driver::lp_files(&package);
    let checked = lpc_build::driver::check_package(&package, &lp_files).expect("example checks");
    let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    checked.generate(&lp_files, lp).expect("generated code")
}

#[test]
fn consumer_producers() {
    insta::assert_snapshot!(generated("consumer_producers", &Runtime::default()));
}

/// With `Build::runtime_path`, every path into the runtime — in code, in the `__remote_error!`
/// macro's path and in `#[serde(crate = "…")]` — starts with the path given, and nothing else
/// changes. The examples together use every construct that names the runtime.
#[test]
fn runtime_path_replaces_every_path_into_the_runtime() {
    let renamed = Runtime::new("::my_lp").expect("a path");
    for example in [
        "consumer_producers",
        "batching",
        "hello_world",
        "program_wait",
        "mapreduce",
        "actor_learner",
    ] {
        let default = generated(example, &Runtime::default());
        let code = generated(example, &renamed);
        assert!(!code.contains("::lp::"), "{example}: `::lp::` is left");
        assert!(code.contains("#[serde(crate = \"::my_lp::codegen::serde\")]"));
        assert!(code.contains("::my_lp::__remote_error!") || !default.contains("__remote_error!"));
        // The same code but for the path. Lines may break elsewhere, the path being longer, and a
        // list broken over lines gets a trailing comma.
        let tokens = |code: &str| {
            let code: String = code.split_whitespace().collect();
            [")", "]", "}", ">"].iter().fold(code, |code, close| {
                code.replace(&format!(",{close}"), close)
            })
        };
        assert!(
            tokens(&code) == tokens(&default.replace("::lp::", "::my_lp::")),
            "{example}: the code differs in more than the runtime's path"
        );
    }
}

#[test]
fn runtime_paths_are_rust_paths() {
    for path in ["::my_lp", "my_lp", "crate::deps::lp", " ::my_lp ", "r#lp"] {
        assert!(Runtime::new(path).is_ok(), "{path}");
    }
    for path in [
        "",
        "::",
        "my-lp",
        "::my_lp::",
        "my_lp<T>",
        "a b",
        "::lp;",
        "1x",
        "(lp)",
    ] {
        let error = Runtime::new(path).expect_err(path);
        assert!(
            error.to_string().contains("write one like `::my_lp`"),
            "{error}"
        );
    }
}

/// Methods in `impl` blocks of other modules than the type's are found and served.
#[test]
fn impl_blocks_across_modules() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/ok_impl_across_modules");
    let lp_files = lpc_build::driver::lp_files(&package);
    let checked = lpc_build::driver::check_package(&package, &lp_files).expect("case checks");
    let package = checked.package.expect("checks clean");
    let methods: Vec<&str> = package.couriers[0]
        .interface
        .methods
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(methods, ["capacity", "reserve"]);
    assert_eq!(
        package.couriers[0].interface.path,
        "crate::nodes::types::Store"
    );
}
