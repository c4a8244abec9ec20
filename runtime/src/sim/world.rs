//! The simulated world of one run: a turmoil host per unit of the program (a node, or a
//! `process` block's nodes) running the node host of `local_mp`, the launcher and the test as
//! turmoil clients; and the loop that steps it, injecting faults and restarting what the
//! launcher asks to restart.

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::launcher::{Launcher, UnitPlan};
use super::{Event, Fault, FaultKind, Sim, SimError, SimHandles, SimOutcome};
use crate::courier::client::{Net, DEFAULT_READY_TIMEOUT};
use crate::error::LaunchError;
use crate::launch::control::Link;
use crate::launch::host::{self, Host, Network};
use crate::program::{ErasedNode, Program};
use crate::supervise::{NodeError, Supervisor};
use crate::transport::frame::Secret;
use crate::transport::keys::Keyring;
use crate::transport::sim::{port, SimDialer, MAX_NODES};
use crate::LaunchType;

/// A test client's body, boxed.
pub(super) type Test =
    Box<dyn FnOnce(SimHandles) -> Pin<Box<dyn Future<Output = anyhow::Result<()>>>>>;

/// The launcher's host.
pub(super) const LAUNCHER: &str = "lp-launcher";

/// The test client's host.
const TEST: &str = "lp-test";

/// What every unit's host joins the launcher with: the program is the same by construction.
pub(super) const FINGERPRINT: &str = "sim";

/// How long a host waits for the launcher's control port (it is bound before any host runs).
const LINK_WAIT: Duration = Duration::from_secs(10);

/// What the stepping loop and the launcher share (both run on this thread).
#[derive(Default)]
pub(super) struct Shared {
    /// What happened, in order.
    trace: RefCell<Vec<Event>>,
    /// Units the launcher asks to start again (their restart policy said so).
    pub(super) bounce: RefCell<Vec<usize>>,
    /// Units a fault crashed, until the launcher hears their link close.
    pub(super) crashed: RefCell<BTreeSet<usize>>,
    /// The test client's error, if it failed.
    test: RefCell<Option<anyhow::Error>>,
}

impl Shared {
    /// Notes an event at `at` of simulated time.
    pub(super) fn note(&self, at: Duration, node: &str, what: impl Into<String>) {
        self.trace.borrow_mut().push(Event {
            at,
            node: node.to_string(),
            what: what.into(),
        });
    }
}

/// What every host of the run shares: how the nodes are named, found and called.
struct Common {
    labels: Vec<String>,
    restartable: Vec<bool>,
    deadlines: Vec<Option<Duration>>,
    /// The host of each node, by id.
    hosts: Arc<[Arc<str>]>,
    /// Every key of the launch: the launcher's and the test's; each host gets those its nodes
    /// need.
    keys: Keyring,
    grace: Duration,
    seed: u64,
}

impl Common {
    /// How a host's nodes (or the test) holding `keys` reach the others; `stop` ends its
    /// waits.
    fn net(&self, keys: Keyring, stop: &CancellationToken) -> Net {
        let net = Net::sockets(
            self.labels.clone(),
            self.restartable.clone(),
            Arc::new(SimDialer::nodes(self.hosts.clone())),
            keys,
            stop.clone(),
            DEFAULT_READY_TIMEOUT,
        );
        net.set_deadlines(self.deadlines.clone());
        net
    }
}

