//! `local_mt` / `test_mt`: every node in this process. Each node gets its in-process slot before
//! any node is built, so handles (even cyclic ones) resolve; couriers are published into their
//! slot once built; runs are tasks (async) or blocking threads (sync).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::LaunchOptions;
use crate::context::{Context, Stopper};
use crate::courier::client::Net;
use crate::error::LaunchError;
use crate::program::{Env, ErasedNode, Layout};
use crate::supervise::{build_node, drive_run, Supervisor};

/// A running in-process program.
pub(crate) struct MtState {
    /// The run tasks; closed once all are spawned, so `wait` means "every run returned".
    runs: TaskTracker,
    /// Labels of nodes whose run has not returned yet, to name them if they overstay.
    live: Arc<Mutex<BTreeSet<String>>>,
    /// Whether any node serves calls (then the program lives until stopped).
    serving: bool,
    /// How long runs get to return after the stop.
    grace: Duration,
}

pub(crate) fn start(
    layout: &Layout,
    nodes: Vec<ErasedNode>,
    options: &LaunchOptions,
    supervisor: &Arc<Supervisor>,
) -> Result<(Net, MtState), LaunchError> {
    let net = Net::in_proc(layout.labels.clone(), options.ready_timeout);
    let mut serving = false;
    let mut runs = Vec::new();
    for node in nodes {
        let env = Env::for_node(&node, &net);
        let span = env.span.clone();
        let built = match build_node(node.build, &env) {
            Ok(built) => built,
            Err(error) => {
                supervisor.stop.cancel();
                take_down(&net);
                return Err(LaunchError::NodeFailed {
                    node: node.label,
                    error,
                });
            }
        };
        if built.service.is_some() {
            serving = true;
            if let Some(slot) = net.slots().and_then(|s| s.slots.get(node.id)) {
                slot.publish(built.object, span.clone());
            }
        }
        if let Some(run) = built.run {
            runs.push((node.label, node.replica, span, run));
        }
    }
    let tracker = TaskTracker::new();
    let live = Arc::new(Mutex::new(BTreeSet::new()));
    for (label, replica, span, run) in runs {
        let ctx = Context::new(
            label.clone(),
            replica,
            supervisor.stop.clone(),
            Stopper::Local,
        );
        let task = run(ctx);
        let supervisor = supervisor.clone();
        let live = live.clone();
        live.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(label.clone());
        tracker.spawn(async move {
            let outcome = drive_run(task, span).await;
            live.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&label);
            if let Err(error) = outcome {
                supervisor.fail(&label, error);
            }
        });
    }
    tracker.close();
    Ok((
        net,
        MtState {
            runs: tracker,
            live,
            serving,
            grace: options.termination_notice,
        },
    ))
}

fn take_down(net: &Net) {
    if let Some(slots) = net.slots() {
        for slot in &slots.slots {
            slot.take_down();
        }
    }
}

impl MtState {
    /// Resolves when the program stops by itself.
    pub(crate) async fn finished(&self, stop: &CancellationToken) {
        if self.serving {
            stop.cancelled().await
        } else {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = self.runs.wait() => {}
            }
        }
    }

    /// Takes every courier down and gives runs the grace period to return.
    pub(crate) async fn shutdown(&self, net: &Net, supervisor: &Supervisor) {
        take_down(net);
        if tokio::time::timeout(self.grace, self.runs.wait())
            .await
            .is_err()
        {
            let first = self
                .live
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .first()
                .cloned();
            if let Some(first) = first {
                supervisor.fail(
                    &first,
                    format!(
                        "did not return from run within the {:?} grace period; abandoned",
                        self.grace
                    ),
                );
            }
        }
    }
}
