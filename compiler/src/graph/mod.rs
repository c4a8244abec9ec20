//! `lpc graph`: the topology of a checked program as a picture — one box per node, one box per
//! group (labelled with its replica count, `producer ×num_producers`), an edge for every
//! handle a node holds, labelled with the constructor argument it is passed as, and a frame
//! around the nodes of each `process` block (they share one OS process).
//!
//! Three formats: Graphviz [`Format::Dot`] and [`Format::Mermaid`] (text, for other tools to
//! draw), and [`Format::Svg`], laid out and drawn here in Rust (with `layout-rs`), so no Graphviz
//! install is needed. Every format is deterministic: the same program gives the same bytes.

mod dot;
mod mermaid;
mod svg;

use lpc_build::check::model::{Build, Count, Index, Kind, Node, Program, Value};

/// An output format of [`render`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Graphviz `digraph` text (`dot -Tpng` draws it).
    Dot,
    /// A Mermaid `flowchart` (GitHub renders it inside a ```` ```mermaid ```` block).
    Mermaid,
    /// A standalone SVG image, laid out without Graphviz.
    Svg,
}

impl Format {
    /// Parses a format name as given on the command line: `dot`, `mermaid` or `svg`.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "dot" => Some(Format::Dot),
            "mermaid" => Some(Format::Mermaid),
            "svg" => Some(Format::Svg),
            _ => None,
        }
    }

    /// The format's name: `dot`, `mermaid` or `svg`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Dot => "dot",
            Format::Mermaid => "mermaid",
            Format::Svg => "svg",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    /// Parses `dot`, `mermaid` or `svg`; the error says which names there are.
    fn from_str(name: &str) -> Result<Format, String> {
        Format::from_name(name)
            .ok_or_else(|| format!("unknown graph format `{name}`: use dot, mermaid or svg"))
    }
}

/// The topology of a checked program as a picture.
pub fn render(program: &Program, format: Format) -> String {
    let topology = Topology::of(program);
    match format {
        Format::Dot => dot::render(&topology),
        Format::Mermaid => mermaid::render(&topology),
        Format::Svg => svg::render(&topology),
    }
}

/// A replica count or index as the reader knows it: the number when it is constant, else the
/// expression as written (`num_producers`, `base + replica`).
fn number_text(program: &Program, count: Count) -> String {
    match count {
        Count::Const(n) => n.to_string(),
        Count::Site(site) => program
            .sites
            .get(site)
            .map_or_else(|| "?".to_string(), |s| s.text.clone()),
    }
}

/// What every format draws, computed once from the checked program.
struct Topology<'a> {
    program: &'a Program,
    boxes: Vec<NodeBox<'a>>,
    edges: Vec<Edge>,
}

/// One node or group.
struct NodeBox<'a> {
    node: &'a Node,
    /// `producer ×num_producers` for a group, `consumer` for a node.
    title: String,
    /// `courier Producer`.
    subtitle: String,
}

impl NodeBox<'_> {
    fn is_group(&self) -> bool {
        self.node.count.is_some()
    }
}

impl Topology<'_> {
    /// The `process` blocks, in order of first appearance, with the indices of their boxes.
    fn processes(&self) -> Vec<(&str, Vec<usize>)> {
        let mut processes: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, b) in self.boxes.iter().enumerate() {
            let Some(process) = b.node.process.as_deref() else {
                continue;
            };
            match processes.iter_mut().find(|(name, _)| *name == process) {
                Some((_, members)) => members.push(i),
                None => processes.push((process, vec![i])),
            }
        }
        processes
    }
}

/// A handle held: `from` (a box index) holds handles to `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Edge {
    from: usize,
    to: usize,
    /// The argument it is passed as; `echo: echo[1]` for one replica of a group.
    label: String,
}

impl<'a> Topology<'a> {
    fn of(program: &'a Program) -> Topology<'a> {
        let boxes: Vec<NodeBox<'a>> = program
            .nodes
            .iter()
            .map(|node| NodeBox {
                node,
                title: match node.count {
                    Some(count) => format!("{} ×{}", node.name, number_text(program, count)),
                    None => node.name.clone(),
                },
                subtitle: subtitle(node),
            })
            .collect();
        let index: std::collections::HashMap<&str, usize> = program
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();
        let index_of = |name: &str| index.get(name).copied();
        let mut edges: Vec<Edge> = Vec::new();
        for (from, node) in program.nodes.iter().enumerate() {
            // This node's edges so far: the same handle passed twice is one edge.
            let first = edges.len();
            for arg in &node.args {
                let mut targets = Vec::new();
                handles(&arg.value, &mut targets);
                for (name, index) in targets {
                    // A checked program only names its own nodes; skip anything else rather
                    // than draw an edge to nowhere.
                    let Some(to) = index_of(name) else { continue };
                    let label = match index {
                        Some(i) => {
                            let i = match i {
                                Index::Const(n) => Count::Const(n),
                                Index::Site(s) => Count::Site(s),
                            };
                            format!("{}: {name}[{}]", arg.name, number_text(program, i))
                        }
                        None => arg.name.clone(),
                    };
                    let edge = Edge { from, to, label };
                    if !edges[first..].contains(&edge) {
                        edges.push(edge);
                    }
                }
            }
        }
        Topology {
            program,
            boxes,
            edges,
        }
    }
}

/// The node names a value holds handles to (with the replica index for `group[i]`), in order.
fn handles<'v>(value: &'v Value, out: &mut Vec<(&'v str, Option<Index>)>) {
    match value {
        Value::Node(name) | Value::Group(name) => out.push((name, None)),
        Value::GroupAt(name, index) => out.push((name, Some(*index))),
        Value::List(items) => items.iter().for_each(|item| handles(item, out)),
        Value::Some(inner) => handles(inner, out),
        Value::Literal(_) | Value::Param(_) | Value::Computed(_) | Value::None => {}
    }
}

/// What runs as the node: `courier Producer`, `worker Actor`, `fn announce`.
fn subtitle(node: &Node) -> String {
    if let Build::Function(function) = &node.build {
        return format!("fn {}", type_name(function));
    }
    let kind = match node.kind {
        Kind::Courier => "courier",
        Kind::Worker => "worker",
    };
    format!("{kind} {}", type_name(&node.type_path))
}

/// The last segment of a type path: `crate::nodes::Producer` → `Producer`.
fn type_name(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}
