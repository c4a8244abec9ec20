//! One frame of `lpc top`: the program's line, a row per node, then the slowest recent calls
//! of the selected node.

use serde::Deserialize;
use std::fmt::Write;

/// What `/api/program` says (the fields `lpc top` shows).
#[derive(Debug, Deserialize)]
pub struct Program {
    pub program: String,
    pub launch_type: String,
    pub pid: u32,
    pub uptime_seconds: f64,
    pub state: String,
    #[serde(default)]
    pub failure: Option<Failure>,
}

/// The node that failed, and why.
#[derive(Debug, Deserialize)]
pub struct Failure {
    pub node: String,
    pub error: String,
}

/// What `/api/nodes` says of one node (the fields `lpc top` shows).
#[derive(Debug, Deserialize)]
pub struct Node {
    pub label: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub pid: Option<u32>,
    pub state: String,
    pub restarts: u32,
    #[serde(default)]
    pub cpu_seconds: Option<f64>,
    #[serde(default)]
    pub rss_bytes: Option<u64>,
    pub calls: u64,
    pub errors: u64,
    /// Calls it made to other nodes (absent from launches of earlier versions).
    #[serde(default)]
    pub calls_made: u64,
    /// Its slowest recent calls, slowest first (absent from launches of earlier versions).
    #[serde(default)]
    pub slowest: Vec<SlowCall>,
}

/// One of a node's slowest recent calls, as `/api/nodes` says.
#[derive(Debug, Deserialize)]
pub struct SlowCall {
    pub method: String,
    pub seconds: f64,
    pub ok: bool,
    /// The labels of the nodes its trace went through, ending with the node that served it.
    pub chain: Vec<String>,
}

/// How a frame is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    /// The most columns a line may take.
    pub width: usize,
    /// The node whose slowest calls are shown, by index.
    pub selected: usize,
    /// Whether the selected node's row is shown in reverse video (a live view).
    pub highlight: bool,
}