/// Runs `program` under `sim`, with `test` as a client if given.
pub(super) fn simulate<P: Program>(sim: &Sim, program: P, test: Option<Test>) -> SimOutcome {
    crate::log::init(true);
    let (layout, units, common) = match prepare(sim, program) {
        Ok(prepared) => prepared,
        Err(error) => {
            return SimOutcome {
                seed: sim.seed,
                result: Err(error),
                elapsed: Duration::ZERO,
                trace: Vec::new(),
            }
        }
    };
    let supervisor = Arc::new(Supervisor::new(CancellationToken::new()));
    let shared = Rc::new(Shared::default());
    let mut world = builder(sim).build();
    let plans = add_hosts(&mut world, &layout, units, &common);
    let names: Vec<Arc<str>> = plans.iter().map(|p| p.label.clone()).collect();
    let launcher = Launcher {
        units: plans,
        labels: layout.labels.clone(),
        supervisor: supervisor.clone(),
        member: common.keys.member().clone(),
        shared: shared.clone(),
    };
    world.client(LAUNCHER, launcher.run());
    let tested = test.is_some();
    if let Some(test) = test {
        world.client(
            TEST,
            client(test, common.clone(), supervisor.clone(), shared.clone()),
        );
    }
    let mut stepper = Stepper {
        faults: faults(sim).into(),
        hosts: &common.hosts,
        names,
        tested,
        shared: &shared,
    };
    let stepped = stepper.run(&mut world, sim.limit);
    let elapsed = world.elapsed();
    drop(world);
    let result = stepped.and_then(|()| {
        if let Some(error) = shared.test.borrow_mut().take() {
            return Err(SimError::Test(error));
        }
        supervisor.outcome().map_err(SimError::from)
    });
    if let Err(e) = &result {
        shared.note(
            elapsed,
            "sim",
            format!("failed: {}", crate::error::chain(e)),
        );
    }
    SimOutcome {
        seed: sim.seed,
        result,
        elapsed,
        trace: shared.trace.take(),
    }
}

/// A unit of the program: its host's name (the node's label or the `process` block's) and
/// its nodes.
type Unit = (String, Vec<ErasedNode>);

/// Checks `program` can be simulated and splits it into its layout, its units, and what every
/// host of the run shares.
fn prepare<P: Program>(
    sim: &Sim,
    program: P,
) -> Result<(crate::program::Layout, Vec<Unit>, Arc<Common>), SimError> {
    let (layout, nodes) = program.into_parts();
    if !layout.errors.is_empty() {
        return Err(LaunchError::Layout(layout.errors).into());
    }
    if layout.labels.len() > MAX_NODES {
        return Err(SimError::Simulator(format!(
            "the program has {} nodes; a simulation runs at most {MAX_NODES}",
            layout.labels.len()
        )));
    }
    let secret =
        Secret::random().map_err(|e| LaunchError::launcher("cannot make the launch secret", e))?;
    let restartable = crate::launch::restartable(&layout, &nodes);
    let deadlines = crate::program::deadlines(layout.labels.len(), &nodes);
    let units = crate::program::by_process(&layout, nodes);
    let mut hosts: Vec<Arc<str>> = vec![Arc::from(""); layout.labels.len()];
    for (label, members) in &units {
        let label: Arc<str> = Arc::from(label.as_str());
        for node in members {
            hosts[node.id] = label.clone();
        }
    }
    let common = Arc::new(Common {
        labels: layout.labels.clone(),
        restartable,
        deadlines,
        hosts: hosts.into(),
        keys: Keyring::launch(&secret, layout.labels.len()),
        grace: sim.grace,
        seed: sim.seed,
    });
    Ok((layout, units, common))
}

/// Adds a host per unit to `world`, each running the unit's nodes; the launcher's view of
/// them.
fn add_hosts(
    world: &mut turmoil::Sim<'_>,
    layout: &crate::program::Layout,
    units: Vec<Unit>,
    common: &Arc<Common>,
) -> Vec<UnitPlan> {
    let mut plans = Vec::new();
    for (index, (label, members)) in units.into_iter().enumerate() {
        let ends_with_first = members
            .iter()
            .any(|n| layout.ends_with_first(n.id).is_some());
        plans.push(UnitPlan::new(label.as_str().into(), &members));
        let (common, members): (_, Arc<[ErasedNode]>) = (common.clone(), members.into());
        world.host(label.as_str(), move || {
            software(index, members.clone(), ends_with_first, common.clone())
        });
    }
    plans
}

