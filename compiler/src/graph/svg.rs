//! A standalone SVG image: laid out by `layout-rs` (a Sugiyama-style layered layout in Rust, so
//! no Graphviz is needed) and drawn by [`Canvas`], our own backend for it (deterministic output,
//! a tight view box, legible labels).
//!
//! layout-rs has no clusters, so a `process` block is laid out as one *record* (a box split
//! into fields, one per node, each a port that edges attach to) and drawn by [`Canvas`] as a
//! dashed frame, labelled with the block's name, around its nodes' boxes.

use super::{NodeBox, Topology};
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, RecordDef, ShapeKind};
use layout::topo::layout::VisualGraph;
use lpc_build::check::model::Kind;
use std::collections::HashMap;
use std::fmt::Write as _;

/// The largest drawing (boxes + edges) whose layout is optimized for fewer edge crossings.
const OPTIMIZE_UP_TO: usize = 100;
/// Font size of node labels; edge labels are smaller.
const NODE_FONT: usize = 14;
const EDGE_FONT: usize = 12;
/// Marks a group's box for [`Canvas::draw_rect`], which draws it as a stack of replicas.
const GROUP_TAG: &str = "lp-group";
const FONT_FAMILY: &str = "Helvetica, Arial, sans-serif";
/// The average width of a glyph, in em (an estimate: SVG has no text metrics; bold
/// lowercase sans-serif text is about this wide).
const GLYPH: f64 = 0.62;
/// The program's name above the drawing.
const TITLE_FONT: f64 = 16.;
/// The line width that marks what layout-rs draws of a `process` block's record: its fields,
/// which [`Canvas`] replaces with the nodes' boxes (every other line is at least 1 wide).
const RECORD_MARK: usize = 0;
/// Starts the text of a record's field: `\u{1}<process>:<box>` says whose field it is.
const FIELD_TAG: char = '\u{1}';
/// The horizontal room between two boxes in one frame.
const MEMBER_GAP: f64 = 16.;
/// How far a frame reaches beyond its boxes; above them it also holds the block's name.
const FRAME_PAD: f64 = 8.;
const FRAME_LABEL: f64 = 24.;
/// Font size of a frame's label.
const FRAME_FONT: usize = 12;

/// The SVG image of `topology`.
pub(super) fn render(topology: &Topology) -> String {
    if topology.boxes.is_empty() {
        // layout-rs cannot lay out an empty graph.
        return Canvas::default().finish(&topology.program.name);
    }
    // layout-rs asserts its own invariants; should one ever fail, draw a plain layout instead
    // of failing the command.
    let laid_out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut canvas = Canvas::default();
        let mut graph = visual_graph(topology, &mut canvas);
        // Reordering to reduce edge crossings is worth it, but its cost grows fast with size.
        let optimize = topology.boxes.len() + topology.edges.len() <= OPTIMIZE_UP_TO;
        graph.do_it(false, !optimize, false, &mut canvas);
        canvas
    }));
    let canvas = laid_out.unwrap_or_else(|_| fallback(topology));
    canvas.finish(&topology.program.name)
}

/// The size of a box holding `lines` of text at `font` size.
fn text_box(lines: &[&str], font: usize) -> Point {
    let font = font as f64;
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64;
    Point::new(
        longest * font * GLYPH + 28.,
        lines.len().max(1) as f64 * font * 1.3 + 16.,
    )
}

fn node_look(b: &NodeBox) -> StyleAttr {
    match b.node.kind {
        Kind::Courier => StyleAttr::new(
            Color::new(0x1e3a8aff),
            1,
            Some(Color::new(0xdbeafeff)),
            0,
            NODE_FONT,
        ),
        Kind::Worker => StyleAttr::new(
            Color::new(0x92400eff),
            1,
            Some(Color::new(0xfef3c7ff)),
            12,
            NODE_FONT,
        ),
    }
}

/// The lines of a box's text: its title and subtitle.
fn box_text(b: &NodeBox) -> String {
    format!("{}\n{}", b.title, b.subtitle)
}

/// Where a box sits in the layout: its own node, or a field (a port) of its block's record.
#[derive(Clone)]
struct Placement {
    node: layout::adt::dag::NodeHandle,
    port: Option<String>,
}

