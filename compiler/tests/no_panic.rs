//! Property test (our fuzz harness): whatever the `.lp` text, parse + check return diagnostics
//! and never panic, and a rejected program always comes with at least one error. The corpus is
//! every diagnostic case, the examples and the end-to-end programs; each input is a corpus file
//! with a byte range replaced by a token soup.
//!
//! A longer run, bounded by its case count: `LP_FUZZ_CASES=20000 cargo test --release -p lpc --test no_panic`.
//! A crash found becomes a regression case in `tests/cases/`.

use proptest::prelude::*;
use std::path::Path;

/// The corpus: every `.lp` file of the diagnostic cases, the examples and `tests/`.
fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["tests/cases", "../examples", "../tests"] {
        files.extend(lpc::driver::lp_files(&root.join(dir)));
    }
    files.sort();
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect()
}

fn cases() -> u32 {
    std::env::var("LP_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(200)
}

/// Mutates a valid program: deletes, duplicates or replaces a byte range with a token soup.
fn mutated() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(vec![
        "", ";", "{", "}", "(", ")", "[", "]", ":", "::", ",", "=", "+", "-", "*", "/", "%",
        "node", "group", "param", "courier", "worker", "fn", "process", "replica", "replicas",
        "producer", "Producer", "\"s\"", "1", "0", "-1", "250ms", "1.5", "true", "u32", "String",
        "Duration", "//", "/*", "*/", "\n",
    ]);
    (
        prop::sample::select(corpus()),
        any::<prop::sample::Index>(),
        0usize..40,
        prop::collection::vec(tokens, 0..6),
    )
        .prop_map(|(base, at, len, insert): (String, _, usize, Vec<&str>)| {
            let mut start = if base.is_empty() {
                0
            } else {
                at.index(base.len())
            };
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
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

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
