//! Tests of the front end: ASTs of valid programs, wording and recovery of syntax errors, and
//! robustness on hostile input.

use super::ast::*;
use super::parse;
use crate::diag::{Diagnostic, Diagnostics, FileId};

/// Parses `text` as file 0.
fn parse_str(text: &str) -> (File, Vec<Diagnostic>) {
    let mut diags = Diagnostics::default();
    let file = parse(FileId(0), text, &mut diags);
    (file, diags.iter().cloned().collect())
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |n| before.len() - n - 1)
        + 1;
    (line, col)
}

/// A colour-free rendering, enough to read a diagnostic in a test failure or a report.
fn render(text: &str, d: &Diagnostic) -> String {
    let mut out = format!("error[{}]: {}\n", d.code.as_str(), d.message);
    for label in &d.labels {
        let (line, col) = line_col(text, label.span.range.start);
        let src = text.lines().nth(line - 1).unwrap_or("");
        let width = (label.span.range.end - label.span.range.start).max(1);
        let mark = if label.primary { '^' } else { '-' };
        out += &format!(
            "  --> {line}:{col}\n   | {src}\n   | {}{} {}\n",
            " ".repeat(col - 1),
            mark.to_string()
                .repeat(width.min(src.len().saturating_sub(col - 1).max(1))),
            label.message
        );
    }
    for note in &d.notes {
        out += &format!("   = note: {note}\n");
    }
    if let Some(help) = &d.help {
        out += &format!("   = help: {help}\n");
    }
    out
}

fn render_all(text: &str, diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| render(text, d))
        .collect::<Vec<_>>()
        .join("\n")
}

const SEED: &str = "use crate::nodes::{Consumer, Producer};

/// One consumer sends work to every producer and summarizes the results.
program consumer_producers {
    /// The number of concurrent producers.
    param num_producers: u32 = 2;

    group producer[num_producers] = courier Producer::new();

    node consumer = courier Consumer::new(producers: producer);
}
";

const BLOCKS: &str = "program learning {
    param num_actors: u32;
    node learner = courier Learner::new();
    node server = courier Server::new(batch_size: 8) {
        batch compute { size: 8, timeout: 200ms, max_parallelism: 1 }
    }
    group actor[num_actors] = worker Actor::new(learner: learner, seed: 42 + replica) {
        resources { cpus: 1, memory: \"2Gi\", gpus: 0 }
        env { RUST_LOG: \"info\" }
        restart: on_failure(max: 3, backoff: 1s)
    }
    process colocated {
        node a = fn crate::jobs::run(peers: actor, first: actor[0], n: replicas,);
        group b[2 * (num_actors + 1)] = courier B::new();
    }
}
";

/// Parses text that must be valid.
fn parse_ok(text: &str) -> File {
    let (file, diags) = parse_str(text);
    assert!(diags.is_empty(), "{}", render_all(text, &diags));
    file
}

fn at<'a>(text: &'a str, span: &crate::diag::Span) -> &'a str {
    &text[span.range.clone()]
}

fn program(file: &File, i: usize) -> &Program {
    match &file.items[i] {
        Item::Program(p) => p,
        Item::Use(u) => panic!("expected a program, got {u:?}"),
    }
}

fn node(item: &ProgramItem) -> &NodeDecl {
    match item {
        ProgramItem::Node(n) => n,
        other => panic!("expected a node, got {other:?}"),
    }
}