/// The layout-rs graph: one box per node or group outside `process` blocks, one record per
/// block, and one labelled arrow per holder and held node (handles passed as several arguments
/// share one arrow, their labels joined). `canvas` learns how to draw the blocks' nodes.
fn visual_graph(topology: &Topology, canvas: &mut Canvas) -> VisualGraph {
    let dir = Orientation::TopToBottom;
    let mut graph = VisualGraph::new(dir);
    // Its consistency checks re-verify the whole graph after every edge: quadratic or worse.
    graph.dag.set_validate(false);
    let mut placements: Vec<Option<Placement>> = vec![None; topology.boxes.len()];
    for (p, (name, members)) in topology.processes().into_iter().enumerate() {
        let (record, size) = record(p, name, &members, topology, canvas);
        let look = StyleAttr::new(Color::new(0), RECORD_MARK, None, 0, NODE_FONT);
        let node = graph.add_node(Element::create(record, look, dir.flip(), size));
        for i in members {
            placements[i] = Some(Placement {
                node,
                port: Some(port(i)),
            });
        }
        canvas.processes.push(name.to_string());
    }
    for (i, b) in topology.boxes.iter().enumerate() {
        if placements[i].is_some() {
            continue;
        }
        let text = box_text(b);
        let size = text_box(&[&b.title, &b.subtitle], NODE_FONT);
        let shape = ShapeKind::Box(text);
        let element = if b.is_group() {
            Element::create_with_properties(shape, node_look(b), dir.flip(), size, GROUP_TAG)
        } else {
            Element::create(shape, node_look(b), dir.flip(), size)
        };
        placements[i] = Some(Placement {
            node: graph.add_node(element),
            port: None,
        });
    }
    let mut merged: Vec<(usize, usize, Vec<&str>)> = Vec::new();
    let mut slot: HashMap<(usize, usize), usize> = HashMap::new();
    for e in &topology.edges {
        match slot.get(&(e.from, e.to)).and_then(|&i| merged.get_mut(i)) {
            Some((_, _, labels)) => labels.push(&e.label),
            None => {
                slot.insert((e.from, e.to), merged.len());
                merged.push((e.from, e.to, vec![&e.label]));
            }
        }
    }
    let look = StyleAttr::new(Color::new(0x4b5563ff), 1, None, 0, EDGE_FONT);
    for (from_box, to_box, labels) in merged {
        let (Some(Some(from)), Some(Some(to))) = (placements.get(from_box), placements.get(to_box))
        else {
            continue;
        };
        if from.port.is_some() && from.node == to.node {
            // Within one block: layout-rs would loop it out of the record and back through the
            // other boxes; the canvas draws it below them instead.
            canvas.inner_edges.push(InnerEdge {
                from: from_box,
                to: to_box,
                label: labels.join(", "),
            });
            continue;
        }
        let arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            LineStyleKind::Normal,
            &labels.join(", "),
            &look,
            &from.port,
            &to.port,
        );
        graph.add_edge(arrow, from.node, to.node);
    }
    graph
}

/// The port of box `i` in its block's record.
fn port(i: usize) -> String {
    format!("n{i}")
}

/// The record of `process` block number `p`: one field per member box, side by side, each as
/// wide as its box and a gap (layout-rs sizes a field as its text: `NODE_FONT` per character and
/// per line, plus 10, so the field's hidden text is shaped to that size), and its size. The
/// boxes' looks go to `canvas`, which draws them in their fields.
fn record(
    p: usize,
    name: &str,
    members: &[usize],
    topology: &Topology,
    canvas: &mut Canvas,
) -> (ShapeKind, Point) {
    let font = NODE_FONT as f64;
    // Three lines: as tall as a box of two lines of text (52 vs 52.4).
    let height = 3. * font + 10.;
    let mut fields = Vec::new();
    let mut width = 0.;
    for &i in members {
        let Some(b) = topology.boxes.get(i) else {
            continue;
        };
        let size = text_box(&[&b.title, &b.subtitle], NODE_FONT);
        let chars = ((size.x + MEMBER_GAP - 10.) / font).ceil().max(1.) as usize;
        width += chars as f64 * font + 10.;
        let text = format!("{FIELD_TAG}{p}:{i}\n{}\n ", " ".repeat(chars));
        fields.push(RecordDef::Text(text, Some(port(i))));
        canvas.members.insert(
            i,
            Member {
                text: box_text(b),
                look: node_look(b),
                group: b.is_group(),
                width: size.x,
            },
        );
    }
    // At least as wide as the frame's label.
    let label = frame_label(name).chars().count() as f64 * FRAME_FONT as f64 * GLYPH;
    let size = Point::new(width.max(label), height);
    (ShapeKind::Record(RecordDef::Array(fields)), size)
}