/// The run's faults, scripted and drawn from its seed, in time order.
fn faults(sim: &Sim) -> Vec<(Duration, Fault)> {
    let mut faults: Vec<(Duration, Fault)> = sim.faults.clone();
    if let Some(chaos) = &sim.chaos {
        faults.extend(chaos.schedule(sim.seed, sim.limit));
    }
    faults.sort_by_key(|(at, _)| *at);
    faults
}

/// The turmoil world a run of `sim` steps: seeded, hosts ticked in an order drawn from the
/// seed, latencies drawn from its range.
fn builder(sim: &Sim) -> turmoil::Builder {
    let mut builder = turmoil::Builder::new();
    builder
        .rng_seed(sim.seed)
        .enable_random_order()
        // The limit is checked by the stepping loop, which says so; turmoil's own is a backstop.
        .simulation_duration(sim.limit.saturating_add(Duration::from_secs(60)))
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(sim.latency.0)
        .max_message_latency(sim.latency.1)
        .tcp_capacity(4096)
        .epoch(std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    builder
}

/// One unit's host software: the node host of `local_mp`, over the simulated network, run
/// again from scratch when the host is bounced.
async fn software(
    unit: usize,
    members: Arc<[ErasedNode]>,
    ends_with_first: bool,
    common: Arc<Common>,
) -> turmoil::Result {
    {
        let dial = SimDialer::launcher(Arc::from(LAUNCHER));
        let member = common.keys.member();
        let link = match Link::open(&dial, member, unit, FINGERPRINT, LINK_WAIT).await {
            Ok(link) => link,
            Err(e) => {
                tracing::error!(target: "lp", "cannot reach the launcher: {e}");
                return Ok(());
            }
        };
        let stop = CancellationToken::new();
        let keys = common.keys.narrowed(crate::launch::key_ids(members.iter()));
        let host = Host {
            ends_with_first,
            nodes: members.iter().map(|n| (n.clone(), n.has_run)).collect(),
            net: common.net(keys.clone(), &stop),
            labels: common.labels.clone(),
            network: SimNetwork,
            keys,
            grace: common.grace,
            stop,
            servers: TaskTracker::new(),
            supervisor: host::Supervisor::Launcher,
            launch_type: LaunchType::Sim { seed: common.seed },
        };
        host.run(link).await;
        Ok(())
    }
}

/// The test client: its body with handles, then the program's stop.
async fn client(
    test: Test,
    common: Arc<Common>,
    supervisor: Arc<Supervisor>,
    shared: Rc<Shared>,
) -> turmoil::Result {
    let stop = CancellationToken::new();
    let handles = SimHandles {
        net: common.net(common.keys.clone(), &stop),
    };
    let outcome = test(handles).await;
    let at = turmoil::sim_elapsed().unwrap_or_default();
    match outcome {
        Ok(()) => shared.note(at, "test", "returned: stopping the program"),
        Err(error) => {
            shared.note(at, "test", format!("failed: {error:#}"));
            *shared.test.borrow_mut() = Some(error);
        }
    }
    stop.cancel();
    supervisor.stop.cancel();
    Ok(())
}

/// The simulated network as a node host sees it: node `id` listens on [`port`]`(id)` of its
/// unit's host.
struct SimNetwork;

impl Network for SimNetwork {
    type Listener = turmoil::net::TcpListener;

    async fn bind(&self, id: usize) -> Result<(Self::Listener, Option<u16>), NodeError> {
        let listener = turmoil::net::TcpListener::bind(("0.0.0.0", port(id)))
            .await
            .map_err(|source| NodeError::Listen {
                at: format!("simulated port {}", port(id)),
                source,
            })?;
        Ok((listener, None))
    }
}

/// Steps a world until its clients are done, injecting the faults when their time comes and
/// restarting what the launcher asks to restart.
struct Stepper<'a> {
    /// The faults still to come, in time order.
    faults: VecDeque<(Duration, Fault)>,
    /// Each node's host.
    hosts: &'a [Arc<str>],
    /// Each unit's host.
    names: Vec<Arc<str>>,
    /// Whether a test client runs.
    tested: bool,
    shared: &'a Shared,
}

