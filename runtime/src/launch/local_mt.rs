//! `local_mt` / `test_mt`: every node in this process. Each node gets its in-process slot before
//! any node is built, so handles (even cyclic ones) resolve; couriers are published into their
//! slot once built; runs are tasks (async) or blocking threads (sync).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{LaunchOptions, LaunchType};
use crate::context::{Context, Stopper};
use crate::courier::client::Net;
use crate::dashboard::board::{Board, Phase};
use crate::error::LaunchError;
use crate::program::{Built, Env, ErasedNode, Layout, RunFn};
use crate::supervise::{
    build_node, drive_run, NodeError, NodeOutcome, Restarts, Supervisor, RUN_MARGIN,
};
use crate::transport::inproc::{Slot, Up};

/// A running in-process program.
pub(crate) struct MtState {
    /// The run tasks; closed once all are spawned, so `wait` means "every run returned".
    runs: TaskTracker,
    /// Labels of nodes whose run has not returned yet, by id, to name them if they overstay.
    live: Arc<Mutex<BTreeMap<usize, String>>>,
    /// Whether any node serves calls (then the program lives until stopped).
    serving: bool,
    /// How long runs get to return after the stop.
    grace: Duration,
}

/// Builds every node (on a blocking thread, watched: a constructor that does not return within
/// the ready timeout fails the launch, naming its node), then starts the runs.
pub(crate) async fn start(
    layout: &Layout,
    nodes: Vec<ErasedNode>,
    options: &LaunchOptions,
    supervisor: &Arc<Supervisor>,
    (launch_type, board): (LaunchType, Arc<Board>),
) -> Result<(Net, MtState), LaunchError> {
    let net = Net::in_proc(
        layout.labels.clone(),
        supervisor.stop.clone(),
        options.ready_timeout,
    );
    net.set_deadlines(crate::program::deadlines(layout.labels.len(), &nodes));
    let labels: Vec<String> = nodes.iter().map(|n| n.label.clone()).collect();
    let building = Arc::new(AtomicUsize::new(0));
    let construction = tokio::task::spawn_blocking({
        let (net, building, board) = (net.clone(), building.clone(), board.clone());
        move || build_all(nodes, &net, &building, &board)
    });
    let built = watch(construction, &building, &labels, options.ready_timeout).await;
    let (runs, serving) = match built {
        Ok(built) => built,
        Err((label, error)) => {
            supervisor.stop.cancel();
            take_down(&net);
            return Err(LaunchError::node_failed(label, error));
        }
    };
    let tracker = TaskTracker::new();
    let live = Arc::new(Mutex::new(BTreeMap::new()));
    let blocks = Blocks::new(layout, &supervisor.stop);
    for (node, env, slot, run) in runs {
        let supervisor = supervisor.clone();
        let live = live.clone();
        live.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(node.id, node.label.clone());
        let block = blocks.of(node.id);
        let net = net.clone();
        let around = Around {
            launch_type,
            board: board.clone(),
        };
        tracker.spawn(async move {
            let (id, label) = (node.id, node.label.clone());
            let stop = block.as_ref().map(|(_, stop)| stop.clone());
            let outcome = supervise(node, env, slot, run, &supervisor.stop, stop, around).await;
            live.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
            if let (Ok(()), Some((members, stop))) = (&outcome, &block) {
                end_block(&net, members, stop);
            }
            match outcome {
                Ok(()) => supervisor.ended(id, NodeOutcome::Finished),
                Err(error) => {
                    // The failure first: whoever waits on the node's end sees the program fail.
                    let outcome = NodeOutcome::from(&error);
                    supervisor.fail(&label, error.report());
                    supervisor.ended(id, outcome);
                }
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

/// A node built, with its `run`.
type Runnable = (ErasedNode, Env, Option<Arc<Slot>>, RunFn);

/// Builds every node in order, publishing each courier in its slot; `building` says which
/// node is being built. The runs, and whether any node serves; or the first failure.
fn build_all(
    nodes: Vec<ErasedNode>,
    net: &Net,
    building: &AtomicUsize,
    board: &Board,
) -> Result<(Vec<Runnable>, bool), (String, String)> {
    let mut serving = false;
    let mut runs = Vec::new();
    for (i, node) in nodes.into_iter().enumerate() {
        building.store(i, Ordering::Relaxed);
        let env = Env::for_node(&node, net);
        let built = build_node(&node.build, &env).map_err(|e| (node.label.clone(), e.report()))?;
        serving |= built.service.is_some();
        board.built(node.id, built.service.is_some());
        let slot = net.slots().and_then(|s| s.slots.get(node.id)).cloned();
        publish(slot.as_deref(), &built);
        if let Some(run) = built.run {
            runs.push((node, env, slot, run));
        }
    }
    Ok((runs, serving))
}

/// Waits for the construction; a node whose constructor runs longer than `timeout` fails it
/// (its thread is abandoned).
async fn watch<T>(
    mut construction: tokio::task::JoinHandle<Result<T, (String, String)>>,
    building: &AtomicUsize,
    labels: &[String],
    timeout: Duration,
) -> Result<T, (String, String)> {
    // Real time: a test's paused clock must not time a constructor out.
    let mut current = (usize::MAX, std::time::Instant::now());
    loop {
        tokio::select! {
            done = &mut construction => {
                return done.unwrap_or_else(|e| Err(("?".into(), format!("the construction failed: {e}"))));
            }
            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                let now = building.load(Ordering::Relaxed);
                if now != current.0 {
                    current = (now, std::time::Instant::now());
                } else if current.1.elapsed() >= timeout {
                    let label = labels.get(now).cloned().unwrap_or_default();
                    return Err((label, format!("not up after {timeout:?}: its constructor has not returned")));
                }
            }
        }
    }
}

/// Makes a built courier callable in its slot.
fn publish(slot: Option<&Slot>, built: &Built) {
    if let (Some(slot), Some(service)) = (slot, &built.service) {
        slot.publish(Up {
            object: built.object.clone(),
            host: built.host.clone(),
            table: service.table.clone(),
        });
    }
}

/// What a node's supervision needs besides the node: how the program was launched, and the
/// board its phases are shown on.
struct Around {
    launch_type: LaunchType,
    board: Arc<Board>,
}

/// Runs a node until its `run` returns; under a restart policy, a failed node is built again
/// and run again (callers wait in its slot meanwhile). The error is the last failure's.
/// `block`: the stop of the node's `process` block, when the block ends with its first
/// finished node (the node's context watches it; its `stop()` still stops the program).
async fn supervise(
    node: ErasedNode,
    env: Env,
    slot: Option<Arc<Slot>>,
    mut run: RunFn,
    stop: &CancellationToken,
    block: Option<CancellationToken>,
    Around { launch_type, board }: Around,
) -> Result<(), NodeError> {
    let mut restarts = Restarts::new(node.settings.restart);
    loop {
        let (watched, stopper) = match &block {
            None => (stop.clone(), Stopper::Local),
            Some(block) => {
                let program = stop.clone();
                let stopper: Arc<dyn Fn() -> bool + Send + Sync> = Arc::new(move || {
                    program.cancel();
                    true
                });
                (block.clone(), Stopper::Launcher(stopper))
            }
        };
        let ctx = Context::new(
            node.label.clone(),
            node.replica,
            watched,
            stopper,
            launch_type,
        );
        board.phase(node.id, Phase::Running);
        let mut error = match drive_run(run(ctx), env.span.clone()).await {
            Ok(()) => return Ok(()),
            Err(error) => error,
        };
        loop {
            if let Some(slot) = &slot {
                slot.unpublish();
            }
            board.restarting(node.id);
            if !restarts.next(&node.label, &error.report(), stop).await {
                return Err(error);
            }
            board.restarted(node.id);
            match build_node(&node.build, &env) {
                Ok(built) => {
                    board.built(node.id, built.service.is_some());
                    publish(slot.as_deref(), &built);
                    match built.run {
                        Some(next) => run = next,
                        None => return Ok(()),
                    }
                    break;
                }
                Err(failed) => error = failed,
            }
        }
    }
}

/// The `process` blocks that end with their first finished node: each one's members and
/// stop (a child of the program's).
struct Blocks(HashMap<&'static str, (Arc<[usize]>, CancellationToken)>);

impl Blocks {
    fn new(layout: &Layout, program: &CancellationToken) -> Self {
        let mut members: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for id in 0..layout.labels.len() {
            if let Some(block) = layout.ends_with_first(id) {
                members.entry(block).or_default().push(id);
            }
        }
        Blocks(
            members
                .into_iter()
                .map(|(block, ids)| (block, (ids.into(), program.child_token())))
                .collect(),
        )
    }

    /// The members and stop of node `id`'s block, if it ends with its first finished node.
    fn of(&self, id: usize) -> Option<(Arc<[usize]>, CancellationToken)> {
        self.0
            .values()
            .find(|(members, _)| members.contains(&id))
            .cloned()
    }
}

/// Ends a `process` block whose first node finished: its other nodes see the stop, and its
/// couriers are taken down, as its process would end under `local_mp`.
fn end_block(net: &Net, members: &[usize], stop: &CancellationToken) {
    stop.cancel();
    if let Some(slots) = net.slots() {
        for id in members {
            if let Some(slot) = slots.slots.get(*id) {
                slot.take_down();
            }
        }
    }
}

/// Takes every courier down: calls to them fail (with `Stopping` once the program stops).
pub(crate) fn take_down(net: &Net) {
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
        // Calls still unanswered when the grace period ends are cut; the runs waiting on them
        // get a moment more to return. A grace period of zero means "kill at once": the runs
        // are abandoned, and that is no failure.
        let overstayed = tokio::time::timeout(self.grace, self.runs.wait())
            .await
            .is_err()
            && {
                net.cut_calls();
                tokio::time::timeout(RUN_MARGIN, self.runs.wait())
                    .await
                    .is_err()
            };
        if overstayed && !self.grace.is_zero() {
            let live = self
                .live
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            for (id, label) in live {
                supervisor.ended(id, NodeOutcome::Killed);
                supervisor.fail_always(
                    &label,
                    format!(
                        "did not return from run within the {:?} grace period; abandoned",
                        self.grace
                    ),
                );
            }
        }
    }
}
