//! Watching nodes: building them, driving their `run`, and turning the first failure into the
//! program's failure.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, PoisonError};

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::error::{panic_message, LaunchError, NodeFailure};
use crate::program::{BuildFn, Built, Env, Restart, RunTask};

/// How long past the grace period a `run` gets to return: calls it waits on that are still
/// unanswered when the grace period ends are cut then (they fail with `CallError::Stopping`),
/// and a run that returns soon after has not overstayed.
pub(crate) const RUN_MARGIN: std::time::Duration = std::time::Duration::from_millis(250);

/// The program-wide state every launcher shares with its nodes.
pub(crate) struct Supervisor {
    /// Cancelled when the program stops: `stop()` from a node or the caller, a signal, or a
    /// failure. Every node's context and every server watches it.
    pub(crate) stop: CancellationToken,
    /// Every node that failed, in order; the first is the cause, later ones are often its
    /// consequences.
    failures: Mutex<Vec<NodeFailure>>,
    /// How each node that ended ended, by id.
    outcomes: Mutex<HashMap<usize, NodeOutcome>>,
    /// Bumped whenever a node ends, for those waiting on some nodes.
    ended: tokio::sync::watch::Sender<u64>,
}

/// How a node ended, as [`Running::outcome`](crate::Running::outcome) tells it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum NodeOutcome {
    /// Its `run` returned `Ok` (or returned with the program's stop); a node without a `run`,
    /// once it stopped cleanly with the program.
    Finished,
    /// Its constructor or `run` returned an error (shown with its sources), or its process
    /// ended badly (under `local_mp`: "its process was killed by signal 9", say).
    Failed(String),
    /// Its constructor or `run` panicked, with this message.
    Panicked(String),
    /// It did not return within the grace period after the stop, and was killed.
    Killed,
}

impl From<&NodeError> for NodeOutcome {
    fn from(error: &NodeError) -> Self {
        match error {
            NodeError::ConstructorPanicked(message) | NodeError::RunPanicked(message) => {
                NodeOutcome::Panicked(message.clone())
            }
            error => NodeOutcome::Failed(error.report()),
        }
    }
}