impl Stepper<'_> {
    fn run(&mut self, world: &mut turmoil::Sim<'_>, limit: Duration) -> Result<(), SimError> {
        loop {
            let now = world.elapsed();
            while self.faults.front().is_some_and(|(at, _)| *at <= now) {
                if let Some((_, fault)) = self.faults.pop_front() {
                    self.inject(world, fault, now);
                }
            }
            for unit in self.shared.bounce.take() {
                if let Some(name) = self.names.get(unit) {
                    world.bounce(&**name);
                }
            }
            match world.step() {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => return Err(SimError::Simulator(e.to_string())),
            }
            if world.elapsed() >= limit {
                return Err(SimError::Limit(limit));
            }
        }
    }

    /// The hosts of `nodes`, each once, in order.
    fn hosts_of(&self, nodes: &[usize]) -> Vec<Arc<str>> {
        let mut hosts: Vec<Arc<str>> = nodes
            .iter()
            .filter_map(|&id| self.hosts.get(id).cloned())
            .collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// Every host but `these`, the launcher's and the test's included.
    fn others(&self, these: &[Arc<str>]) -> Vec<Arc<str>> {
        let mut all = self.names.clone();
        all.push(Arc::from(LAUNCHER));
        if self.tested {
            all.push(Arc::from(TEST));
        }
        all.retain(|h| !these.contains(h));
        all
    }

    fn inject(&mut self, world: &mut turmoil::Sim<'_>, Fault(kind): Fault, now: Duration) {
        let note = |hosts: &[Arc<str>], what: String| {
            self.shared.note(now, &hosts.join(","), what);
        };
        match kind {
            FaultKind::Crash(nodes) => {
                let hosts = self.hosts_of(&nodes);
                for host in &hosts {
                    if let Some(unit) = self.names.iter().position(|n| n == host) {
                        self.shared.crashed.borrow_mut().insert(unit);
                    }
                    world.crash(&**host);
                }
                note(&hosts, "crashed (fault)".into());
            }
            FaultKind::Partition(a, b) => {
                let (a, b) = (self.hosts_of(&a), self.hosts_of(&b));
                pairs(&a, &b, |x, y| world.hold(x, y));
                note(&a, format!("partitioned from {} (fault)", b.join(",")));
            }
            FaultKind::Heal(a, b) => {
                let (a, b) = (self.hosts_of(&a), self.hosts_of(&b));
                pairs(&a, &b, |x, y| world.release(x, y));
                note(&a, format!("healed from {}", b.join(",")));
            }
            FaultKind::Pause(nodes, pause) => {
                let hosts = self.hosts_of(&nodes);
                let others = self.others(&hosts);
                pairs(&hosts, &others, |x, y| world.hold(x, y));
                note(&hosts, format!("paused for {pause:?} (fault)"));
                let until = now + pause;
                let at = self.faults.partition_point(|(at, _)| *at <= until);
                self.faults
                    .insert(at, (until, Fault(FaultKind::Resume(nodes))));
            }
            FaultKind::Resume(nodes) => {
                let hosts = self.hosts_of(&nodes);
                let others = self.others(&hosts);
                pairs(&hosts, &others, |x, y| world.release(x, y));
                note(&hosts, "resumed".into());
            }
            FaultKind::Delay(a, b, latency) => {
                let (a, b) = (self.hosts_of(&a), self.hosts_of(&b));
                pairs(&a, &b, |x, y| world.set_link_latency(x, y, latency));
                note(&a, format!("{latency:?} from {} (fault)", b.join(",")));
            }
        }
    }
}

/// Calls `f` on every pair of distinct hosts, one from `a`, one from `b`.
fn pairs(a: &[Arc<str>], b: &[Arc<str>], mut f: impl FnMut(&str, &str)) {
    for x in a {
        for y in b {
            if x != y {
                f(x, y);
            }
        }
    }
}