#[test]
fn seed_program() {
    let file = parse_ok(SEED);
    assert_eq!(file.items.len(), 2);
    let Item::Use(u) = &file.items[0] else {
        panic!()
    };
    assert_eq!(u.imports.len(), 2);
    assert_eq!(u.imports[0].path.to_string(), "crate::nodes::Consumer");
    assert_eq!(u.imports[1].name.name, "Producer");
    assert_eq!(at(SEED, &u.imports[1].name.span), "Producer");
    assert_eq!(at(SEED, &u.span), "use crate::nodes::{Consumer, Producer};");

    let p = program(&file, 1);
    assert_eq!(p.name.name, "consumer_producers");
    assert_eq!(
        p.doc.as_deref(),
        Some("One consumer sends work to every producer and summarizes the results.")
    );
    assert!(at(SEED, &p.span).starts_with("program consumer_producers {"));
    assert!(at(SEED, &p.span).ends_with('}'));
    assert_eq!(p.items.len(), 3);

    let ProgramItem::Param(param) = &p.items[0] else {
        panic!()
    };
    assert_eq!(
        param.doc.as_deref(),
        Some("The number of concurrent producers.")
    );
    assert_eq!(param.name.name, "num_producers");
    assert_eq!(param.ty.name, "u32");
    assert_eq!(
        param.default.as_ref().map(|e| &e.kind),
        Some(&ExprKind::Int(2))
    );
    assert_eq!(at(SEED, &param.span), "param num_producers: u32 = 2;");

    let group = node(&p.items[1]);
    assert_eq!(group.name.name, "producer");
    assert!(group.is_group());
    let count = group.count.as_ref().unwrap();
    assert!(matches!(&count.kind, ExprKind::Name(n) if n.name == "num_producers"));
    assert_eq!(at(SEED, &count.span), "num_producers");
    assert_eq!(group.kind, NodeKind::Courier);
    assert_eq!(at(SEED, &group.kind_span), "courier");
    assert_eq!(group.target.to_string(), "Producer::new");
    assert!(group.args.is_empty());
    assert_eq!(at(SEED, &group.args_span), "()");
    assert!(group.block.is_none());
    assert_eq!(
        at(SEED, &group.span),
        "group producer[num_producers] = courier Producer::new();"
    );

    let consumer = node(&p.items[2]);
    assert_eq!(consumer.count, None);
    assert_eq!(consumer.args.len(), 1);
    assert_eq!(consumer.args[0].name.name, "producers");
    assert!(matches!(&consumer.args[0].value.kind, ExprKind::Name(n) if n.name == "producer"));
    assert_eq!(at(SEED, &consumer.args[0].span), "producers: producer");
    assert_eq!(at(SEED, &consumer.args_span), "(producers: producer)");
}

