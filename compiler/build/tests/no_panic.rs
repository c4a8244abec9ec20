//! Property test (our fuzz harness): whatever the `.lp` text, parse + check return diagnostics
//! and never panic, and a rejected program always comes with at least one error. The corpus is
//! every diagnostic case, the examples and the end-to-end programs; each input is a corpus file
//! with a byte range replaced by a token soup, or — for what is not text — with control
//! characters and bytes that are not UTF-8 put in anywhere (even inside a character), or random
//! bytes: those always give coded errors, each with a primary label, that render.
//!
//! A longer run, bounded by its case count: `LP_FUZZ_CASES=20000 cargo test --release -p lpc-build --test no_panic`.
//! A crash found becomes a regression case in `tests/cases/`.

use lpc_build::codegen::Runtime;
use lpc_build::diag::render;
use proptest::prelude::*;
use std::path::Path;

/// The corpus: every `.lp` file of the diagnostic cases, the examples and `tests/`.
fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["tests/cases", "../../examples", "../../tests"] {
        files.extend(lpc_build::driver::lp_files(&root.join(dir)));
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
        "",
        ";",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        ":",
        "::",
        ",",
        "=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "node",
        "group",
        "param",
        "courier",
        "worker",
        "fn",
        "process",
        "replica",
        "replicas",
        "producer",
        "Producer",
        "\"s\"",
        "1",
        "0",
        "-1",
        "250ms",
        "1.5",
        "true",
        "u32",
        "String",
        "Duration",
        "//",
        "/*",
        "*/",
        "\n",
        "10 ms",
        "ms",
        "<",
        ">",
        "&",
        "'a",
        "Vec<u8>",
        "[u8; 4]",
        "std::time::Duration",
        "\0",
        "\u{1b}",
        "\u{85}",
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

/// A few bytes that make a file not `.lp` text, whatever surrounds them: a control character
/// (C0 but the whitespace ones, DEL, a C1 in UTF-8), a byte that is never UTF-8, a sequence
/// cut short, a UTF-16 byte order mark.
fn bad_bytes() -> impl Strategy<Value = Vec<u8>> {
    let one = prop_oneof![
        (0u8..0x20)
            .prop_filter("not whitespace", |b| !matches!(
                b,
                b'\t' | b'\n' | b'\r' | 0x0C
            ))
            .prop_map(|b| vec![b]),
        Just(vec![0x7F]),
        (0x80u8..0xA0).prop_map(|b| vec![0xC2, b]),
        prop_oneof![Just(0xC0u8), Just(0xC1), 0xF5u8..=0xFF].prop_map(|b| vec![b]),
        Just(vec![0xE2, 0x82, b'x']),
        Just(vec![0xFF, 0xFE]),
    ];
    prop::collection::vec(one, 1..6).prop_map(|parts| parts.concat())
}

/// A corpus file with bad bytes put in at one or two places, or random bytes.
fn hostile() -> impl Strategy<Value = Vec<u8>> {
    let inserted = (
        prop::sample::select(corpus()),
        prop::collection::vec((any::<prop::sample::Index>(), bad_bytes()), 1..3),
    )
        .prop_map(|(base, inserts)| {
            let mut bytes = base.into_bytes();
            for (at, bad) in inserts {
                let at = at.index(bytes.len() + 1);
                bytes.splice(at..at, bad);
            }
            bytes
        });
    prop_oneof![
        4 => inserted,
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn check_never_panics(text in mutated()) {
        let dir = tempfile::tempdir().expect("temp dir");
        let lp = dir.path().join("case.lp");
        std::fs::write(&lp, &text).expect("write case");
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed");
        let checked = lpc_build::driver::check_package(&fixture, &[lp]).expect("readable case");
        if checked.package.is_none() {
            prop_assert!(checked.diagnostics.has_errors());
        }
        let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
        render::human_string(&checked.sources, &diagnostics);
        if let Some(code) = checked.generate(&[], &Runtime::default()) {
            prop_assert!(syn::parse_file(&code).is_ok(), "generated code does not parse:\n{code}");
        }
    }

    #[test]
    fn bytes_that_are_not_text_give_coded_errors(bytes in hostile()) {
        let dir = tempfile::tempdir().expect("temp dir");
        let lp = dir.path().join("case.lp");
        std::fs::write(&lp, &bytes).expect("write case");
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed");
        let checked = lpc_build::driver::check_package(&fixture, &[lp]).expect("readable case");
        prop_assert!(checked.diagnostics.has_errors());
        prop_assert!(checked.package.is_none());
        let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
        let text = render::human_string(&checked.sources, &diagnostics);
        prop_assert!(text.contains("error[E"), "{text}");
        for diagnostic in &diagnostics {
            prop_assert!(diagnostic.code.as_str().starts_with('E'), "{diagnostic:?}");
            prop_assert!(diagnostic.labels.iter().any(|l| l.primary), "no primary label: {diagnostic:?}");
        }
    }
}