/// The label of a `process` block's frame.
fn frame_label(name: &str) -> String {
    format!("process {name}")
}

/// Boxes in one row and straight arrows: what is drawn if the layered layout fails.
fn fallback(topology: &Topology) -> Canvas {
    let mut canvas = Canvas::default();
    let mut centers = Vec::new();
    let mut x = 0.;
    for b in &topology.boxes {
        let size = text_box(&[&b.title, &b.subtitle], NODE_FONT);
        let look = node_look(b);
        let tag = b.is_group().then(|| GROUP_TAG.to_string());
        canvas.draw_rect(Point::new(x, 0.), size, &look, tag, None);
        let center = Point::new(x + size.x / 2., size.y / 2.);
        canvas.draw_text(center, &box_text(b), &look);
        centers.push((center, size));
        x += size.x + 80.;
    }
    let look = StyleAttr::new(Color::new(0x4b5563ff), 1, None, 0, EDGE_FONT);
    for (i, e) in topology.edges.iter().enumerate() {
        let (Some(&(a, sa)), Some(&(b, _))) = (centers.get(e.from), centers.get(e.to)) else {
            continue;
        };
        // Arcs below the row, one level deeper per edge so labels do not overlap.
        let depth = sa.y / 2. + 40. + 30. * i as f64;
        let start = Point::new(a.x, a.y + sa.y / 2.);
        let end = Point::new(b.x, b.y + sa.y / 2.);
        let path = [
            (start, Point::new(a.x, a.y + depth)),
            (end, Point::new(b.x, b.y + depth)),
        ];
        canvas.draw_arrow(&path, false, (false, true), &look, None, "");
        let mid = Point::new((a.x + b.x) / 2., a.y + depth * 0.75);
        canvas.draw_text(mid, &e.label, &look);
    }
    canvas
}

/// An SVG drawing backend for layout-rs that tracks the drawing's bounds.
#[derive(Default)]
struct Canvas {
    body: String,
    clips: Vec<String>,
    bounds: Option<(Point, Point)>,
    /// The `process` blocks' names, by number.
    processes: Vec<String>,
    /// How to draw each box of a `process` block, by box index.
    members: HashMap<usize, Member>,
    /// The last field of a record layout-rs drew: its text, which says whose it is, comes next.
    field: Option<(Point, Point)>,
    /// The area of each block's boxes so far (top left, bottom right), by number.
    frames: Vec<Option<(Point, Point)>>,
    /// The field of each box of a block, by box index, once drawn.
    fields: HashMap<usize, (Point, Point)>,
    /// Handles held between boxes of one block, drawn below them.
    inner_edges: Vec<InnerEdge>,
}

/// A handle held between two boxes of one `process` block (or a box and itself).
struct InnerEdge {
    from: usize,
    to: usize,
    label: String,
}

/// A box in a `process` block, drawn by [`Canvas`] in its record's field.
struct Member {
    /// Title and subtitle.
    text: String,
    look: StyleAttr,
    /// A group: drawn as a stack of replicas.
    group: bool,
    width: f64,
}

/// A coordinate with at most one decimal, `-0` as `0`, and never `NaN`.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let r = (v * 10.).round() / 10.;
    if r == 0. {
        "0".to_string()
    } else {
        format!("{r}")
    }
}

/// Text for SVG content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `#rrggbb` of a layout-rs color (`none` when fully transparent).
fn color(c: Option<Color>) -> String {
    match c {
        Some(c) => {
            let web = c.to_web_color();
            // `#rrggbbaa`: keep the alpha only when it is not opaque.
            match web.strip_suffix("ff") {
                Some(rgb) if web.len() == 9 => rgb.to_string(),
                _ if web.ends_with("00") && web.len() == 9 => "none".to_string(),
                _ => web,
            }
        }
        None => "none".to_string(),
    }
}

impl Canvas {
    fn grow(&mut self, p: Point) {
        if !p.x.is_finite() || !p.y.is_finite() {
            return;
        }
        self.bounds = Some(match self.bounds {
            None => (p, p),
            Some((lo, hi)) => (
                Point::new(lo.x.min(p.x), lo.y.min(p.y)),
                Point::new(hi.x.max(p.x), hi.y.max(p.y)),
            ),
        });
    }

