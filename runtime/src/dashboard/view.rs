//! What the API shows: the program and each node, put together from the launcher's board, the
//! supervisor's outcomes, the call counters, `/proc`, and the kept log lines.

use std::collections::HashMap;
use std::time::UNIX_EPOCH;

use serde::Serialize;

use super::board::{Board, Counters, Entry, Kind, Phase};
use super::{logs, procfs};
use crate::error::LaunchError;
use crate::metrics::{self, MethodStats, NodeStats, SlowCall};
use crate::supervise::NodeOutcome;

/// How many log lines a node's view carries (`/api/logs/LABEL` has them all).
const VIEW_LINES: usize = 8;

/// Every state a node can be in, as the API names them.
pub(crate) const STATES: [&str; 7] = [
    "starting",
    "serving",
    "running",
    "restarting",
    "stopping",
    "failed",
    "done",
];

/// One node, as `/api/nodes` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NodeView {
    pub(crate) label: String,
    /// `courier` or `worker`; `null` until known.
    pub(crate) kind: Option<Kind>,
    /// Its process (in process: the launcher's).
    pub(crate) pid: Option<u32>,
    /// One of [`STATES`].
    pub(crate) state: &'static str,
    /// How it ended, once it has: `finished`, `failed: …`, `panicked: …`, `killed`.
    pub(crate) outcome: Option<String>,
    /// Seconds since its process (in process: the launch) started.
    pub(crate) uptime_seconds: f64,
    pub(crate) restarts: u32,
    /// Its process's CPU time, in seconds (`null` once the process is gone).
    pub(crate) cpu_seconds: Option<f64>,
    /// Its process's resident memory, in bytes.
    pub(crate) rss_bytes: Option<u64>,
    /// Calls it served, every method together.
    pub(crate) calls: u64,
    /// Calls it served that failed.
    pub(crate) errors: u64,
    /// Per method: calls, errors, time, histogram, p50 and p99.
    pub(crate) methods: Vec<MethodView>,
    /// Calls it made, to every node together.
    pub(crate) calls_made: u64,
    /// Calls it made that failed (an error, a deadline, a node gone).
    pub(crate) errors_made: u64,
    /// The calls it made, per callee and method, measured where they were made: calls,
    /// errors, time, histogram, p50 and p99.
    pub(crate) made: Vec<CallView>,
    /// Its slowest recent calls (of the last 30 to 60 seconds), slowest first.
    pub(crate) slowest: Vec<SlowView>,
    /// Its last log lines (its process's, for a `process` block).
    pub(crate) log: Vec<String>,
}

/// One method of a node.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MethodView {
    #[serde(flatten)]
    pub(crate) stats: MethodStats,
    /// The median call time, in seconds (a histogram bucket's bound).
    pub(crate) p50_seconds: Option<f64>,
    /// The 99th percentile call time, in seconds.
    pub(crate) p99_seconds: Option<f64>,
}

impl From<MethodStats> for MethodView {
    fn from(stats: MethodStats) -> Self {
        MethodView {
            p50_seconds: stats.quantile(0.5),
            p99_seconds: stats.quantile(0.99),
            stats,
        }
    }
}

/// The calls a node made to one method of another.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CallView {
    /// The node called.
    pub(crate) callee: String,
    #[serde(flatten)]
    pub(crate) method: MethodView,
}

/// A call among a node's slowest recent ones.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SlowView {
    pub(crate) method: String,
    pub(crate) seconds: f64,
    pub(crate) ok: bool,
    /// Its trace's id, in hex.
    pub(crate) trace: String,
    /// The nodes its trace went through, by label, ending with the node that served it.
    pub(crate) chain: Vec<String>,
}

impl SlowView {
    /// `call`, its nodes named after `labels` (by id).
    fn new(call: SlowCall, labels: &[String]) -> Self {
        let label = |id: u32| {
            labels
                .get(id as usize)
                .map_or("?", String::as_str)
                .to_string()
        };
        SlowView {
            method: call.method,
            seconds: call.seconds,
            ok: call.ok,
            trace: format!("{:016x}", call.trace),
            chain: call.chain.into_iter().map(label).collect(),
        }
    }
}

/// The program, as `/api/program` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProgramView {
    pub(crate) program: &'static str,
    pub(crate) launch_type: String,
    /// The launcher's process.
    pub(crate) pid: u32,
    /// When it was launched, in seconds since the Unix epoch.
    pub(crate) started_unix: f64,
    pub(crate) uptime_seconds: f64,
    /// `running`, `stopping`, `failed` or `done`.
    pub(crate) state: &'static str,
    /// The first failure (the cause): which node, and why.
    pub(crate) failure: Option<Failure>,
    /// Every failure, in order.
    pub(crate) failures: Vec<Failure>,
    pub(crate) nodes: usize,
}

