//! Property test: whatever the `.lp` text, parse + check return diagnostics and never panic,
//! and a rejected program always comes with at least one error.

use proptest::prelude::*;
use std::path::Path;

const VALID: &[&str] = &[
    include_str!("cases/seed_ok/main.lp"),
    include_str!("cases/ok_full_arguments/main.lp"),
];

/// Mutates a valid program: deletes, duplicates or replaces a byte range with a token soup.
fn mutated() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "", ";", "{", "}", "(", ")", "[", "]", ":", "::", ",", "=", "+", "-", "*", "/", "%",
        "node", "group", "param", "courier", "worker", "fn", "process", "replica", "replicas",
        "producer", "Producer", "\"s\"", "1", "0", "-1", "250ms", "1.5", "true", "u32", "String",
        "Duration", "//", "/*", "*/", "\n",
    ]);
    (
        prop::sample::select(VALID.to_vec()),
        any::<prop::sample::Index>(),
        0usize..40,
        prop::collection::vec(tokens, 0..6),
    )
        .prop_map(|(base, at, len, insert)| {
            let start = at.index(base.len());
            let mut start = start;
            while !base.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + len).min(base.len());
            while !base.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}{}{}", &base[..start], insert.join(" "), &base[end..])
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn check_never_panics(text in mutated()) {
        let dir = tempfile::tempdir().expect("temp dir");
        let lp = dir.path().join("case.lp");
        std::fs::write(&lp, &text).expect("write case");
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed");
        let checked = lpc::driver::check_package(&fixture, &[lp]).expect("readable case");
        if checked.package.is_none() {
            prop_assert!(checked.diagnostics.has_errors());
        }
        if let Some(code) = checked.generate(&[]) {
            prop_assert!(syn::parse_file(&code).is_ok(), "generated code does not parse:\n{code}");
        }
    }
}
