//! Snapshots of the code generated for the examples (the examples' own builds compile it,
//! with `#![deny(warnings)]`).

use std::path::Path;

#[test]
fn consumer_producers() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/consumer_producers");
    let lp_files = lpc_build::driver::lp_files(&package);
    let checked = lpc_build::driver::check_package(&package, &lp_files).expect("example checks");
    let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let code = checked.generate(&lp_files).expect("generated code");
    insta::assert_snapshot!(code);
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
