//! Graphviz `digraph` text.

use super::Topology;
use lpc_build::check::model::Kind;

/// A Graphviz quoted string: `"` and `\` escaped, line breaks as `\n` (centred lines).
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The program as a `digraph`: couriers are boxes, workers rounded boxes, groups drawn with a
/// double border, `process` blocks as dashed clusters; an edge `a -> b` means `a` holds a
/// handle to `b`.
pub(super) fn render(topology: &Topology) -> String {
    let mut out = String::new();
    out.push_str(&format!("digraph {} {{\n", quote(&topology.program.name)));
    out.push_str(&format!(
        "    label={};\n    labelloc=t;\n    rankdir=TB;\n",
        quote(&format!("program {}", topology.program.name))
    ));
    out.push_str("    node [fontname=\"Helvetica\", shape=box];\n");
    out.push_str("    edge [fontname=\"Helvetica\", fontsize=10];\n");
    for b in &topology.boxes {
        let mut attrs = vec![format!(
            "label={}",
            quote(&format!("{}\n{}", b.title, b.subtitle))
        )];
        match b.node.kind {
            Kind::Courier => attrs.push("style=filled, fillcolor=\"#dbeafe\"".to_string()),
            Kind::Worker => {
                attrs.push("style=\"rounded,filled\", fillcolor=\"#fef3c7\"".to_string())
            }
        }
        if b.is_group() {
            attrs.push("peripheries=2".to_string());
        }
        out.push_str(&format!(
            "    {} [{}];\n",
            quote(&b.node.name),
            attrs.join(", ")
        ));
    }
    for (process, members) in topology.processes() {
        // A cluster: Graphviz draws a frame around the nodes that share one OS process.
        out.push_str(&format!(
            "    subgraph {} {{\n        label={};\n        style=dashed;\n",
            quote(&format!("cluster_{process}")),
            quote(&format!("process {process}"))
        ));
        for i in members {
            if let Some(b) = topology.boxes.get(i) {
                out.push_str(&format!("        {};\n", quote(&b.node.name)));
            }
        }
        out.push_str("    }\n");
    }
    for e in &topology.edges {
        let (Some(from), Some(to)) = (topology.boxes.get(e.from), topology.boxes.get(e.to)) else {
            continue;
        };
        out.push_str(&format!(
            "    {} -> {} [label={}];\n",
            quote(&from.node.name),
            quote(&to.node.name),
            quote(&e.label)
        ));
    }
    out.push_str("}\n");
    out
}
