//! A Mermaid `flowchart`.

use super::Topology;
use lpc_build::check::model::Kind;

/// Words Mermaid reads as syntax, which cannot be node ids.
const RESERVED: &[&str] = &[
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "direction",
    "style",
    "class",
    "classDef",
    "click",
    "linkStyle",
    "default",
    "call",
    "href",
];

/// Text inside a quoted Mermaid label: quotes and markup characters as entities.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One id per node: its name, unless Mermaid reserves it (then `n_NAME`, made unique).
fn ids(topology: &Topology) -> Vec<String> {
    let names: Vec<&str> = topology
        .boxes
        .iter()
        .map(|b| b.node.name.as_str())
        .collect();
    let mut ids: Vec<String> = Vec::with_capacity(names.len());
    for name in &names {
        let mut id = name.to_string();
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            id = format!("n_{name}");
            while names.contains(&id.as_str()) || ids.contains(&id) {
                id.insert(0, '_');
            }
        }
        ids.push(id);
    }
    ids
}

/// The program as a top-down `flowchart`: couriers are rectangles, workers rounded; groups get
/// the `group` class (a double-width border), `process` blocks are subgraphs; `a -->|arg| b`
/// means `a` holds a handle to `b`.
pub(super) fn render(topology: &Topology) -> String {
    let ids = ids(topology);
    let mut out = String::new();
    out.push_str(&format!(
        "---\ntitle: program {}\n---\nflowchart TB\n",
        escape(&topology.program.name)
    ));
    for (b, id) in topology.boxes.iter().zip(&ids) {
        let label = format!("{}<br/>{}", escape(&b.title), escape(&b.subtitle));
        let (open, close) = match b.node.kind {
            Kind::Courier => ("[", "]"),
            Kind::Worker => ("(", ")"),
        };
        out.push_str(&format!("    {id}{open}\"{label}\"{close}\n"));
    }
    for (process, members) in topology.processes() {
        let mut id = format!("process_{process}");
        while ids.contains(&id) {
            id.insert(0, '_');
        }
        out.push_str(&format!(
            "    subgraph {id}[\"process {}\"]\n",
            escape(process)
        ));
        for i in members {
            if let Some(member) = ids.get(i) {
                out.push_str(&format!("        {member}\n"));
            }
        }
        out.push_str("    end\n");
    }
    for e in &topology.edges {
        let (Some(from), Some(to)) = (ids.get(e.from), ids.get(e.to)) else {
            continue;
        };
        out.push_str(&format!("    {from} -->|\"{}\"| {to}\n", escape(&e.label)));
    }
    let class_of = |pick: &dyn Fn(&super::NodeBox) -> bool| -> Vec<&str> {
        topology
            .boxes
            .iter()
            .zip(&ids)
            .filter(|(b, _)| pick(b))
            .map(|(_, id)| id.as_str())
            .collect()
    };
    out.push_str("    classDef courier fill:#dbeafe,stroke:#1e3a8a\n");
    out.push_str("    classDef worker fill:#fef3c7,stroke:#92400e\n");
    out.push_str("    classDef group stroke-width:3px\n");
    for (class, members) in [
        ("courier", class_of(&|b| b.node.kind == Kind::Courier)),
        ("worker", class_of(&|b| b.node.kind == Kind::Worker)),
        ("group", class_of(&|b| b.is_group())),
    ] {
        if !members.is_empty() {
            out.push_str(&format!("    class {} {class}\n", members.join(",")));
        }
    }
    out
}