    /// Draws box `i` of block `p` in the field at `xy` of `size`, and widens the block's frame.
    fn draw_member(&mut self, p: usize, i: usize, xy: Point, size: Point) {
        let Some(member) = self.members.remove(&i) else {
            return;
        };
        let left = xy.x + (size.x - member.width).max(0.) / 2.;
        let width = member.width.min(size.x);
        let tag = member.group.then(|| GROUP_TAG.to_string());
        self.draw_rect(
            Point::new(left, xy.y),
            Point::new(width, size.y),
            &member.look,
            tag,
            None,
        );
        let center = Point::new(xy.x + size.x / 2., xy.y + size.y / 2.);
        self.draw_text(center, &member.text, &member.look);
        self.fields.insert(i, (xy, size));
        if self.frames.len() <= p {
            self.frames.resize(p + 1, None);
        }
        let (lo, hi) = (xy, Point::new(xy.x + size.x, xy.y + size.y));
        self.frames[p] = Some(match self.frames[p] {
            None => (lo, hi),
            Some((a, b)) => (
                Point::new(a.x.min(lo.x), a.y.min(lo.y)),
                Point::new(b.x.max(hi.x), b.y.max(hi.y)),
            ),
        });
    }

    /// The handles held within blocks: arcs below the boxes, from the holder's bottom to the
    /// held one's, each one deeper than the last; the frames grow to hold them.
    fn draw_inner_edges(&mut self) {
        let look = StyleAttr::new(Color::new(0x4b5563ff), 1, None, 0, EDGE_FONT);
        let edges = std::mem::take(&mut self.inner_edges);
        for (k, edge) in edges.iter().enumerate() {
            let (Some(&(a, sa)), Some(&(b, sb))) =
                (self.fields.get(&edge.from), self.fields.get(&edge.to))
            else {
                continue;
            };
            let bottom = (a.y + sa.y).max(b.y + sb.y);
            let depth = bottom + 22. + 16. * k as f64;
            let (mut x0, mut x1) = (a.x + sa.x / 2., b.x + sb.x / 2.);
            if edge.from == edge.to {
                // A box holding its own handles: a loop under it.
                (x0, x1) = (x0 - 20., x0 + 20.);
            }
            let start = Point::new(x0, a.y + sa.y);
            let end = Point::new(x1, b.y + sb.y);
            // (point, control), then (control, point), as layout-rs gives paths.
            let path = [(start, Point::new(x0, depth)), (Point::new(x1, depth), end)];
            self.draw_arrow(&path, false, (false, true), &look, None, "");
            let label = Point::new((x0 + x1) / 2., depth - 2.);
            let width = edge.label.chars().count() as f64 * EDGE_FONT as f64 * GLYPH;
            let _ = writeln!(
                self.body,
                "<text x=\"{}\" y=\"{}\" font-size=\"{EDGE_FONT}\" text-anchor=\"middle\" dominant-baseline=\"central\" fill=\"#374151\" stroke=\"white\" stroke-width=\"4\" paint-order=\"stroke\">{}</text>",
                num(label.x),
                num(label.y),
                escape(&edge.label)
            );
            self.grow(Point::new(label.x - width / 2., label.y + EDGE_FONT as f64));
            self.grow(Point::new(label.x + width / 2., label.y + EDGE_FONT as f64));
            let block = self.frames.iter_mut().flatten().find(|(lo, hi)| {
                lo.x <= start.x && start.x <= hi.x && lo.y <= start.y && start.y <= hi.y
            });
            if let Some((_, hi)) = block {
                hi.y = hi.y.max(label.y + EDGE_FONT as f64 / 2.);
            }
        }
    }

