//! `sim`: the whole program, unchanged, under a seeded, simulated network and clock, with
//! faults — reproducibly.
//!
//! Every node runs on a simulated host of [turmoil](https://docs.rs/turmoil) (one per node, or
//! one per `process` block, as processes are under `local_mp`), all on one OS thread. Calls
//! travel over turmoil's simulated TCP with the frames and handshake of the real transports;
//! the nodes are hosted, reported and restarted by the same node host as under `local_mp`,
//! supervised by a simulated launcher. `tokio::time` is the simulated clock: durations,
//! deadlines, restart backoffs and batch timeouts follow it, so minutes of a program take
//! seconds. The same seed gives the same schedule, the same message order and the same output.
//!
//! ```no_run
//! # fn example<P: lp::Program>(make_program: impl Fn() -> P, actors: lp::Nodes) {
//! use std::time::Duration;
//! use lp::sim::{Chaos, Sim};
//!
//! let outcome = Sim::new(7)
//!     .limit(Duration::from_secs(600))
//!     .chaos(Chaos::new().crash(actors))
//!     .run(make_program());
//! assert!(outcome.result.is_ok(), "{outcome}");
//! # }
//! ```
//!
//! See `docs/sim.md` for what is simulated and what is not.

mod chaos;
mod launcher;
mod world;

use std::fmt;
use std::future::Future;
use std::time::Duration;

pub use chaos::Chaos;

use crate::courier::client::Net;
use crate::courier::{Courier, Serve};
use crate::error::LaunchError;
use crate::handle::Handle;
use crate::program::{GroupRef, NodeRef, Nodes, Program};

/// A simulated run's settings: its seed, how long it may run in simulated time, the faults
/// scripted at given times and those drawn from the seed.
#[derive(Debug, Clone)]
pub struct Sim {
    seed: u64,
    limit: Duration,
    faults: Vec<(Duration, Fault)>,
    chaos: Option<Chaos>,
    latency: (Duration, Duration),
    grace: Duration,
}

impl Sim {
    /// A run from `seed`: at most an hour of simulated time, no faults, message latencies of
    /// 0–2 ms, a 10 s termination notice.
    pub fn new(seed: u64) -> Self {
        Sim {
            seed,
            limit: Duration::from_secs(3600),
            faults: Vec::new(),
            chaos: None,
            latency: (Duration::ZERO, Duration::from_millis(2)),
            grace: Duration::from_secs(10),
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How much simulated time the program may take before the run fails with
    /// [`SimError::Limit`] (default an hour).
    pub fn limit(mut self, simulated: Duration) -> Self {
        self.limit = simulated;
        self
    }

    /// The range every message's latency is drawn from (default 0–2 ms).
    pub fn latency(mut self, min: Duration, max: Duration) -> Self {
        self.latency = (min, max.max(min));
        self
    }

    /// How long nodes get to stop after the stop before they count as overstaying it (the
    /// termination notice; default 10 s, simulated).
    pub fn termination_notice(mut self, notice: Duration) -> Self {
        self.grace = notice;
        self
    }

    /// Injects `fault` when the simulated clock reads `at`.
    pub fn at(mut self, at: Duration, fault: Fault) -> Self {
        self.faults.push((at, fault));
        self
    }

    /// Injects faults drawn from the seed, as `chaos` describes.
    pub fn chaos(mut self, chaos: Chaos) -> Self {
        self.chaos = Some(chaos);
        self
    }

    /// Runs `program` until it stops by itself (a node calls `stop()`, a node fails, or every
    /// node finished), or the limit passes.
    pub fn run<P: Program>(&self, program: P) -> SimOutcome {
        world::simulate(self, program, None)
    }

    /// Runs `program` with `test` as a client on a simulated host of its own: it gets handles
    /// to the nodes ([`SimHandles`]); when it returns, the program is stopped. An `Err` it
    /// returns fails the run ([`SimError::Test`]).
    pub fn run_with<P, F, Fut>(&self, program: P, test: F) -> SimOutcome
    where
        P: Program,
        F: FnOnce(SimHandles) -> Fut + 'static,
        Fut: Future<Output = anyhow::Result<()>> + 'static,
    {
        let test: world::Test = Box::new(move |handles| Box::pin(test(handles)));
        world::simulate(self, program, Some(test))
    }
}

/// A fault to inject into a simulated run ([`Sim::at`]).
#[derive(Debug, Clone)]
pub struct Fault(FaultKind);

#[derive(Debug, Clone)]
enum FaultKind {
    /// The hosts of these nodes crash: their processes die, as with SIGKILL.
    Crash(Vec<usize>),
    /// Nothing passes between the hosts of these two sets until they are healed.
    Partition(Vec<usize>, Vec<usize>),
    /// Heals a partition.
    Heal(Vec<usize>, Vec<usize>),
    /// Nothing passes to or from the hosts of these nodes for this long (a pause: a long GC,
    /// a stopped VM).
    Pause(Vec<usize>, Duration),
    /// The end of a pause.
    Resume(Vec<usize>),
    /// Messages between the hosts of the two sets take this long.
    Delay(Vec<usize>, Vec<usize>, Duration),
}

impl Fault {
    /// The hosts of `nodes` crash, as their processes would die of SIGKILL: their restart
    /// policies apply (a node without one fails the program).
    pub fn crash(nodes: impl Into<Nodes>) -> Self {
        Fault(FaultKind::Crash(nodes.into().0))
    }

    /// Partitions the hosts of `a` from those of `b`: what either sends the other is held
    /// (TCP retransmitting into the void) until [`heal`](Self::heal); connections do not
    /// break, calls without a deadline wait.
    pub fn partition(a: impl Into<Nodes>, b: impl Into<Nodes>) -> Self {
        Fault(FaultKind::Partition(a.into().0, b.into().0))
    }

    /// Heals a partition: what was held is delivered.
    pub fn heal(a: impl Into<Nodes>, b: impl Into<Nodes>) -> Self {
        Fault(FaultKind::Heal(a.into().0, b.into().0))
    }

    /// Pauses the hosts of `nodes` for `pause`, as the rest of the program sees them (a long
    /// GC, a stopped VM): nothing they send or are sent arrives until it ends.
    pub fn pause(nodes: impl Into<Nodes>, pause: Duration) -> Self {
        Fault(FaultKind::Pause(nodes.into().0, pause))
    }

    /// Every message between the hosts of `a` and those of `b` takes `latency` from now on.
    pub fn delay(a: impl Into<Nodes>, b: impl Into<Nodes>, latency: Duration) -> Self {
        Fault(FaultKind::Delay(a.into().0, b.into().0, latency))
    }
}

/// Handles to the nodes of a simulated program, for a test client ([`Sim::run_with`]).
pub struct SimHandles {
    net: Net,
}

impl SimHandles {
    /// A typed handle to a node.
    pub fn handle<T: Courier>(&self, node: NodeRef<T>) -> Handle<T> {
        Handle::new(self.net.core(node.id))
    }

    /// A handle to a node typed by a courier trait its type implements.
    pub fn handle_as<I: ?Sized + Courier, T: Serve<I>>(&self, node: NodeRef<T>) -> Handle<I> {
        Handle::new(self.net.core(node.id))
    }

    /// Typed handles to every replica of a group.
    pub fn handles<T: Courier>(&self, group: &GroupRef<T>) -> Vec<Handle<T>> {
        group
            .ids()
            .map(|id| Handle::new(self.net.core(id)))
            .collect()
    }
}

/// How a simulated run went.
#[derive(Debug)]
pub struct SimOutcome {
    /// The seed it ran from.
    pub seed: u64,
    /// Whether the program stopped cleanly (and its test passed).
    pub result: Result<(), SimError>,
    /// How much simulated time it took.
    pub elapsed: Duration,
    /// What happened to the nodes and the network, in order.
    pub trace: Vec<Event>,
}

impl SimOutcome {
    /// The flags that run the program binary through the same schedule.
    pub fn reproduce(&self) -> String {
        format!("--lp_launch_type sim --lp_seed {}", self.seed)
    }
}

impl fmt::Display for SimOutcome {
    /// The seed, the result and the trace, one event per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let result = match &self.result {
            Ok(()) => "ok".to_string(),
            Err(e) => crate::error::chain(e),
        };
        writeln!(
            f,
            "seed {} ({:?} simulated): {result}",
            self.seed, self.elapsed
        )?;
        for event in &self.trace {
            writeln!(f, "  {event}")?;
        }
        Ok(())
    }
}

