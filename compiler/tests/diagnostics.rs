//! Golden tests of diagnostics: each case is `tests/cases/<name>/main.lp`, checked against the
//! case's own `src/lib.rs` when it has one, else against `tests/fixtures/seed`. The snapshot
//! shows the source, then the rendered diagnostics, colour-free. See `tests/README.md`.

use lpc::diag::render;

#[test]
fn diagnostics() {
    insta::glob!("cases/*/main.lp", |path| {
        let case = path.parent().expect("a case directory");
        let package = if case.join("src/lib.rs").is_file() {
            case.to_path_buf()
        } else {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed")
        };
        let source = std::fs::read_to_string(path).expect("readable case");
        let relative = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .expect("case inside the crate")
            .to_path_buf();
        let checked = lpc::driver::check_package(&package, &[relative]).expect("case checks");
        let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
        let rendered = render::human_string(&checked.sources, &diagnostics);
        let json = render::json_lines(&checked.sources, &diagnostics);
        for line in json.lines() {
            let value: serde_json::Value = serde_json::from_str(line).expect("valid JSON");
            assert!(
                value["code"].is_string(),
                "json diagnostic without code: {line}"
            );
        }
        insta::assert_snapshot!(format!("{source}\n----- diagnostics -----\n{rendered}"));
    });
}
