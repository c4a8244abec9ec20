//! One frame of `lpc top`: the program's line, then a row per node.

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
}

/// The frame: a header and a table, `width` columns wide at most.
pub fn frame(program: &Program, nodes: &[Node], width: usize) -> String {
    let mut out = String::new();
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
    for node in nodes {
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
    out.lines()
        .map(|line| line.chars().take(width).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
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
        }];
        let text = frame(&program, &nodes, 200);
        assert!(text.starts_with("seed (local_mp, launcher pid 7) — failed, up 1m15s"));
        assert!(text.contains("failed: node `producer/1`: boom"), "{text}");
        let row = text.lines().last().unwrap();
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
        assert!(frame(&program, &nodes, 10)
            .lines()
            .all(|l| l.chars().count() <= 10));
    }
}
