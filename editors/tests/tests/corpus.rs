//! The corpus itself: it holds the files it should, and `lpc`'s own parser accepts every one of
//! them (so an editor test failing on a corpus file is the editor grammar's fault).

use lp_editors::{corpus, relative, repo_root, syntax_cases};
use lpc_build::diag::{Code, Diagnostics, FileId};

#[test]
fn the_corpus_holds_the_examples_the_valid_cases_and_the_showcase() {
    let files: Vec<String> = corpus().iter().map(|f| relative(f)).collect();
    for expected in [
        "examples/consumer_producers/consumer_producers.lp",
        "editors/tests/corpus/showcase.lp",
        "compiler/build/tests/cases/seed_ok/main.lp",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "`{expected}` is missing from the corpus: {files:#?}"
        );
    }
    let cases = syntax_cases();
    assert!(
        cases.iter().any(|c| c.valid) && cases.iter().any(|c| !c.valid),
        "could not tell valid compiler cases from invalid ones by their snapshots: {cases:#?}"
    );
    assert!(
        !files.iter().any(|f| f.contains("E0001")),
        "a case with a syntax error is in the corpus: {files:#?}"
    );
}

#[test]
fn lpc_parses_every_corpus_file_without_a_syntax_error() {
    for file in corpus() {
        let text = std::fs::read_to_string(&file).expect("a readable corpus file");
        let mut diags = Diagnostics::default();
        lpc_build::syntax::parse(FileId(0), &text, &mut diags);
        let syntax: Vec<_> = diags
            .iter()
            .filter(|d| matches!(d.code, Code::Syntax | Code::InvalidLiteral))
            .map(|d| d.message.clone())
            .collect();
        assert!(
            syntax.is_empty(),
            "{}: lpc reports {syntax:?}",
            relative(&file)
        );
    }
    assert!(repo_root().join("grammar/lp.pest").is_file());
}