impl Supervisor {
    pub(crate) fn new(stop: CancellationToken) -> Self {
        Supervisor {
            stop,
            failures: Mutex::new(Vec::new()),
            outcomes: Mutex::new(HashMap::new()),
            ended: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Records how node `id` ended (a later word replaces an earlier one: a node killed after
    /// it was reported failing was killed).
    pub(crate) fn ended(&self, id: usize, outcome: NodeOutcome) {
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, outcome);
        self.ended.send_modify(|n| *n += 1);
    }

    /// How node `id` ended, if it has.
    pub(crate) fn outcome_of(&self, id: usize) -> Option<NodeOutcome> {
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    /// Resolves once every node of `ids` has ended, or the program stops.
    pub(crate) async fn wait_ended(&self, ids: &[usize]) {
        let mut ended = self.ended.subscribe();
        loop {
            let done = {
                let outcomes = self.outcomes.lock().unwrap_or_else(PoisonError::into_inner);
                ids.iter().all(|id| outcomes.contains_key(id))
            };
            if done {
                return;
            }
            tokio::select! {
                biased;
                _ = self.stop.cancelled() => return,
                changed = ended.changed() => if changed.is_err() { return },
            }
        }
    }

    /// Records that `label` failed (saying so if it is the first) and stops the program.
    ///
    /// Once a clean stop is under way (a `stop()`, a signal, `Running::stop`, no failure), an
    /// error a node returns is the stop's consequence — its peers went away — and only noted.
    pub(crate) fn fail(&self, label: &str, error: String) {
        if self.stopping_cleanly() {
            tracing::info!(target: "lp", "node `{label}` ended with an error while the program stopped: {error}");
            return;
        }
        self.fail_always(label, error);
    }

    /// Records that `label` failed even during a clean stop (it outstayed the grace period).
    pub(crate) fn fail_always(&self, label: &str, error: String) {
        let said = format!("node `{label}` failed: {error}");
        if self.record_failure(label, error) {
            tracing::error!(target: "lp", "{said}");
        }
    }

    /// Records that `label` failed, without a word (a cluster's coordinator, which decided it,
    /// says it itself), and stops the program; whether it is the first failure.
    pub(crate) fn record_failure(&self, label: &str, error: String) -> bool {
        let first = {
            let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
            let first = failures.is_empty();
            // A node that failed is not listed again (e.g. killed after the grace period
            // because its constructor never returned).
            if !failures.iter().any(|f| f.node == label) {
                failures.push(NodeFailure {
                    node: label.to_string(),
                    error,
                });
            }
            first
        };
        self.stop.cancel();
        first
    }

    /// Node `id` is restarted: how it ended is forgotten.
    pub(crate) fn restarting(&self, id: usize) {
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// Whether the program is stopping, and not because a node failed.
    fn stopping_cleanly(&self) -> bool {
        self.stop.is_cancelled()
            && self
                .failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty()
    }

    /// The program's outcome: the first failure, with every failure, if any.
    pub(crate) fn outcome(&self) -> Result<(), LaunchError> {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        match failures.first() {
            None => Ok(()),
            Some(first) => Err(LaunchError::NodeFailed {
                node: first.node.clone(),
                error: first.error.clone(),
                failures: failures.clone(),
            }),
        }
    }
}

/// The span every log line of a node is emitted in; the formatter prints its label.
pub(crate) fn node_span(label: &str) -> tracing::Span {
    tracing::error_span!(crate::log::NODE_SPAN, label = %label)
}

/// How a node failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NodeError {
    /// Its constructor (or factory) returned an error, shown with its chain.
    #[error("its constructor failed: {0:#}")]
    Constructor(anyhow::Error),
    /// Its constructor panicked.
    #[error("its constructor panicked: {0}")]
    ConstructorPanicked(String),
    /// Its `run` returned an error, shown with its chain.
    #[error("{0:#}")]
    Run(anyhow::Error),
    /// Its `run` panicked.
    #[error("run panicked: {0}")]
    RunPanicked(String),
    /// Its process was given no key to serve it with: the launcher that spawned it is not
    /// this binary's version of lp.
    #[error("its process was given no key to serve it: launch it with the same binary")]
    NoKey,
    /// Its courier cannot serve.
    #[error("cannot listen on {at}")]
    Listen {
        /// The address or socket path.
        at: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl NodeError {
    /// The failure as one line, with its sources: what is reported and printed.
    pub(crate) fn report(&self) -> String {
        crate::error::chain(self)
    }

    /// Whether the node's `run` ended with a call cut short by the program's stop: it ended
    /// because of the stop, quietly, and did not fail.
    pub(crate) fn is_stopping(&self) -> bool {
        matches!(self, NodeError::Run(e) if crate::error::is_stopping(e))
    }
}

/// Calls a node's factory inside its span; an error it returns or a panic is a failure.
pub(crate) fn build_node(build: &BuildFn, env: &Env) -> Result<Built, NodeError> {
    let _entered = env.span.clone().entered();
    match std::panic::catch_unwind(AssertUnwindSafe(|| build(env))) {
        Ok(Ok(built)) => Ok(built),
        Ok(Err(error)) => Err(NodeError::Constructor(error)),
        Err(panic) => Err(NodeError::ConstructorPanicked(panic_message(&*panic))),
    }
}

/// Drives a started `run` to its end inside the node's span; an `Err` or a panic is a
/// failure.
pub(crate) async fn drive_run(task: RunTask, span: tracing::Span) -> Result<(), NodeError> {
    let outcome = run_caught(task, span).await;
    match outcome {
        Err(e) if e.is_stopping() => {
            tracing::debug!(target: "lp", "a run ended with the stop: {}", e.report());
            Ok(())
        }
        outcome => outcome,
    }
}

/// Runs a node's `run` to its end; an `Err` or a panic is a failure.
async fn run_caught(task: RunTask, span: tracing::Span) -> Result<(), NodeError> {
    let outcome = match task {
        RunTask::Async(run) => tokio::spawn(AssertUnwindSafe(run).catch_unwind().instrument(span))
            .await
            .unwrap_or_else(|e| Err(Box::new(e.to_string()))),
        RunTask::Blocking(run) => crate::blocking::off_runtime(move || {
            let _entered = span.enter();
            std::panic::catch_unwind(AssertUnwindSafe(run))
        })
        .await
        .unwrap_or_else(|| Err(Box::new("the runtime shut down".to_string()))),
    };
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(NodeError::Run(e)),
        Err(panic) => Err(NodeError::RunPanicked(panic_message(&*panic))),
    }
}

/// What is left of a node's restart policy.
pub(crate) struct Restarts {
    /// The policy, if the node has one.
    policy: Option<Restart>,
    /// Restarts done so far.
    done: u32,
}

impl Restarts {
    pub(crate) fn new(policy: Option<Restart>) -> Self {
        Restarts { policy, done: 0 }
    }

    /// After `label` failed with `error`: waits the backoff and returns `true` when the node
    /// is to be restarted (saying so); `false` when the policy is used up, there is none, or
    /// the program stopped meanwhile.
    pub(crate) async fn next(
        &mut self,
        label: &str,
        error: &str,
        stop: &CancellationToken,
    ) -> bool {
        let Some(policy) = self.policy else {
            return false;
        };
        if self.done >= policy.max || stop.is_cancelled() {
            return false;
        }
        self.done += 1;
        tracing::warn!(target: "lp",
            "node `{label}` failed: {error}; restarting in {:?} (restart {} of {})",
            policy.backoff, self.done, policy.max
        );
        tokio::select! {
            biased;
            _ = tokio::time::sleep(policy.backoff) => !stop.is_cancelled(),
            _ = stop.cancelled() => false,
        }
    }
}
