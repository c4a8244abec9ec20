//! Robustness: every feature, on every prefix of a program and at every offset, answers or
//! declines, and never panics.

use super::analysis::Analysis;
use super::crates::Crates;
use super::documents::Document;
use super::position::{LineIndex, LspPositions as _};
use super::tokens;
use super::{actions, completion, definition, format, hints, hover, rename, signature, symbols};
use std::path::Path;

const TEXT: &str = "use crate::nodes::{Consumer, Producer as P};\n/// doc\nprogram p {\n    \
    param n: u32 = 2;\n    group g[n * 2] = courier P::new() { env { A: \"x\" } batch work { size: 2 } }\n    \
    process q { node c = courier Consumer::new(producers: g, x: g[0], y: [n]); }\n    \
    node f = fn crate::nodes::setup(r: -n) { restart: on_failure(max: 3) }\n}\n";

/// A package with the seed fixture's node types.
fn package() -> tempfile::TempDir {
    let package = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        package.path().join("Cargo.toml"),
        "[package]\nname = \"seed\"\n",
    )
    .expect("write Cargo.toml");
    std::fs::create_dir(package.path().join("src")).expect("mkdir src");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("build/tests/fixtures/seed/src");
    for file in ["lib.rs", "nodes.rs"] {
        std::fs::copy(fixture.join(file), package.path().join("src").join(file))
            .expect("copy the fixture");
    }
    package
}

/// Every request at `offset` of an analysis.
fn everything_at(analysis: &Analysis, offset: usize) {
    let _ = hover::hover(analysis, offset);
    let _ = definition::definition(analysis, offset);
    let _ = completion::complete(analysis, offset);
    let _ = signature::help(analysis, offset);
    if let Ok(Some(occurrences)) = rename::at(analysis, offset) {
        let _ = rename::refuse(&occurrences, "fresh");
    }
}

/// Every prefix of a program (each a broken program but the last), queried at every offset:
/// every feature answers or declines, never panics. Both without a package and inside one with
/// the seed fixture's node types.
#[test]
fn no_prefix_of_a_program_and_no_offset_panics() {
    let package = package();
    let inside = package.path().join("x.lp");
    let mut crates = Crates::default();
    let uri = super::uri::from_path(&inside).expect("a uri");
    for path in [Path::new("/nonexistent/x.lp"), inside.as_path()] {
        let krate = crates.for_document(path).ok();
        for end in (0..=TEXT.len()).filter(|&i| TEXT.is_char_boundary(i)) {
            let document = Document::new(TEXT[..end].to_string(), 1);
            let analysis = Analysis::new(&document, Some(path.to_path_buf()), krate.clone());
            for offset in 0..=end + 1 {
                everything_at(&analysis, offset);
            }
            let _ = format::format(&document.text);
            let _ = symbols::document(analysis.file, analysis.text);
            let _ = tokens::tokens(&analysis);
            let _ = hints::hints(&analysis, 0..end);
            let (diagnostics, _) = super::diagnostics::check(Some(path), &document, &mut crates);
            let _ = actions::actions(&analysis, &uri, &diagnostics);
        }
    }
    // Inside the package, the whole program resolves against the fixture's types.
    let document = Document::new(TEXT.to_string(), 1);
    let analysis = Analysis::new(
        &document,
        Some(inside.clone()),
        crates.for_document(&inside).ok(),
    );
    let at = TEXT.find("Consumer::new").expect("in the text");
    let (shown, _) = hover::hover(&analysis, at).expect("a hover on `Consumer`");
    assert!(shown.contains("crate::nodes::Consumer"), "{shown}");
    assert!(definition::definition(&analysis, at).is_some());
    let hints = hints::hints(&analysis, 0..TEXT.len());
    let index = LineIndex::new(TEXT);
    let count = index.position(TEXT.find("n * 2").expect("the count") + 5);
    assert!(hints.iter().any(|h| h.position == count), "{hints:?}");
}