    /// The frames of the `process` blocks, labelled with their names: drawn first, under
    /// everything else.
    fn frames(&mut self) -> String {
        let mut out = String::new();
        let frames: Vec<_> = self.frames.iter().copied().enumerate().collect();
        for (p, area) in frames {
            let (Some((lo, hi)), Some(name)) = (area, self.processes.get(p)) else {
                continue;
            };
            let top_left = Point::new(lo.x - FRAME_PAD, lo.y - FRAME_PAD - FRAME_LABEL);
            let bottom_right = Point::new(hi.x + FRAME_PAD, hi.y + FRAME_PAD);
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"#f9fafb\" stroke=\"#6b7280\" stroke-width=\"1\" stroke-dasharray=\"6,4\"/>",
                num(top_left.x),
                num(top_left.y),
                num(bottom_right.x - top_left.x),
                num(bottom_right.y - top_left.y)
            );
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"{FRAME_FONT}\" dominant-baseline=\"central\" fill=\"#4b5563\" stroke=\"#f9fafb\" stroke-width=\"4\" paint-order=\"stroke\">{}</text>",
                num(lo.x),
                // Clear of a group's stack of replicas, which peeks out above its box.
                num(top_left.y + 2. + FRAME_LABEL / 2.),
                escape(&frame_label(name))
            );
            self.grow(top_left);
            self.grow(bottom_right);
        }
        out
    }

    /// The finished document.
    fn finish(mut self, program: &str) -> String {
        const MARGIN: f64 = 16.;
        self.draw_inner_edges();
        let frames = self.frames();
        let (lo, mut hi) = self
            .bounds
            .unwrap_or((Point::new(0., 0.), Point::new(0., 0.)));
        let title_w = format!("program {program}").chars().count() as f64 * TITLE_FONT * GLYPH;
        hi.x = hi.x.max(lo.x + title_w);
        // Room for the title above the drawing.
        let title_h = 28.;
        let x = lo.x - MARGIN;
        let y = lo.y - MARGIN - title_h;
        let w = hi.x - lo.x + 2. * MARGIN;
        let h = hi.y - lo.y + 2. * MARGIN + title_h;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"{} {} {} {}\" font-family=\"{FONT_FAMILY}\">",
            num(w.max(1.)),
            num(h.max(1.)),
            num(x),
            num(y),
            num(w.max(1.)),
            num(h.max(1.))
        );
        let _ = writeln!(out, "<title>program {}</title>", escape(program));
        out.push_str("<defs>\n");
        out.push_str("<marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\" markerUnits=\"userSpaceOnUse\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#4b5563\"/></marker>\n");
        out.push_str("<marker id=\"arrow-start\" markerWidth=\"10\" markerHeight=\"8\" refX=\"1\" refY=\"4\" orient=\"auto\" markerUnits=\"userSpaceOnUse\"><path d=\"M10,0 L0,4 L10,8 z\" fill=\"#4b5563\"/></marker>\n");
        for clip in &self.clips {
            out.push_str(clip);
            out.push('\n');
        }
        out.push_str("</defs>\n");
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"white\"/>",
            num(x),
            num(y),
            num(w.max(1.)),
            num(h.max(1.))
        );
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"{TITLE_FONT}\" font-weight=\"bold\" fill=\"#111827\">program {}</text>",
            num(lo.x),
            num(y + MARGIN + 6.),
            escape(program)
        );
        out.push_str(&frames);
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }
}

