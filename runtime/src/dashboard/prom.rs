//! `/metrics`: the program in Prometheus's text exposition format (version 0.0.4).

use std::fmt::Write;

use super::view::{NodeView, ProgramView, STATES};
use crate::metrics::{MethodStats, BUCKETS};

/// The content type of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Renders the program and its nodes.
pub(crate) fn render(program: &ProgramView, nodes: &[NodeView]) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "lp_program_start_time_seconds",
        "gauge",
        "When the program was launched, in seconds since the Unix epoch.",
    );
    sample(
        &mut out,
        "lp_program_start_time_seconds",
        &[("program", program.program)],
        program.started_unix,
    );
    family(
        &mut out,
        "lp_calls_total",
        "counter",
        "Calls a node served, by method.",
    );
    per_method(&mut out, &served(nodes), "lp_calls_total", |m| {
        m.calls as f64
    });
    family(
        &mut out,
        "lp_call_errors_total",
        "counter",
        "Calls a node served that failed, by method.",
    );
    per_method(&mut out, &served(nodes), "lp_call_errors_total", |m| {
        m.errors as f64
    });
    family(
        &mut out,
        "lp_call_duration_seconds",
        "histogram",
        "How long a node took to serve a call, by method.",
    );
    histograms(&mut out, &served(nodes), "lp_call_duration_seconds");
    calls_made(&mut out, nodes);
    family(
        &mut out,
        "lp_node_restarts_total",
        "counter",
        "Times a node was restarted after a failure.",
    );
    per_node(&mut out, nodes, "lp_node_restarts_total", |n| {
        Some(f64::from(n.restarts))
    });
    states(&mut out, nodes);
    family(
        &mut out,
        "lp_node_cpu_seconds_total",
        "counter",
        "CPU time of a node's process (in process: of the launcher).",
    );
    per_node(&mut out, nodes, "lp_node_cpu_seconds_total", |n| {
        n.cpu_seconds
    });
    family(
        &mut out,
        "lp_node_resident_memory_bytes",
        "gauge",
        "Resident memory of a node's process (in process: of the launcher).",
    );
    per_node(&mut out, nodes, "lp_node_resident_memory_bytes", |n| {
        n.rss_bytes.map(|b| b as f64)
    });
    out
}

/// The calls each node made, by callee and method: `lp_calls_made_total`,
/// `lp_calls_made_errors_total`, `lp_calls_made_duration_seconds`.
fn calls_made(out: &mut String, nodes: &[NodeView]) {
    let made = made(nodes);
    family(
        out,
        "lp_calls_made_total",
        "counter",
        "Calls a node made, by callee and method.",
    );
    per_method(out, &made, "lp_calls_made_total", |m| m.calls as f64);
    family(
        out,
        "lp_calls_made_errors_total",
        "counter",
        "Calls a node made that failed, by callee and method.",
    );
    per_method(out, &made, "lp_calls_made_errors_total", |m| {
        m.errors as f64
    });
    family(
        out,
        "lp_calls_made_duration_seconds",
        "histogram",
        "How long a call a node made took, as the caller waited for it, by callee and method.",
    );
    histograms(out, &made, "lp_calls_made_duration_seconds");
}

/// The counters of one method, with the labels that name them.
type Labelled<'a> = (Vec<(&'static str, &'a str)>, &'a MethodStats);

/// The counters of the methods every node served: labelled `node` and `method`.
fn served(nodes: &[NodeView]) -> Vec<Labelled<'_>> {
    let methods = nodes
        .iter()
        .flat_map(|n| n.methods.iter().map(move |m| (n, m)));
    methods
        .map(|(n, m)| {
            let labels = vec![
                ("node", n.label.as_str()),
                ("method", m.stats.method.as_str()),
            ];
            (labels, &m.stats)
        })
        .collect()
}

/// The counters of the calls every node made: labelled `node`, `callee` and `method`.
fn made(nodes: &[NodeView]) -> Vec<Labelled<'_>> {
    let calls = nodes
        .iter()
        .flat_map(|n| n.made.iter().map(move |c| (n, c)));
    calls
        .map(|(n, c)| {
            let labels = vec![
                ("node", n.label.as_str()),
                ("callee", c.callee.as_str()),
                ("method", c.method.stats.method.as_str()),
            ];
            (labels, &c.method.stats)
        })
        .collect()
}

/// `lp_node_state`: 1 for the state each node is in, 0 for the others.
fn states(out: &mut String, nodes: &[NodeView]) {
    family(
        out,
        "lp_node_state",
        "gauge",
        "A node's state: 1 for the state it is in, 0 for the others.",
    );
    for node in nodes {
        for state in STATES {
            let value = if node.state == state { 1.0 } else { 0.0 };
            sample(
                out,
                "lp_node_state",
                &[("node", &node.label), ("state", state)],
                value,
            );
        }
    }
}

/// A family's `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// One sample line.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (label, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{label}=\"{}\"", escape(value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

fn per_node(
    out: &mut String,
    nodes: &[NodeView],
    name: &str,
    value: impl Fn(&NodeView) -> Option<f64>,
) {
    for node in nodes {
        if let Some(v) = value(node) {
            sample(out, name, &[("node", &node.label)], v);
        }
    }
}

fn per_method(
    out: &mut String,
    methods: &[Labelled<'_>],
    name: &str,
    value: impl Fn(&MethodStats) -> f64,
) {
    for (labels, stats) in methods {
        sample(out, name, labels, value(stats));
    }
}

/// A histogram's buckets, sum and count per method.
fn histograms(out: &mut String, methods: &[Labelled<'_>], name: &str) {
    for (labels, stats) in methods {
        let bounds = BUCKETS
            .iter()
            .map(|b| number(*b))
            .chain(["+Inf".to_string()]);
        for (bound, count) in bounds.zip(&stats.buckets) {
            let mut labels = labels.clone();
            labels.push(("le", bound.as_str()));
            sample(out, &format!("{name}_bucket"), &labels, *count as f64);
        }
        sample(out, &format!("{name}_sum"), labels, stats.seconds);
        sample(out, &format!("{name}_count"), labels, stats.calls as f64);
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value as Prometheus writes it.
fn number(value: f64) -> String {
    match value {
        v if v.is_nan() => "NaN".into(),
        v if v == f64::INFINITY => "+Inf".into(),
        v if v == f64::NEG_INFINITY => "-Inf".into(),
        v => format!("{v}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_numbers_plain() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(number(1.0), "1");
        assert_eq!(number(0.00025), "0.00025");
        assert_eq!(number(f64::INFINITY), "+Inf");
        let mut out = String::new();
        sample(
            &mut out,
            "x_total",
            &[("node", "a/0"), ("method", "m")],
            3.0,
        );
        assert_eq!(out, "x_total{node=\"a/0\",method=\"m\"} 3\n");
    }
}
