//! Golden tests of diagnostics: each case is `tests/cases/<name>/main.lp`, checked against the
//! case's own `src/lib.rs` when it has one, else against `tests/fixtures/seed`. The snapshot
//! shows the source, then the rendered diagnostics, colour-free. See `tests/README.md`.

use lpc_build::diag::render;

#[test]
fn diagnostics() {
    insta::glob!("cases/*/main.lp", |path| {
        let case = path.parent().expect("a case directory");
        let package = if case.join("src/lib.rs").is_file() {
            case.to_path_buf()
        } else {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed")
        };
        let source = shown(&std::fs::read(path).expect("readable case"));
        let relative = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .expect("case inside the crate")
            .to_path_buf();
        let checked = lpc_build::driver::check_package(&package, &[relative]).expect("case checks");
        let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
        let rendered = render::human_string(&checked.sources, &diagnostics);
        insta::assert_snapshot!(format!("{source}\n----- diagnostics -----\n{rendered}"));
    });
}

/// A case's text for its snapshot: bytes that are not UTF-8 (E0004) decoded as `lpc check`
/// decodes them, control characters (E0003) escaped so that the snapshot stays text.
fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| match c {
            '\n' | '\t' | '\r' => c.to_string(),
            _ if c.is_control() => c.escape_debug().to_string(),
            _ => c.to_string(),
        })
        .collect()
}
