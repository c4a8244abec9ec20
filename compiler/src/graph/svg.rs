//! A standalone SVG image: laid out by `layout-rs` (a Sugiyama-style layered layout in Rust, so
//! no Graphviz is needed) and drawn by [`Canvas`], our own backend for it (deterministic output,
//! a tight view box, legible labels).

use super::{NodeBox, Topology};
use crate::check::model::Kind;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;
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
        let mut graph = visual_graph(topology);
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

/// The layout-rs graph: one box per node or group, one labelled arrow per holder and held node
/// (handles passed as several arguments share one arrow, their labels joined).
fn visual_graph(topology: &Topology) -> VisualGraph {
    let dir = Orientation::TopToBottom;
    let mut graph = VisualGraph::new(dir);
    // Its consistency checks re-verify the whole graph after every edge: quadratic or worse.
    graph.dag.set_validate(false);
    let handles: Vec<_> = topology
        .boxes
        .iter()
        .map(|b| {
            // layout-rs has no clusters: a node in a `process` block says so on a third line.
            let mut lines = vec![b.title.as_str(), b.subtitle.as_str()];
            let process = b.node.process.as_ref().map(|p| format!("in process {p}"));
            lines.extend(process.as_deref());
            let text = lines.join("\n");
            let size = text_box(&lines, NODE_FONT);
            let shape = ShapeKind::Box(text);
            let element = if b.is_group() {
                Element::create_with_properties(shape, node_look(b), dir.flip(), size, GROUP_TAG)
            } else {
                Element::create(shape, node_look(b), dir.flip(), size)
            };
            graph.add_node(element)
        })
        .collect();
    let mut merged: Vec<(usize, usize, Vec<&str>)> = Vec::new();
    let mut slot: std::collections::HashMap<(usize, usize), usize> = Default::default();
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
    for (from, to, labels) in merged {
        let (Some(&from), Some(&to)) = (handles.get(from), handles.get(to)) else {
            continue;
        };
        let arrow = Arrow::new(
            LineEndKind::None,
            LineEndKind::Arrow,
            LineStyleKind::Normal,
            &labels.join(", "),
            &look,
            &None,
            &None,
        );
        graph.add_edge(arrow, from, to);
    }
    graph
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
        canvas.draw_text(center, &format!("{}\n{}", b.title, b.subtitle), &look);
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

    /// The finished document.
    fn finish(self, program: &str) -> String {
        const MARGIN: f64 = 16.;
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