impl RenderBackend for Canvas {
    fn draw_rect(
        &mut self,
        xy: Point,
        size: Point,
        look: &StyleAttr,
        properties: Option<String>,
        clip: Option<ClipHandle>,
    ) {
        if look.line_width == RECORD_MARK {
            // A field of a block's record (or its outline): its text says whose it is.
            self.field = Some((xy, size));
            return;
        }
        let clip = clip
            .map(|c| format!(" clip-path=\"url(#clip{c})\""))
            .unwrap_or_default();
        let rect = |x: f64, y: f64| {
            format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{clip}/>\n",
                num(x),
                num(y),
                num(size.x),
                num(size.y),
                look.rounded,
                color(look.fill_color),
                color(Some(look.line_color)),
                look.line_width
            )
        };
        if properties.as_deref() == Some(GROUP_TAG) {
            // A stack of replicas: two boxes peek out behind the front one.
            for offset in [8., 4.] {
                self.body.push_str(&rect(xy.x + offset, xy.y - offset));
            }
            self.grow(Point::new(xy.x + size.x + 8., xy.y - 8.));
        }
        self.body.push_str(&rect(xy.x, xy.y));
        self.grow(xy);
        self.grow(Point::new(xy.x + size.x, xy.y + size.y));
    }

    fn draw_line(
        &mut self,
        start: Point,
        stop: Point,
        look: &StyleAttr,
        _properties: Option<String>,
    ) {
        let _ = writeln!(
            self.body,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
            num(start.x),
            num(start.y),
            num(stop.x),
            num(stop.y),
            color(Some(look.line_color)),
            look.line_width
        );
        self.grow(start);
        self.grow(stop);
    }

    fn draw_circle(
        &mut self,
        xy: Point,
        size: Point,
        look: &StyleAttr,
        _properties: Option<String>,
    ) {
        let _ = writeln!(
            self.body,
            "<ellipse cx=\"{}\" cy=\"{}\" rx=\"{}\" ry=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
            num(xy.x),
            num(xy.y),
            num(size.x / 2.),
            num(size.y / 2.),
            color(look.fill_color),
            color(Some(look.line_color)),
            look.line_width
        );
        self.grow(Point::new(xy.x - size.x / 2., xy.y - size.y / 2.));
        self.grow(Point::new(xy.x + size.x / 2., xy.y + size.y / 2.));
    }

    fn draw_text(&mut self, xy: Point, text: &str, look: &StyleAttr) {
        if look.line_width == RECORD_MARK {
            let whose = text
                .lines()
                .next()
                .and_then(|line| line.strip_prefix(FIELD_TAG))
                .and_then(|id| id.split_once(':'))
                .and_then(|(p, i)| Some((p.parse().ok()?, i.parse().ok()?)));
            if let (Some((p, i)), Some((xy, size))) = (whose, self.field.take()) {
                self.draw_member(p, i, xy, size);
            }
            return;
        }
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() {
            return;
        }
        let font = look.font_size as f64;
        let line_height = font * 1.3;
        let top = xy.y - (lines.len() - 1) as f64 * line_height / 2.;
        let is_edge_label = look.font_size == EDGE_FONT;
        let (x, anchor) = if is_edge_label {
            // layout-rs puts an edge's label in a box beside the edge, which passes along the
            // box's right side (the box is as wide as the label at one em per character, plus
            // 10): end the text just left of the edge.
            let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
            (xy.x + (longest * font + 10.) / 2. - 6., "end")
        } else {
            (xy.x, "middle")
        };
        for (i, line) in lines.iter().enumerate() {
            let y = top + i as f64 * line_height;
            let style = if is_edge_label {
                " fill=\"#374151\" stroke=\"white\" stroke-width=\"4\" paint-order=\"stroke\""
            } else if i == 0 && lines.len() > 1 {
                " font-weight=\"bold\" fill=\"#111827\""
            } else {
                " fill=\"#374151\""
            };
            let _ = writeln!(
                self.body,
                "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{anchor}\" dominant-baseline=\"central\"{style}>{}</text>",
                num(x),
                num(y),
                look.font_size,
                escape(line)
            );
            let width = line.chars().count() as f64 * font * GLYPH;
            let left = if is_edge_label {
                x - width
            } else {
                x - width / 2.
            };
            self.grow(Point::new(left, y - font / 2.));
            self.grow(Point::new(left + width, y + font / 2.));
        }
    }

    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        dashed: bool,
        head: (bool, bool),
        look: &StyleAttr,
        _properties: Option<String>,
        text: &str,
    ) {
        // layout-rs gives (point, control point) pairs: a cubic Bézier through them.
        let [first, second, rest @ ..] = path else {
            return;
        };
        let mut d = format!(
            "M {} {} C {} {}, {} {}, {} {}",
            num(first.0.x),
            num(first.0.y),
            num(first.1.x),
            num(first.1.y),
            num(second.0.x),
            num(second.0.y),
            num(second.1.x),
            num(second.1.y)
        );
        for (p, c) in rest {
            let _ = write!(d, " S {} {}, {} {}", num(p.x), num(p.y), num(c.x), num(c.y));
        }
        for (p, c) in path {
            self.grow(*p);
            self.grow(*c);
        }
        let dash = if dashed {
            " stroke-dasharray=\"5,5\""
        } else {
            ""
        };
        let start = if head.0 {
            " marker-start=\"url(#arrow-start)\""
        } else {
            ""
        };
        let end = if head.1 {
            " marker-end=\"url(#arrow)\""
        } else {
            ""
        };
        let _ = writeln!(
            self.body,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{dash}{start}{end}/>",
            color(Some(look.line_color)),
            look.line_width.max(1) as f64 * 1.5
        );
        if !text.is_empty() {
            let mid = second.0;
            self.draw_text(mid, text, look);
        }
    }

    fn create_clip(&mut self, xy: Point, size: Point, rounded_px: usize) -> ClipHandle {
        let handle = self.clips.len();
        self.clips.push(format!(
            "<clipPath id=\"clip{handle}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{rounded_px}\"/></clipPath>",
            num(xy.x),
            num(xy.y),
            num(size.x),
            num(size.y)
        ));
        handle
    }
}