#[test]
fn blocks_processes_and_expressions() {
    let file = parse_ok(BLOCKS);
    let p = program(&file, 0);
    let ProgramItem::Param(param) = &p.items[0] else {
        panic!()
    };
    assert!(param.default.is_none());

    let server = node(&p.items[2]);
    let block = server.block.as_ref().unwrap();
    let [BlockEntry::Batch(batch)] = block.entries.as_slice() else {
        panic!("{block:?}")
    };
    assert_eq!(batch.method.name, "compute");
    assert_eq!(at(BLOCKS, &batch.keyword), "batch");
    assert_eq!(batch.fields.len(), 3);
    assert_eq!(
        batch.fields[1].value.kind,
        ExprKind::Duration(std::time::Duration::from_millis(200))
    );
    assert!(at(BLOCKS, &server.span).ends_with("max_parallelism: 1 }\n    }"));

    let actor = node(&p.items[3]);
    assert_eq!(actor.kind, NodeKind::Worker);
    let ExprKind::Binary { op, lhs, rhs } = &actor.args[1].value.kind else {
        panic!()
    };
    assert_eq!(*op, BinOp::Add);
    assert_eq!(lhs.kind, ExprKind::Int(42));
    assert_eq!(rhs.kind, ExprKind::Replica);
    assert_eq!(at(BLOCKS, &actor.args[1].value.span), "42 + replica");
    let entries = &actor.block.as_ref().unwrap().entries;
    assert_eq!(entries.len(), 3);
    let BlockEntry::Section(resources) = &entries[0] else {
        panic!()
    };
    assert_eq!(resources.name.name, "resources");
    assert_eq!(resources.fields[1].value.kind, ExprKind::Str("2Gi".into()));
    let BlockEntry::Section(env) = &entries[1] else {
        panic!()
    };
    assert_eq!(env.fields[0].name.name, "RUST_LOG");
    let BlockEntry::Setting(restart) = &entries[2] else {
        panic!()
    };
    assert_eq!(restart.name.name, "restart");
    let ExprKind::Call { name, args } = &restart.value.kind else {
        panic!()
    };
    assert_eq!(name.name, "on_failure");
    assert_eq!(args[0].value.kind, ExprKind::Int(3));
    assert_eq!(
        args[1].value.kind,
        ExprKind::Duration(std::time::Duration::from_secs(1))
    );
    assert_eq!(
        at(BLOCKS, &restart.span),
        "restart: on_failure(max: 3, backoff: 1s)"
    );

    let ProgramItem::Process(process) = &p.items[4] else {
        panic!()
    };
    assert_eq!(process.name.name, "colocated");
    assert_eq!(process.nodes.len(), 2);
    let a = &process.nodes[0];
    assert_eq!(a.kind, NodeKind::Fn);
    assert_eq!(a.target.to_string(), "crate::jobs::run");
    assert_eq!(a.args.len(), 3);
    let ExprKind::Index { base, index } = &a.args[1].value.kind else {
        panic!()
    };
    assert_eq!(base.name, "actor");
    assert_eq!(index.kind, ExprKind::Int(0));
    assert_eq!(a.args[2].value.kind, ExprKind::Replicas);
    let count = process.nodes[1].count.as_ref().unwrap();
    assert_eq!(at(BLOCKS, &count.span), "2 * (num_actors + 1)");
    let ExprKind::Binary {
        op: BinOp::Mul,
        rhs,
        ..
    } = &count.kind
    else {
        panic!()
    };
    assert_eq!(at(BLOCKS, &rhs.span), "(num_actors + 1)");
    assert!(at(BLOCKS, &process.span).starts_with("process colocated {"));
    assert!(at(BLOCKS, &process.span).ends_with('}'));
}

/// The whole-file rule of the grammar accepts what the item-by-item parser accepts.
#[test]
fn file_rule_agrees() {
    use super::grammar::{LpParser, Rule};
    use pest::Parser;
    for text in [SEED, BLOCKS, LITERALS, ""] {
        LpParser::parse(Rule::file, text).unwrap();
    }
}