/// Something that happened in a simulated run: to a node (built, failed, restarted, …) or to
/// the network (a fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When, in simulated time since the start.
    pub at: Duration,
    /// The node (or `process` block, or `sim` for the network).
    pub node: String,
    /// What happened.
    pub what: String,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>10.3}s [{}] {}",
            self.at.as_secs_f64(),
            self.node,
            self.what
        )
    }
}

/// Why a simulated run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The program failed, as it would have in a real launch.
    #[error(transparent)]
    Program(#[from] LaunchError),
    /// The test client returned an error.
    #[error("the test failed: {0:#}")]
    Test(anyhow::Error),
    /// The program was still running when the limit of simulated time passed.
    #[error("still running after {0:?} of simulated time (the limit; see `Sim::limit`)")]
    Limit(Duration),
    /// The simulator itself failed.
    #[error("the simulator failed: {0}")]
    Simulator(String),
}

/// A seed whose run broke the invariant ([`explore`]).
#[derive(Debug)]
pub struct Counterexample {
    /// The run.
    pub outcome: SimOutcome,
    /// What the invariant said.
    pub broken: String,
}

impl fmt::Display for Counterexample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {} breaks the invariant: {}",
            self.outcome.seed, self.broken
        )?;
        writeln!(
            f,
            "reproduce: run the same test with that seed, or the program binary with `{}`",
            self.outcome.reproduce()
        )?;
        write!(f, "{}", self.outcome)
    }
}

impl std::error::Error for Counterexample {}

/// Runs `run` for every seed of `seeds` and checks each outcome with `invariant`; the first
/// seed whose outcome breaks it, with its trace. `Ok`: how many seeds ran.
///
/// ```no_run
/// # fn example<P: lp::Program>(make_program: impl Fn() -> P, actors: lp::Nodes) {
/// use lp::sim::{explore, Chaos, Sim};
/// let explored = explore(
///     0..1_000,
///     |seed| Sim::new(seed).chaos(Chaos::new().crash(actors.clone())).run(make_program()),
///     |outcome| outcome.result.as_ref().map(|_| ()).map_err(|e| e.to_string()),
/// );
/// if let Err(counterexample) = explored {
///     panic!("{counterexample}");
/// }
/// # }
/// ```
pub fn explore(
    seeds: std::ops::Range<u64>,
    run: impl Fn(u64) -> SimOutcome,
    invariant: impl Fn(&SimOutcome) -> Result<(), String>,
) -> Result<usize, Box<Counterexample>> {
    let mut ran = 0;
    for seed in seeds {
        let outcome = run(seed);
        ran += 1;
        if let Err(broken) = invariant(&outcome) {
            return Err(Box::new(Counterexample { outcome, broken }));
        }
    }
    Ok(ran)
}
