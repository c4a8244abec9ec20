//! `lpc graph`: the topology of the checked example programs as dot, Mermaid and SVG.

use lpc::graph::{render, Format};
use lpc_build::check::model::Program;
use std::path::{Path, PathBuf};

/// The checked programs of the package in `dir` (relative to the workspace root).
fn programs(dir: &str) -> Vec<Program> {
    let package = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let lp_files = lpc_build::driver::lp_files(&package);
    assert!(
        !lp_files.is_empty(),
        "no .lp files in {}",
        package.display()
    );
    let checked = lpc_build::driver::check_package(&package, &lp_files).expect("package checks");
    let diagnostics: Vec<_> = checked.diagnostics.iter().collect();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    checked.package.expect("checked package").programs
}

fn program(dir: &str, name: &str) -> Program {
    programs(dir)
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no program {name} in {dir}"))
}

fn seed() -> Program {
    program("examples/consumer_producers", "consumer_producers")
}

#[test]
fn seed_dot() {
    let dot = render(&seed(), Format::Dot);
    assert!(dot.contains("\"consumer\" -> \"producer\" [label=\"producers\"]"));
    insta::assert_snapshot!(dot);
}

#[test]
fn seed_mermaid() {
    insta::assert_snapshot!(render(&seed(), Format::Mermaid));
}

#[test]
fn kinds_dot_and_mermaid() {
    let kinds = program("tests", "kinds");
    let dot = render(&kinds, Format::Dot);
    assert!(dot.contains("actor ×num_actors"), "{dot}");
    assert!(dot.contains("echo ×2"), "{dot}");
    assert!(dot.contains("[label=\"echo: echo[1]\"]"), "{dot}");
    assert!(dot.contains("fn announce"), "{dot}");
    let mermaid = render(&kinds, Format::Mermaid);
    assert!(
        mermaid.contains("actor(\"actor ×num_actors<br/>worker Actor\")"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("learner -->|\"echo: echo[1]\"| echo"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("echo -->|\"learner\"| learner"),
        "{mermaid}"
    );
}

/// A light well-formedness check: one root `<svg>` element, every tag closed.
fn assert_svg(svg: &str, labels: &[&str]) {
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    let mut open: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("tag closed") + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name), "mismatched </{name}>");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().expect("tag name");
            open.push(name);
        }
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
    for label in labels {
        assert!(svg.contains(label), "missing {label:?} in\n{svg}");
    }
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
}

#[test]
fn seed_svg() {
    let svg = render(&seed(), Format::Svg);
    assert_svg(
        &svg,
        &[
            "producer ×num_producers",
            "courier Producer",
            ">consumer<",
            "courier Consumer",
            ">producers<",
        ],
    );
    assert_eq!(svg, render(&seed(), Format::Svg), "deterministic");
}

#[test]
fn kinds_svg() {
    let svg = render(&program("tests", "kinds"), Format::Svg);
    assert_svg(
        &svg,
        &[
            "learner",
            "courier Learner",
            "echo ×2",
            "actor ×num_actors",
            "worker Actor",
            "echo: echo[1]",
        ],
    );
}

/// `docs/consumer_producers.svg` (shown in the README) is the seed program's current picture;
/// `LP_UPDATE_DOCS=1` rewrites it.
#[test]
fn docs_svg_is_current() {
    let path: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/consumer_producers.svg");
    let svg = render(&seed(), Format::Svg);
    if std::env::var_os("LP_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &svg).expect("write docs svg");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == svg,
        "{} is out of date: run `LP_UPDATE_DOCS=1 cargo test -p lpc --test graph`",
        path.display()
    );
}

#[test]
fn format_names() {
    for format in [Format::Dot, Format::Mermaid, Format::Svg] {
        assert_eq!(Format::from_name(format.name()), Some(format));
    }
    assert_eq!(Format::from_name("png"), None);
}

/// Unusual shapes: a group holding handles to itself (all, one, its own replica), several
/// handles from one node to another, a node named like a Mermaid keyword, and no nodes at all.
#[test]
fn unusual_programs_render() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("src")).expect("src");
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"odd\"\n").expect("manifest");
    std::fs::write(
        dir.path().join("src/lib.rs"),
        r#"
pub struct Peer;
impl Peer {
    pub fn new(peers: Vec<lp::Handle<Peer>>, first: lp::Handle<Peer>, me: lp::Handle<Peer>) -> Self { Peer }
    pub fn ping(&self) -> u32 { 1 }
}
pub struct Watcher;
impl Watcher {
    pub fn new(one: lp::Handle<Peer>, some: Vec<lp::Handle<Peer>>) -> Self { Watcher }
}
impl lp::Run for Watcher {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> { Ok(()) }
}
"#,
    )
    .expect("lib.rs");
    let lp = dir.path().join("odd.lp");
    std::fs::write(
        &lp,
        r#"
use crate::{Peer, Watcher};
program odd {
    param n: u32 = 2;
    group peer[(n + 1) * 2 - 1] = courier Peer::new(peers: peer, first: peer[0], me: peer[replica]);
    node end = worker Watcher::new(one: peer[n - 1], some: [peer[0], peer[1]]);
}
program empty {}
"#,
    )
    .expect("odd.lp");
    let checked = lpc_build::driver::check_package(dir.path(), &[lp]).expect("checks");
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let programs = checked.package.expect("checked").programs;
    for program in &programs {
        for format in [Format::Dot, Format::Mermaid] {
            assert!(!render(program, format).is_empty());
        }
        assert_svg(&render(program, Format::Svg), &[]);
    }
    let odd = &programs[0];
    let dot = render(odd, Format::Dot);
    for edge in [
        r#""peer" -> "peer" [label="peers"];"#,
        r#""peer" -> "peer" [label="first: peer[0]"];"#,
        r#""peer" -> "peer" [label="me: peer[replica]"];"#,
        r#""end" -> "peer" [label="one: peer[n - 1]"];"#,
        r#""end" -> "peer" [label="some: peer[0]"];"#,
        r#""end" -> "peer" [label="some: peer[1]"];"#,
    ] {
        assert!(dot.contains(edge), "missing {edge} in {dot}");
    }
    assert!(dot.contains("peer ×(n + 1) * 2 - 1"), "{dot}");
    let mermaid = render(odd, Format::Mermaid);
    assert!(
        mermaid.contains("n_end(\""),
        "`end` is reserved in Mermaid: {mermaid}"
    );
    let svg = render(odd, Format::Svg);
    assert!(svg.contains("some: peer[0], some: peer[1]"), "{svg}");
}