const LITERALS: &str = "use a::B as C;
use a::{b::D, E as F,};
//// not a doc
/* a /* nested */ comment */
program p {
    param a: u64 = 1_000_000;
    param b: f64 = 1.5e3;
    param c: String = \"tab\\t quote\\\" \\u{1F600} \\x41\\
                       continued\";
    param d: Duration = 5m;
    param e: Duration = 1h;
    param f: i64 = -(3 - -4) % 2 / 1;
    param g: bool = false;
    param h: u32 = 0xff;
    node n = courier N::new(list: [1, [2, 3], \"x\"], empty: []);
}
";

#[test]
fn literals() {
    let file = parse_ok(LITERALS);
    let Item::Use(u) = &file.items[0] else {
        panic!()
    };
    assert_eq!(u.imports[0].path.to_string(), "a::B");
    assert_eq!(u.imports[0].name.name, "C");
    assert_eq!(u.imports[0].alias.as_ref().unwrap().name, "C");
    let Item::Use(u) = &file.items[1] else {
        panic!()
    };
    assert_eq!(u.imports.len(), 2);
    assert_eq!(u.imports[0].path.to_string(), "a::b::D");
    assert_eq!(at(LITERALS, &u.imports[0].path.span), "a::{b::D");
    assert_eq!(u.imports[1].name.name, "F");
    let p = program(&file, 2);
    let defaults: Vec<&ExprKind> = p
        .items
        .iter()
        .filter_map(|i| match i {
            ProgramItem::Param(p) => p.default.as_ref().map(|e| &e.kind),
            _ => None,
        })
        .collect();
    assert_eq!(defaults[0], &ExprKind::Int(1_000_000));
    assert_eq!(defaults[1], &ExprKind::Float(1500.0));
    assert_eq!(
        defaults[2],
        &ExprKind::Str("tab\t quote\" 😀 Acontinued".into())
    );
    assert_eq!(
        defaults[3],
        &ExprKind::Duration(std::time::Duration::from_secs(300))
    );
    assert_eq!(
        defaults[4],
        &ExprKind::Duration(std::time::Duration::from_secs(3600))
    );
    let ExprKind::Binary {
        op: BinOp::Div,
        lhs,
        ..
    } = defaults[5]
    else {
        panic!("{:?}", defaults[5])
    };
    let ExprKind::Binary {
        op: BinOp::Rem,
        lhs,
        ..
    } = &lhs.kind
    else {
        panic!()
    };
    assert!(matches!(lhs.kind, ExprKind::Neg(_)));
    assert_eq!(defaults[6], &ExprKind::Bool(false));
    assert_eq!(defaults[7], &ExprKind::Int(255));
    let n = node(&p.items[8]);
    let ExprKind::List(items) = &n.args[0].value.kind else {
        panic!()
    };
    assert_eq!(items.len(), 3);
    assert_eq!(n.args[1].value.kind, ExprKind::List(vec![]));
}

#[test]
fn doc_comments() {
    let text = "/// First line.\n///\n///   indented\n///no space\nprogram p {\n    /// A node.\n    // plain\n    node a = courier A::new();\n    //// not a doc\n    param x: u32;\n}\n";
    let file = parse_ok(text);
    let p = program(&file, 0);
    assert_eq!(
        p.doc.as_deref(),
        Some("First line.\n\n  indented\nno space")
    );
    assert_eq!(at(text, &p.span).lines().next(), Some("program p {"));
    assert_eq!(node(&p.items[0]).doc.as_deref(), Some("A node."));
    assert_eq!(
        at(text, &node(&p.items[0]).span),
        "node a = courier A::new();"
    );
    let ProgramItem::Param(param) = &p.items[1] else {
        panic!()
    };
    assert_eq!(param.doc, None);
}

#[test]
fn keywords_are_allowed_in_rust_paths_and_arguments() {
    let text = "use crate::node::{group as G};\nprogram p {\n    node a = worker crate::worker::Worker::new(node: 1, group: 2) { batch: 1 }\n}\n";
    let file = parse_ok(text);
    let n = node(&program(&file, 1).items[0]);
    assert_eq!(n.target.to_string(), "crate::worker::Worker::new");
    assert_eq!(n.args[0].name.name, "node");
}

/// Three broken items, each followed by a valid one: three errors, and the valid items parsed.
#[test]
fn recovers_at_the_next_item() {
    let text = "use a::b:C;
use a::Ok1;
program p {
    param x u32 = 1;
    node ok2 = courier A::new();
    node y = courier B::new(a: (1 + );
    group ok3[2] = courier C::new();
    process q {
        node z = courier D:new();
        node ok4 = courier D::new();
    }
    node ok5 = courier E::new();
}
program ok6 {}
";
    let (file, diags) = parse_str(text);
    assert_eq!(diags.len(), 4, "{}", render_all(text, &diags));
    let lines: Vec<usize> = diags
        .iter()
        .map(|d| line_col(text, d.labels[0].span.range.start).0)
        .collect();
    assert_eq!(lines, [1, 4, 6, 9]);
    assert_eq!(file.items.len(), 3);
    let p = program(&file, 1);
    let names: Vec<&str> = p
        .items
        .iter()
        .map(|i| match i {
            ProgramItem::Node(n) => n.name.name.as_str(),
            ProgramItem::Process(p) => p.name.name.as_str(),
            ProgramItem::Param(p) => p.name.name.as_str(),
        })
        .collect();
    assert_eq!(names, ["ok2", "ok3", "q", "ok5"]);
    let ProgramItem::Process(q) = &p.items[2] else {
        panic!()
    };
    assert_eq!(q.nodes.len(), 1);
    assert_eq!(q.nodes[0].name.name, "ok4");
    assert_eq!(program(&file, 2).name.name, "ok6");
}

/// The message, primary label text and help of the only diagnostic for `text`.
fn one_error(text: &str) -> (String, String, Option<String>) {
    let (_, diags) = parse_str(text);
    assert_eq!(diags.len(), 1, "{}", render_all(text, &diags));
    let d = &diags[0];
    println!("{}", render(text, d));
    let primary = d.labels.iter().find(|l| l.primary).unwrap();
    (d.message.clone(), primary.message.clone(), d.help.clone())
}

#[test]
fn missing_semicolon() {
    let text =
        "program p {\n    node a = courier A::new()\n    group b[2] = courier B::new();\n}\n";
    let (message, label, help) = one_error(text);
    assert_eq!(message, "expected `;` or `{`, found `group`");
    assert_eq!(label, "expected `;` or `{` here");
    assert_eq!(help.as_deref(), Some("end the item with `;`"));
    let (_, diags) = parse_str(text);
    let end = text.find("new()").unwrap() + 5;
    assert_eq!(diags[0].labels[0].span.range, end..end);
}

#[test]
fn missing_kind() {
    let (message, label, help) = one_error("program p {\n    node a = Producer::new();\n}\n");
    assert_eq!(
        message,
        "expected `courier`, `worker` or `fn`, found `Producer`"
    );
    assert_eq!(label, "unexpected `Producer`");
    assert!(help.unwrap().contains("`courier Producer::…`"));
}

#[test]
fn equals_in_arguments() {
    let (message, label, help) = one_error("program p {\n    node a = courier A::new(x = 1);\n}\n");
    assert_eq!(message, "expected `:`, found `=`");
    assert_eq!(label, "unexpected `=`");
    assert_eq!(help.as_deref(), Some("arguments are written `name: value`"));
}

#[test]
fn unclosed_braces() {
    let (message, label, help) = one_error("program p {\n    node a = courier A::new();\n");
    assert_eq!(message, "unclosed `{` of program `p`");
    assert_eq!(label, "this `{` is never closed");
    assert!(help.unwrap().contains("add `}`"));

    let text = "program p {\n    node a = courier A::new() {\n        env { A: \"1\" }\n    node b = courier B::new();\n}\n";
    let (file, diags) = parse_str(text);
    assert_eq!(diags.len(), 1, "{}", render_all(text, &diags));
    println!("{}", render(text, &diags[0]));
    assert_eq!(
        diags[0].message,
        "expected a setting name, `batch` or `}`, found `node`"
    );
    assert_eq!(diags[0].labels[1].message, "this `{` is never closed");
    assert_eq!(program(&file, 0).items.len(), 1, "node b is recovered");

    let text = "program p {\n    node a = courier A::new(x: [1, 2);\n}\n";
    let (message, _, _) = one_error(text);
    assert_eq!(message, "expected `,` or `]`, found `)`");

    let text = "program p {\n    node a = courier A::new();\nprogram q {}\n";
    let (file, diags) = parse_str(text);
    assert_eq!(diags.len(), 1, "{}", render_all(text, &diags));
    assert_eq!(
        diags[0].labels[1].message,
        "expected `}` before this `program`"
    );
    assert_eq!(file.items.len(), 2);
}

#[test]
fn more_messages() {
    let cases: &[(&str, &str)] = &[
        (
            "node a = courier A::new();",
            "expected `use` or `program`, found `node`",
        ),
        ("program p { param x = 3; }", "expected `:`, found `=`"),
        (
            "program p { node group = courier A::new(); }",
            "expected a node name, found `group`",
        ),
        (
            "program p { group g = courier A::new(); }",
            "expected `[`, found `=`",
        ),
        (
            "program p { node g[3] = courier A::new(); }",
            "expected `=`, found `[`",
        ),
        (
            "program p { node a = courier A::new(3); }",
            "expected an argument name or `)`, found `3`",
        ),
        (
            "program p { node a = courier A::new(x: 1 y: 2); }",
            "expected `,` or `)`, found `y`",
        ),
        (
            "program p { node a = courier A::new(x: ); }",
            "expected an expression, found `)`",
        ),
        (
            "program p { node a = courier A; }",
            "expected `::` or `(`, found `;`",
        ),
        (
            "program p { node a = courier A::new(x: \"abc); }",
            "unterminated string",
        ),
        (
            "program p { /* never closed }",
            "unterminated block comment",
        ),
        (
            "program p { process q { param x: u32; } }",
            "expected `node`, `group`, a setting or `}`, found `param`",
        ),
        (
            "program { node a = courier A::new(); }",
            "expected a program name, found `{`",
        ),
        ("use a::;", "expected a name or `{`, found `;`"),
        (
            "program p { node a = courier A::new(x: 1 ` 2); }",
            "expected `,` or `)`, found a backtick",
        ),
        (
            "/// dangling",
            "expected `use` or `program`, found end of file",
        ),
    ];
    for (text, message) in cases {
        let (_, diags) = parse_str(text);
        assert!(!diags.is_empty(), "{text}");
        println!("{}", render(text, &diags[0]));
        assert!(
            !diags[0].labels[0].message.contains("unexpected a"),
            "{text}"
        );
        assert_eq!(diags[0].message, *message, "{text}");
        assert_eq!(diags[0].code, crate::diag::Code::Syntax);
    }
}

#[test]
fn control_characters_are_reported_once_then_read_as_spaces() {
    let text = "program p {\0 param n: u32 = \u{7}1;\u{85} }";
    let (file, diags) = parse_str(text);
    let found: Vec<(&str, &str, &str)> = diags
        .iter()
        .map(|d| {
            let span = &d.labels[0].span;
            (
                d.code.as_str(),
                &text[span.range.clone()],
                d.help.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("E0003", "\0", "remove the control character U+0000"),
            ("E0003", "\u{7}", "remove the control character U+0007"),
            ("E0003", "\u{85}", "remove the control character U+0085"),
        ],
        "{}",
        render_all(text, &diags)
    );
    let program = program(&file, 0);
    assert_eq!(program.items.len(), 1, "the param around them still parses");

    // So many that it is not text (UTF-16 here): one diagnostic, and nothing parsed.
    let utf16: String = "program p {}".chars().flat_map(|c| [c, '\0']).collect();
    let (file, diags) = parse_str(&utf16);
    assert_eq!(diags.len(), 1, "{}", render_all(&utf16, &diags));
    assert_eq!(diags[0].labels[0].span.range, 1..2);
    assert!(diags[0].notes[0].contains("UTF-16"), "{:?}", diags[0].notes);
    assert!(file.items.is_empty());
}

#[test]
fn a_word_after_a_number_is_one_error_wherever_an_expression_is() {
    let cases: &[(&str, &str, &str)] = &[
        ("program p { param t: Duration = 10 ms; }", "10 ms", "write `10ms` (no space)"),
        ("program p { param t: Duration = 1.5\ts; }", "1.5\ts", "write `1500ms` (no space)"),
        ("program p { param t: u32 = 3 + 10 parsecs * 2; }", "parsecs", super::units::HOW),
        ("program p { node a = courier A::new(x: [1, 2 min]); }", "2 min", "write `2m` (no space)"),
        ("program p { group g[2 h] = courier A::new(); }", "2 h", "write `2h` (no space)"),
        (
            "program p { node a = courier A::new() { batch f { timeout: 5 s } } }",
            "5 s",
            "write `5s` (no space)",
        ),
        (
            "program p { node a = courier A::new() { restart: on_failure(max: 1, backoff: 1 sec)\n } }",
            "1 sec",
            "write `1s` (no space)",
        ),
    ];
    for (text, at, help) in cases {
        let (file, diags) = parse_str(text);
        assert_eq!(diags.len(), 1, "{text}:\n{}", render_all(text, &diags));
        assert_eq!(diags[0].code, crate::diag::Code::Syntax, "{text}");
        assert_eq!(&text[diags[0].labels[0].span.range.clone()], *at, "{text}");
        assert_eq!(diags[0].help.as_deref(), Some(*help), "{text}");
        assert_eq!(
            program(&file, 0).items.len(),
            1,
            "{text}: the item still parses"
        );
    }
    // A word that starts something else is a missing `,`, not a unit.
    for (text, message) in [
        (
            "program p { node a = courier A::new() { resources { cpus: 1 memory: \"2Gi\" } } }",
            "expected `,` or `}`, found `memory`",
        ),
        (
            "program p { node a = courier A::new() { resources { cpus: 1 memory \"2Gi\" } } }",
            "expected `,` or `}`, found `memory`",
        ),
        (
            "program p { node a = courier A::new() { restart: 3 env { A: \"b\" } } }",
            "",
        ),
    ] {
        let (_, diags) = parse_str(text);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        let expected: Vec<&str> = [message].into_iter().filter(|m| !m.is_empty()).collect();
        assert_eq!(messages, expected, "{text}");
    }
}

#[test]
fn invalid_literals() {
    let text = "program p {\n    node a = courier A::new(a: 5d, b: \"\\q\", c: 340282366920938463463374607431768211456, d: 1.5s, e: 1e999, f: 8u32, g: \"\\u{110000}\", h: 0xfg, i: 99999999999999999h);\n}\n";
    let (file, diags) = parse_str(text);
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "unknown duration unit `d`",
            "unknown escape `\\q`",
            "integer literal is too large",
            "a duration must be a whole number",
            "float literal is out of range",
            "literal suffix `u32` is not allowed",
            "invalid unicode escape",
            "invalid digit `g` in hexadecimal literal",
            "duration is too large",
        ],
        "{}",
        render_all(text, &diags)
    );
    assert!(diags
        .iter()
        .all(|d| d.code == crate::diag::Code::InvalidLiteral));
    let n = node(&program(&file, 0).items[0]);
    assert!(n.args.iter().all(|a| a.value.kind == ExprKind::Error));
    assert_eq!(at(text, &diags[1].labels[0].span), "\\q");
    // u128::MAX itself is fine.
    let (_, diags) =
        parse_str("program p { param a: u128 = 340282366920938463463374607431768211455; }");
    assert!(diags.is_empty());
}

#[test]
fn deep_nesting_is_one_diagnostic() {
    for (open, close) in [("(", ")"), ("[", "]"), ("/*", "*/"), ("{", "}")] {
        let depth = 10_000;
        let text = format!(
            "program p {{\n    node a = courier A::new(x: {}1{});\n    node b = courier B::new();\n}}\nprogram q {{}}\n",
            open.repeat(depth),
            close.repeat(depth)
        );
        let (file, diags) = parse_str(&text);
        assert!(!diags.is_empty());
        assert!(
            diags.iter().any(|d| d.message == "nesting too deep"),
            "{open}: {}",
            render_all(&text, &diags)
        );
        assert!(diags.len() <= 3, "{open}: {}", render_all(&text, &diags));
        assert!(file.items.len() <= 2);
    }
    // Just under the limit parses, in a debug build, on a test thread's stack.
    let depth = super::lex::MAX_DEPTH - 2;
    let text = format!(
        "program p {{ node a = courier A::new(x: {}1{}); }}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    parse_ok(&text);
    let text = format!(
        "program p {{ node a = courier A::new(x: {}{}); }}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    parse_ok(&text);
    // Long chains of operators make deep trees too: refused with one diagnostic.
    for expr in [
        "-".repeat(100_000) + "1",
        "1".to_owned() + &" + 1".repeat(100_000),
    ] {
        let text = format!("program p {{ param a: i64 = {expr}; param b: u32; }}");
        let (file, diags) = parse_str(&text);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages, ["expression too deep"]);
        assert_eq!(program(&file, 0).items.len(), 2);
    }
    let text = format!("program p {{ param a: i64 = 1{}; }}", " * 2".repeat(200));
    parse_ok(&text);
}

#[test]
fn huge_identifier() {
    let name = "x".repeat(1 << 20);
    let text = format!("program p {{ node {name} = courier A::new(); }}");
    let file = parse_ok(&text);
    assert_eq!(node(&program(&file, 0).items[0]).name.name.len(), 1 << 20);
    let text = format!("program p {{ node a = {name}; }}");
    let (_, diags) = parse_str(&text);
    assert_eq!(diags.len(), 1);
    assert!(diags[0].message.len() < 200, "{}", diags[0].message);
}

/// A long file parses whole, and a broken one stops at the error limit (speed is measured by
/// `lp-bench`, not here).
#[test]
fn long_file_parses_and_errors_are_capped() {
    let mut text = String::from("program big {\n");
    for i in 0..5_000 {
        text += &format!(
            "    node n{i} = courier N::new(peer: n{}, k: {i} * 2);\n",
            i / 2
        );
    }
    text += "}\n";
    let file = parse_ok(&text);
    assert_eq!(program(&file, 0).items.len(), 5_000);
    // With an error on every line, recovery goes on and the report stops at the limit.
    let broken = text.replace("courier N::new(peer", "courier N::new(peer =");
    let (_, diags) = parse_str(&broken);
    assert_eq!(diags.len(), super::MAX_ERRORS);
}

#[test]
fn hostile_inputs_do_not_panic() {
    for text in [
        "",
        "\0\0\0",
        "}}}}",
        "program",
        "program p",
        "program p {",
        "program p { node",
        "program p { node a = courier A::new(x: \"\\",
        "program p { node a = courier A::new(x: 1\u{301})",
        "use",
        "use ::;",
        "\u{FEFF}program p {}",
        "program p { process q { process r { } } }",
        "program p { node a = courier A::new() { resources { cpus: } } }",
        "/*",
        "///",
        "\"",
        "ÿ€\u{10FFFF}",
    ] {
        let (_, diags) = parse_str(text);
        if text.trim_start_matches('\u{FEFF}').is_empty() {
            assert!(diags.is_empty());
        }
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn rejected_has_diagnostics(text: &str) {
        let (file, diags) = parse_str(text);
        // Accepted input must agree with the whole-file grammar rule, and rejected input must
        // come with a diagnostic.
        use crate::syntax::grammar::{LpParser, Rule};
        use pest::Parser;
        let whole = LpParser::parse(Rule::file, text).is_ok();
        if !whole {
            assert!(!diags.is_empty(), "rejected without a diagnostic: {text:?}");
        }
        drop(file);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_strings(text in "\\PC{0,200}") {
            rejected_has_diagnostics(&text);
        }

        #[test]
        fn token_soup(tokens in proptest::collection::vec(prop_oneof![
            Just("program"), Just("node"), Just("group"), Just("param"), Just("process"),
            Just("use"), Just("courier"), Just("fn"), Just("a"), Just("A::new"), Just("("),
            Just(")"), Just("{"), Just("}"), Just("["), Just("]"), Just(";"), Just(":"),
            Just("="), Just(","), Just("1"), Just("2s"), Just("\""), Just("///"), Just("\n"),
            Just("/*"), Just("*/"), Just("-"), Just("+"), Just("replica"),
        ], 0..60)) {
            rejected_has_diagnostics(&tokens.join(" "));
        }

        #[test]
        fn mutated_programs(cut in 0usize..2000, len in 0usize..20, insert in "\\PC{0,5}", which in 0usize..3) {
            let base = [SEED, BLOCKS, LITERALS][which];
            let mut start = cut.min(base.len());
            while !base.is_char_boundary(start) { start -= 1; }
            let mut end = (start + len).min(base.len());
            while !base.is_char_boundary(end) { end -= 1; }
            let text = format!("{}{}{}", &base[..start], insert, &base[end..]);
            rejected_has_diagnostics(&text);
        }
    }
}
