//! What a launcher knows of its nodes, as it learns it: each node's kind, process, phase and
//! restarts, and where their counters come from. The launchers (and a cluster's coordinator)
//! write it ([`Board::spawned`], [`Board::phase`], …); the views read it together with the
//! supervisor's outcomes, the counters and the logs.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime};

use crate::launch::LaunchType;
use crate::metrics::NodeStats;
use crate::program::{ErasedNode, Layout};
use crate::supervise::Supervisor;

/// What a node is, as far as the launcher knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    /// It serves calls (it may also run).
    Courier,
    /// It only runs (a `worker`, or a `fn` node).
    Worker,
}

/// Where a live node is in its life; how it ended comes from the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Spawned or being built, not serving yet.
    Starting,
    /// Built and serving calls; no `run` going.
    Serving,
    /// Its `run` is going.
    Running,
    /// It failed and waits for its restart.
    Restarting,
}

/// One node's entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) label: String,
    /// Whether its `run` is called.
    pub(crate) has_run: bool,
    /// `None` until known (a `local_mp` node before it is up).
    pub(crate) kind: Option<Kind>,
    /// Its (current) process.
    pub(crate) pid: Option<u32>,
    pub(crate) phase: Phase,
    /// How many times it was restarted.
    pub(crate) restarts: u32,
    /// When its current process (or, in process, the launch) started.
    pub(crate) since: Instant,
    /// The label its log lines are kept under: its own, or its `process` block's.
    pub(crate) log_key: String,
}

/// Every node's entry, and the program's.
pub(crate) struct Board {
    pub(crate) program: &'static str,
    pub(crate) launch_type: LaunchType,
    /// When the launch started, for people.
    pub(crate) started_at: SystemTime,
    /// When the launch started, for durations.
    pub(crate) started: Instant,
    /// The outcomes and failures.
    pub(crate) supervisor: Arc<Supervisor>,
    /// Where the nodes' counters are.
    counters: Mutex<Counters>,
    entries: Mutex<Vec<Entry>>,
}

/// Where a board's counters come from.
#[derive(Debug)]
pub(crate) enum Counters {
    /// This process's own (in process).
    Own,
    /// Files the children write in this launch directory (`local_mp`), where they also serve
    /// their sockets.
    Files(PathBuf),
    /// The last of each node's (by id) that its cluster unit reported to this coordinator.
    Reported(Vec<NodeStats>),
}

impl Board {
    /// A board of every node of `layout` (`nodes` say which have a run), every one
    /// starting, in `launch_type` (in process: in this process; on a cluster: counted by the
    /// units, reported to this coordinator).
    pub(crate) fn new(
        layout: &Layout,
        nodes: &[ErasedNode],
        launch_type: LaunchType,
        supervisor: Arc<Supervisor>,
    ) -> Self {
        let started = Instant::now();
        let in_process = matches!(launch_type, LaunchType::LocalMt | LaunchType::TestMt);
        let counters = match launch_type {
            LaunchType::K8s | LaunchType::Slurm => {
                Counters::Reported(vec![NodeStats::default(); layout.labels.len()])
            }
            _ => Counters::Own,
        };
        let mut has_run = vec![false; layout.labels.len()];
        for node in nodes {
            if let Some(slot) = has_run.get_mut(node.id) {
                *slot = node.has_run;
            }
        }
        let entries = layout
            .labels
            .iter()
            .enumerate()
            .map(|(id, label)| Entry {
                label: label.clone(),
                has_run: has_run[id],
                kind: None,
                pid: in_process.then(std::process::id),
                phase: Phase::Starting,
                restarts: 0,
                since: started,
                log_key: label.clone(),
            })
            .collect();
        Board {
            program: layout.program,
            launch_type,
            started_at: SystemTime::now(),
            started,
            supervisor,
            counters: Mutex::new(counters),
            entries: Mutex::new(entries),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every node's entry, by id.
    pub(crate) fn entries(&self) -> Vec<Entry> {
        self.lock().clone()
    }

    /// Changes node `id`'s entry.
    fn with(&self, id: usize, change: impl FnOnce(&mut Entry)) {
        if let Some(entry) = self.lock().get_mut(id) {
            change(entry);
        }
    }

    /// Node `id` is now in `phase`.
    pub(crate) fn phase(&self, id: usize, phase: Phase) {
        self.with(id, |e| e.phase = phase);
    }

    /// Node `id` was built: it serves (a courier) or not; its run goes next, if it has one.
    pub(crate) fn built(&self, id: usize, serves: bool) {
        self.with(id, |e| {
            e.kind = Some(if serves { Kind::Courier } else { Kind::Worker });
            e.phase = Phase::Serving;
        });
    }

    /// Node `id` failed and waits to learn whether it is restarted.
    pub(crate) fn restarting(&self, id: usize) {
        self.phase(id, Phase::Restarting);
    }

    /// Node `id` is being restarted (once more).
    pub(crate) fn restarted(&self, id: usize) {
        self.with(id, |e| e.restarts += 1);
    }

    /// The nodes `ids` (a process's) now run in process `pid`, under the log label `log_key`.
    pub(crate) fn spawned(&self, ids: &[usize], pid: u32, log_key: &str) {
        for &id in ids {
            self.with(id, |e| {
                e.pid = Some(pid);
                e.since = Instant::now();
                e.phase = Phase::Starting;
                log_key.clone_into(&mut e.log_key);
            });
        }
    }

    /// The nodes `ids` (a process's) are up: each serves if its socket is in the launch
    /// directory; each with a run is running.
    pub(crate) fn up(&self, ids: &[usize]) {
        let dir = match &*self.lock_counters() {
            Counters::Files(dir) => Some(dir.clone()),
            _ => None,
        };
        for &id in ids {
            let serves = dir
                .as_ref()
                .is_some_and(|dir| crate::transport::unix::node_socket(dir, id).exists());
            self.built(id, serves);
            self.running(id);
        }
    }

    /// Node `id`'s run is going, if it has one.
    pub(crate) fn running(&self, id: usize) {
        self.with(id, |e| {
            if e.has_run {
                e.phase = Phase::Running;
            }
        });
    }

    /// The process of node `id` (on another machine) joined, perhaps again: the node starts.
    pub(crate) fn joined(&self, id: usize) {
        self.with(id, |e| {
            e.since = Instant::now();
            e.phase = Phase::Starting;
        });
    }

    /// Where the nodes' counters are.
    pub(crate) fn lock_counters(&self) -> MutexGuard<'_, Counters> {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counters are published by children in the launch directory `dir`.
    pub(crate) fn publish_in(&self, dir: PathBuf) {
        *self.lock_counters() = Counters::Files(dir);
    }

    /// Node `id`'s counters, as its cluster unit reported them (kept only on a board of
    /// [`Counters::Reported`]: one report per node, the last).
    pub(crate) fn reported(&self, id: usize, stats: NodeStats) {
        if let Counters::Reported(all) = &mut *self.lock_counters() {
            if let Some(slot) = all.get_mut(id) {
                *slot = stats;
            }
        }
    }
}