/// The checked program of diagnostic case `name` (checked against the seed fixture).
fn case(name: &str) -> Program {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("build/tests");
    let lp = root.join("cases").join(name).join("main.lp");
    let checked =
        lpc_build::driver::check_package(&root.join("fixtures/seed"), &[lp]).expect("case checks");
    checked.package.expect("checked").programs.remove(0)
}

/// A number attribute of an SVG element's text.
fn attr(element: &str, name: &str) -> f64 {
    let start = element
        .find(&format!(" {name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {element}"))
        + name.len()
        + 3;
    let value = &element[start..];
    value[..value.find('"').expect("quoted")]
        .parse()
        .expect("a number")
}

/// The frames of `process` blocks in an SVG (dashed rectangles): x, y, width, height.
fn frames(svg: &str) -> Vec<(f64, f64, f64, f64)> {
    svg.lines()
        .filter(|l| l.starts_with("<rect") && l.contains("stroke-dasharray"))
        .map(|l| {
            (
                attr(l, "x"),
                attr(l, "y"),
                attr(l, "width"),
                attr(l, "height"),
            )
        })
        .collect()
}

/// Where the `<text>` reading `text` is.
fn text_at(svg: &str, text: &str) -> (f64, f64) {
    let line = svg
        .lines()
        .find(|l| l.starts_with("<text") && l.ends_with(&format!(">{text}</text>")))
        .unwrap_or_else(|| panic!("no text {text:?} in\n{svg}"));
    (attr(line, "x"), attr(line, "y"))
}

fn inside((x, y): (f64, f64), (fx, fy, fw, fh): (f64, f64, f64, f64)) -> bool {
    x > fx && x < fx + fw && y > fy && y < fy + fh
}

#[test]
fn process_blocks_are_clusters() {
    let program = case("ok_process_block");
    let dot = render(&program, Format::Dot);
    assert!(dot.contains("subgraph \"cluster_workers\" {"), "{dot}");
    let mermaid = render(&program, Format::Mermaid);
    assert!(
        mermaid.contains(
            "    subgraph process_workers[\"process workers\"]\n        producer\n    end\n"
        ),
        "{mermaid}"
    );
    let svg = render(&program, Format::Svg);
    assert_svg(&svg, &["producer ×2", ">process workers<"]);
    assert!(
        !svg.contains("in process"),
        "a frame, not a line of text:\n{svg}"
    );
    let [frame] = frames(&svg)[..] else {
        panic!("one frame:\n{svg}")
    };
    assert!(inside(text_at(&svg, "producer ×2"), frame), "{svg}");
    assert!(!inside(text_at(&svg, "consumer"), frame), "{svg}");
}

/// Two `process` blocks, each drawn as a frame around its own nodes only, and edges into and
/// out of the frames, and within one.
#[test]
fn two_process_blocks() {
    let program = case("ok_two_process_blocks");
    let dot = render(&program, Format::Dot);
    insta::assert_snapshot!("two_process_blocks_dot", dot);
    insta::assert_snapshot!(
        "two_process_blocks_mermaid",
        render(&program, Format::Mermaid)
    );
    let svg = render(&program, Format::Svg);
    assert_svg(
        &svg,
        &[">process learning<", ">process production<", ">learner<"],
    );
    assert_eq!(svg, render(&program, Format::Svg), "deterministic");
    let frames = frames(&svg);
    assert_eq!(frames.len(), 2, "{svg}");
    let frame_of = |label: &str| {
        let at = text_at(&svg, label);
        frames
            .iter()
            .copied()
            .find(|f| inside(at, *f))
            .unwrap_or_else(|| panic!("{label} is in no frame:\n{svg}"))
    };
    let learning = frame_of("process learning");
    let production = frame_of("process production");
    assert_ne!(learning, production);
    for (node, frame) in [
        ("learner", learning),
        ("actor", learning),
        ("producer ×2", production),
        ("consumer", production),
    ] {
        assert_eq!(frame_of(node), frame, "{node}:\n{svg}");
    }
    let far = text_at(&svg, "far");
    assert!(!inside(far, learning) && !inside(far, production), "{svg}");
    insta::assert_snapshot!("two_process_blocks_svg", svg);
}
