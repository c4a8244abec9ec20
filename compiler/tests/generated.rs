//! Snapshots of the code generated for the examples (the examples' own builds compile it,
//! with `#![deny(warnings)]`).

use std::path::Path;

#[test]
fn consumer_producers() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/consumer_producers");
    let lp_files = lpc::driver::lp_files(&package);
    let checked = lpc::driver::check_package(&package, &lp_files).expect("example checks");
    let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let code = checked.generate(&lp_files).expect("generated code");
    insta::assert_snapshot!(code);
}