/// The frame: a header, a table, and the slowest recent calls of the selected node.
pub fn frame(program: &Program, nodes: &[Node], screen: Screen) -> String {
    let mut out = String::new();
    let mut selected_line = None;
    let _ = writeln!(
        out,
        "{} ({}, launcher pid {}) — {}, up {} — {} nodes — q quits",
        program.program,
        program.launch_type,
        program.pid,
        program.state,
        duration(program.uptime_seconds),
        nodes.len()
    );
    if let Some(failure) = &program.failure {
        let _ = writeln!(out, "failed: node `{}`: {}", failure.node, failure.error);
    }
    let _ = writeln!(
        out,
        "\n{:<24} {:<8} {:>8} {:<11} {:>8} {:>9} {:>9} {:>10} {:>7} {:>10}",
        "NODE", "KIND", "PID", "STATE", "RESTARTS", "CPU", "RSS", "CALLS", "ERRORS", "MADE"
    );
    for (index, node) in nodes.iter().enumerate() {
        if index == screen.selected {
            selected_line = Some(out.lines().count());
        }
        let _ = writeln!(
            out,
            "{:<24} {:<8} {:>8} {:<11} {:>8} {:>9} {:>9} {:>10} {:>7} {:>10}",
            node.label,
            node.kind.as_deref().unwrap_or("-"),
            node.pid.map_or_else(|| "-".into(), |p| p.to_string()),
            node.state,
            node.restarts,
            node.cpu_seconds
                .map_or_else(|| "-".into(), |s| format!("{s:.2}s")),
            node.rss_bytes.map_or_else(|| "-".into(), mebibytes),
            node.calls,
            node.errors,
            node.calls_made,
        );
    }
    if let Some(node) = nodes.get(screen.selected) {
        slowest(&mut out, node);
    }
    out.lines()
        .enumerate()
        .map(|(index, line)| {
            let line: String = line.chars().take(screen.width).collect();
            match screen.highlight && selected_line == Some(index) {
                true => format!("\x1b[7m{line}\x1b[0m"),
                false => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The slowest recent calls `node` served, with the nodes each one's trace went through.
fn slowest(out: &mut String, node: &Node) {
    let _ = writeln!(
        out,
        "\nslowest calls served by `{}` (last 30-60 s; up/down or j/k selects a node)",
        node.label
    );
    if node.slowest.is_empty() {
        let _ = writeln!(out, "  none traced yet");
        return;
    }
    let _ = writeln!(out, "  {:>10} {:<20} {:<6} CHAIN", "TIME", "METHOD", "OK");
    for call in &node.slowest {
        let _ = writeln!(
            out,
            "  {:>10} {:<20} {:<6} {}",
            seconds(call.seconds),
            call.method,
            if call.ok { "ok" } else { "error" },
            call.chain.join(" → ")
        );
    }
}

/// A call's time, in the unit that suits it.
fn seconds(seconds: f64) -> String {
    match seconds {
        s if s < 1e-3 => format!("{:.1}µs", s * 1e6),
        s if s < 1.0 => format!("{:.2}ms", s * 1e3),
        s => format!("{s:.2}s"),
    }
}

fn mebibytes(bytes: u64) -> String {
    format!("{:.1}M", bytes as f64 / (1024.0 * 1024.0))
}

fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `width` columns, the first node selected, not highlighted.
    fn screen(width: usize) -> Screen {
        Screen {
            width,
            selected: 0,
            highlight: false,
        }
    }

    #[test]
    fn a_frame_shows_every_node_and_the_failure() {
        let program = Program {
            program: "seed".into(),
            launch_type: "local_mp".into(),
            pid: 7,
            uptime_seconds: 75.0,
            state: "failed".into(),
            failure: Some(Failure {
                node: "producer/1".into(),
                error: "boom".into(),
            }),
        };
        let nodes = vec![Node {
            label: "producer/1".into(),
            kind: Some("courier".into()),
            pid: Some(42),
            state: "failed".into(),
            restarts: 2,
            cpu_seconds: Some(1.5),
            rss_bytes: Some(10 << 20),
            calls: 1234,
            errors: 1,
            calls_made: 56789,
            slowest: vec![
                SlowCall {
                    method: "work".into(),
                    seconds: 0.0125,
                    ok: false,
                    chain: vec!["consumer".into(), "producer/1".into()],
                },
                SlowCall {
                    method: "ping".into(),
                    seconds: 0.000_042,
                    ok: true,
                    chain: vec!["producer/1".into()],
                },
            ],
        }];
        let text = frame(&program, &nodes, screen(200));
        assert!(text.starts_with("seed (local_mp, launcher pid 7) — failed, up 1m15s"));
        assert!(text.contains("failed: node `producer/1`: boom"), "{text}");
        let row = text.lines().find(|l| l.starts_with("producer/1")).unwrap();
        for cell in [
            "producer/1",
            "courier",
            "42",
            "failed",
            "1.50s",
            "10.0M",
            "1234",
            "56789",
        ] {
            assert!(row.contains(cell), "{cell} in {row}");
        }
        let slowest: Vec<String> = text
            .lines()
            .skip_while(|l| !l.starts_with("slowest calls served by `producer/1`"))
            .skip(2)
            .map(str::split_whitespace)
            .map(|cells| cells.collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            slowest,
            [
                "12.50ms work error consumer → producer/1",
                "42.0µs ping ok producer/1"
            ],
            "{text}"
        );
        assert!(frame(&program, &nodes, screen(10))
            .lines()
            .all(|l| l.chars().count() <= 10));
        let highlighted = frame(
            &program,
            &nodes,
            Screen {
                highlight: true,
                ..screen(200)
            },
        );
        let marked: Vec<&str> = highlighted.lines().filter(|l| l.contains('\x1b')).collect();
        assert_eq!(marked.len(), 1, "{highlighted}");
        assert!(marked[0].starts_with("\x1b[7mproducer/1 "), "{highlighted}");
        // No node to select: no section.
        assert!(!frame(&program, &[], screen(200)).contains("slowest"));
    }

    #[test]
    fn a_node_without_traced_calls_says_so() {
        let program = Program {
            program: "seed".into(),
            launch_type: "local_mt".into(),
            pid: 7,
            uptime_seconds: 1.0,
            state: "running".into(),
            failure: None,
        };
        let node = Node {
            label: "consumer".into(),
            kind: None,
            pid: None,
            state: "starting".into(),
            restarts: 0,
            cpu_seconds: None,
            rss_bytes: None,
            calls: 0,
            errors: 0,
            calls_made: 0,
            slowest: Vec::new(),
        };
        let text = frame(&program, &[node], screen(200));
        assert!(
            text.ends_with("slowest calls served by `consumer` (last 30-60 s; up/down or j/k selects a node)\n  none traced yet"),
            "{text}"
        );
    }
}