/// A node's failure.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Failure {
    pub(crate) node: String,
    pub(crate) error: String,
}

/// The program's view.
pub(crate) fn program(board: &Board) -> ProgramView {
    let failures: Vec<Failure> = match board.supervisor.outcome() {
        Err(LaunchError::NodeFailed { failures, .. }) => failures
            .into_iter()
            .map(|f| Failure {
                node: f.node,
                error: f.error,
            })
            .collect(),
        _ => Vec::new(),
    };
    let entries = board.entries();
    let ended = entries
        .iter()
        .enumerate()
        .all(|(id, _)| board.supervisor.outcome_of(id).is_some());
    let state = match (
        failures.is_empty(),
        board.supervisor.stop.is_cancelled(),
        ended,
    ) {
        (false, _, _) => "failed",
        (true, _, true) => "done",
        (true, true, false) => "stopping",
        (true, false, false) => "running",
    };
    ProgramView {
        program: board.program,
        launch_type: board.launch_type.to_string(),
        pid: std::process::id(),
        started_unix: board
            .started_at
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
        uptime_seconds: board.started.elapsed().as_secs_f64(),
        state,
        failure: failures.first().cloned(),
        failures,
        nodes: entries.len(),
    }
}

/// Every node's view, by id.
pub(crate) fn nodes(board: &Board) -> Vec<NodeView> {
    let mut usage: HashMap<u32, Option<procfs::Usage>> = HashMap::new();
    let entries = board.entries();
    let labels: Vec<String> = entries.iter().map(|e| e.label.clone()).collect();
    entries
        .into_iter()
        .enumerate()
        .map(|(id, entry)| {
            let process = entry
                .pid
                .and_then(|pid| *usage.entry(pid).or_insert_with(|| procfs::usage(pid)));
            node(board, (id, entry), &labels, process)
        })
        .collect()
}

/// Node `id`'s view; `labels` name every node by id.
fn node(
    board: &Board,
    (id, entry): (usize, Entry),
    labels: &[String],
    usage: Option<procfs::Usage>,
) -> NodeView {
    let outcome = board.supervisor.outcome_of(id);
    let state = state(
        &entry,
        outcome.as_ref(),
        board.supervisor.stop.is_cancelled(),
    );
    let stats = counters(board, id, &entry.label);
    let methods: Vec<MethodView> = stats.served.into_iter().map(MethodView::from).collect();
    let made: Vec<CallView> = stats
        .made
        .into_iter()
        .map(|call| CallView {
            callee: call.callee,
            method: call.stats.into(),
        })
        .collect();
    NodeView {
        kind: entry.kind,
        pid: entry.pid,
        state,
        outcome: outcome.map(|o| describe(&o)),
        uptime_seconds: entry.since.elapsed().as_secs_f64(),
        restarts: entry.restarts,
        cpu_seconds: usage.map(|u| u.cpu_seconds),
        rss_bytes: usage.map(|u| u.rss_bytes),
        calls: methods.iter().map(|m| m.stats.calls).sum(),
        errors: methods.iter().map(|m| m.stats.errors).sum(),
        methods,
        calls_made: made.iter().map(|c| c.method.stats.calls).sum(),
        errors_made: made.iter().map(|c| c.method.stats.errors).sum(),
        made,
        slowest: stats
            .slowest
            .into_iter()
            .map(|call| SlowView::new(call, labels))
            .collect(),
        log: logs::last(&entry.log_key, VIEW_LINES),
        label: entry.label,
    }
}

/// The counters of node `id`: this process's, what its child published, or what its unit
/// reported.
fn counters(board: &Board, id: usize, label: &str) -> NodeStats {
    let dir = match &*board.lock_counters() {
        Counters::Own => None,
        Counters::Files(dir) => Some(dir.clone()),
        Counters::Reported(all) => return all.get(id).cloned().unwrap_or_default(),
    };
    match dir {
        Some(dir) => metrics::read_published(&dir, id),
        None => metrics::snapshot(label),
    }
}

/// A node's state: how it ended, else stopping with the program, else its phase.
fn state(entry: &Entry, outcome: Option<&NodeOutcome>, stopping: bool) -> &'static str {
    match (outcome, stopping, entry.phase) {
        (Some(NodeOutcome::Finished), _, _) => "done",
        (Some(_), _, _) => "failed",
        (None, true, _) => "stopping",
        (None, false, Phase::Starting) => "starting",
        (None, false, Phase::Serving) => "serving",
        (None, false, Phase::Running) => "running",
        (None, false, Phase::Restarting) => "restarting",
    }
}

fn describe(outcome: &NodeOutcome) -> String {
    match outcome {
        NodeOutcome::Finished => "finished".into(),
        NodeOutcome::Failed(error) => format!("failed: {error}"),
        NodeOutcome::Panicked(message) => format!("panicked: {message}"),
        NodeOutcome::Killed => "killed".into(),
    }
}
