//! The coordinator of a cluster launch: one small process (the coordinator Job on Kubernetes, a
//! background process of the batch script on Slurm) that every unit links to over TCP
//! ([`control`](crate::launch::control)), authenticated with the launch's member key (see
//! `transport::keys`).
//!
//! 1. each unit joins, builds its nodes, and reports ready once they serve, with their ports;
//! 2. when every unit is ready, the coordinator orders everyone to start, with the address
//!    table (each connection's peer IP and the ports it reported); units start their nodes'
//!    `run` only then;
//! 3. a unit reports a stop (a node called `stop()`, or the process got SIGTERM), a failure, or
//!    that it is done (its nodes finished and it serves nothing); a unit whose link closes
//!    without one of these died (e.g. SIGKILL) and counts as failed;
//! 4. on the first stop or failure, or when every unit is done, the coordinator orders everyone
//!    to stop, waits (bounded by the grace period) for every unit to disconnect, and exits: 0
//!    for a clean stop, 1 for a failure — the program's status.
//!
//! Restarts (on Kubernetes, `restartPolicy: OnFailure` restarts a failed container in its pod;
//! on Slurm, the batch script starts the unit's step again): a unit whose job has a restart
//! policy may fail (report or vanish) up to `max` times without stopping the program; its new
//! process joins again and, as soon as it is ready, it is ordered to start and every running
//! process gets the address table again (on Slurm the new process may serve on another node
//! and port). Callers' handles wait for it (the nodes are marked restartable).
//!
//! The decisions are a state machine, [`Coordinator`]: events in, actions out, no sockets and
//! no clock of its own, tested as such; [`run`] is the thin loop around it.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::show::Show;
use super::Plan;
use crate::dashboard::board::Board;
use crate::dashboard::Dashboard;
use crate::launch::control::{self, LinkEvent, Order, Report};
use crate::transport::frame::Secret;

/// How long, after a stop, the coordinator waits for processes that never connected (a process
/// about to connect then learns of the stop instead of waiting to join), and how long past the
/// grace period for connected ones to end.
const LINGER: Duration = Duration::from_secs(5);

/// What happens to the coordinator.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// A unit's process linked (perhaps again, after a restart).
    Joined {
        unit: usize,
        /// Tells this link from an earlier one of the same unit.
        conn: u64,
        peer: Option<IpAddr>,
    },
    /// A unit reported.
    Said { unit: usize, report: Report },
    /// A unit's link closed.
    Closed { unit: usize, conn: u64 },
    /// Time passed (the loop wakes at [`Coordinator::wake_at`]).
    Tick,
    /// The coordinator got SIGTERM or Ctrl-C.
    Signal(&'static str),
}

/// What the coordinator does about it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Sends an order to a unit.
    Send(usize, Order),
    /// Says something on the coordinator's output (`lp: …`).
    Say(String),
    /// A unit's process restarts (its nodes too).
    Restarting(usize),
    /// The program stops: because of this failure (label, error), or cleanly (`None`); said
    /// again when a failure comes during a clean stop.
    Stopping(Option<(String, String)>),
    /// Ends: the program's outcome, a failure's label and error if any.
    Exit(Option<(String, String)>),
}

/// Where a unit is.
#[derive(Debug, Clone, Default)]
struct UnitState {
    /// Its current link, if connected.
    conn: Option<u64>,
    /// Whether it ever linked: after a stop, the coordinator lingers (bounded) for units that
    /// have not, so a late process learns of the stop instead of waiting to join.
    ever: bool,
    /// Whether its process said why it ends (so a closed link is not a death).
    said_bye: bool,
    /// Its nodes finished and it serves nothing.
    done: bool,
    ready: bool,
    peer: Option<IpAddr>,
    /// Restarts used (Kubernetes).
    restarts: u32,
}

/// The stop under way: its cause (a failure, or none) and since when.
#[derive(Debug, Clone)]
struct Stopping {
    failure: Option<(String, String)>,
    since: Instant,
}

/// The coordinator's decisions.
pub(crate) struct Coordinator<'p> {
    plan: &'p Plan,
    grace: Duration,
    join_timeout: Duration,
    /// When every unit must be ready.
    join_deadline: Instant,
    units: Vec<UnitState>,
    /// Where each serving node is, by node id.
    book: Vec<Option<SocketAddr>>,
    started: bool,
    stopping: Option<Stopping>,
}

impl<'p> Coordinator<'p> {
    pub(crate) fn new(
        plan: &'p Plan,
        grace: Duration,
        join_timeout: Duration,
        now: Instant,
    ) -> Self {
        let stopping = plan.units.is_empty().then_some(Stopping {
            failure: None,
            since: now,
        });
        Coordinator {
            plan,
            grace,
            join_timeout,
            join_deadline: now + join_timeout,
            units: vec![UnitState::default(); plan.units.len()],
            book: vec![None; plan.labels.len()],
            started: false,
            stopping,
        }
    }

    /// When the loop must next wake with an [`Event::Tick`], if ever.
    pub(crate) fn wake_at(&self, now: Instant) -> Option<Instant> {
        match &self.stopping {
            None if !self.started => Some(self.join_deadline),
            None => None,
            Some(s) => [s.since + LINGER, s.since + self.grace + LINGER]
                .into_iter()
                .find(|t| *t > now),
        }
    }

    fn label(&self, unit: usize) -> String {
        self.plan
            .units
            .get(unit)
            .map_or("?", |u| u.label.as_str())
            .to_string()
    }

    fn node_label(&self, id: usize) -> String {
        self.plan
            .labels
            .get(id)
            .map_or("?", String::as_str)
            .to_string()
    }

    /// The restart policy a unit may still use, if any.
    fn may_restart(&self, unit: usize) -> Option<u32> {
        let used = self.units.get(unit)?.restarts;
        self.plan
            .units
            .get(unit)
            .and_then(|u| self.plan.jobs.get(u.job))
            .and_then(|j| j.restart)
            .filter(|p| used < p.max && self.stopping.is_none())
            .map(|p| p.max)
    }

    /// Takes an event; what to do about it.
    pub(crate) fn on_event(&mut self, event: Event, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        let decision = match event {
            Event::Joined { unit, conn, peer } => {
                self.joined(unit, conn, peer, &mut actions);
                None
            }
            Event::Said { unit, report } => self.said(unit, report, &mut actions),
            Event::Closed { unit, conn } => self.closed(unit, conn, &mut actions),
            Event::Tick => self.late(now),
            Event::Signal(signal) => match self.stopping {
                None => {
                    actions.push(Action::Say(format!(
                        "coordinator {signal}: stopping every node"
                    )));
                    Some(None)
                }
                Some(_) => None,
            },
        };
        if let Some(failure) = decision {
            self.decide(failure, now, &mut actions);
        }
        if let Some(outcome) = self.finished(now) {
            actions.push(Action::Exit(outcome));
        }
        actions
    }

    fn joined(&mut self, unit: usize, conn: u64, peer: Option<IpAddr>, actions: &mut Vec<Action>) {
        let Some(state) = self.units.get_mut(unit) else {
            return;
        };
        *state = UnitState {
            conn: Some(conn),
            ever: true,
            peer,
            restarts: state.restarts,
            ..UnitState::default()
        };
        if let Some(stopping) = &self.stopping {
            let failure = stopping.failure.clone();
            actions.push(Action::Send(unit, Order::Stop { failure }));
        }
    }

    /// A unit's report; a decision to stop (with a failure or not), if it makes one.
    fn said(
        &mut self,
        unit: usize,
        report: Report,
        actions: &mut Vec<Action>,
    ) -> Option<Option<(String, String)>> {
        if unit >= self.units.len() {
            return None;
        }
        if !matches!(
            report,
            Report::Join { .. } | Report::Ready { .. } | Report::Stats { .. }
        ) {
            self.units[unit].said_bye = true;
        }
        let stopping_cleanly = matches!(&self.stopping, Some(s) if s.failure.is_none());
        match report {
            Report::Join { .. } => None,
            Report::Ready { ports } => {
                self.ready(unit, ports, actions);
                None
            }
            Report::Stop { node } => {
                if self.stopping.is_none() {
                    actions.push(Action::Say(match node {
                        Some(id) => format!(
                            "node `{}` called stop(): stopping every node",
                            self.node_label(id)
                        ),
                        None => format!(
                            "process `{}` was asked to terminate: stopping every node",
                            self.label(unit)
                        ),
                    }));
                }
                Some(None)
            }
            Report::Failed { node, error } if stopping_cleanly => {
                // The stop's consequence (its peers went away), not a failure.
                actions.push(Action::Say(format!(
                    "node `{}` ended with an error while the program stopped: {error}",
                    self.node_label(node)
                )));
                None
            }
            Report::Overran { node, error } => Some(Some((self.node_label(node), error))),
            Report::Failed { node, error } => {
                let label = self.node_label(node);
                match self.may_restart(unit) {
                    Some(max) => {
                        self.restart(unit, actions);
                        actions.push(Action::Say(format!(
                            "node `{label}` failed: {error}; its process restarts (restart {} of {max})",
                            self.units[unit].restarts
                        )));
                        None
                    }
                    None => Some(Some((label, error))),
                }
            }
            // How each node ended, and its counters, are for the dashboard only.
            Report::Ended { .. } | Report::Stats { .. } => None,
            Report::Done => {
                self.units[unit].done = true;
                self.units.iter().all(|u| u.done).then_some(None)
            }
        }
    }

    fn restart(&mut self, unit: usize, actions: &mut Vec<Action>) {
        let state = &mut self.units[unit];
        state.restarts += 1;
        state.ready = false;
        actions.push(Action::Restarting(unit));
    }

    fn ready(&mut self, unit: usize, ports: Vec<(usize, u16)>, actions: &mut Vec<Action>) {
        self.units[unit].ready = true;
        let peer = self.units[unit]
            .peer
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        for (id, port) in ports {
            if self.plan.unit_of.get(id) == Some(&unit) {
                if let Some(slot) = self.book.get_mut(id) {
                    *slot = Some(SocketAddr::new(peer, port));
                }
            }
        }
        if self.started {
            // The restarted unit starts; every running one learns where it serves now.
            for (u, state) in self.units.iter().enumerate() {
                if state.conn.is_some() && state.ready {
                    let book = self.book.clone();
                    actions.push(Action::Send(u, Order::Start { book }));
                }
            }
        } else if self.stopping.is_none() && self.units.iter().all(|u| u.ready) {
            self.started = true;
            actions.push(Action::Say(format!(
                "coordinator: all {} processes ready; starting",
                self.units.len()
            )));
            for (u, state) in self.units.iter().enumerate() {
                if state.conn.is_some() {
                    let book = self.book.clone();
                    actions.push(Action::Send(u, Order::Start { book }));
                }
            }
        }
    }

    fn closed(
        &mut self,
        unit: usize,
        conn: u64,
        actions: &mut Vec<Action>,
    ) -> Option<Option<(String, String)>> {
        // An earlier process of a unit that has joined again: nothing to do.
        if self.units.get(unit)?.conn != Some(conn) {
            return None;
        }
        self.units[unit].conn = None;
        if self.units[unit].said_bye || self.stopping.is_some() {
            return None;
        }
        let error = "its process ended without a word (killed, or lost its connection)";
        match self.may_restart(unit) {
            Some(max) => {
                self.restart(unit, actions);
                actions.push(Action::Say(format!(
                    "`{}`: {error}; its process restarts (restart {} of {max})",
                    self.label(unit),
                    self.units[unit].restarts
                )));
                None
            }
            None => Some(Some((self.label(unit), error.to_string()))),
        }
    }

    /// The join deadline passed with units not ready: a failure naming them.
    fn late(&self, now: Instant) -> Option<Option<(String, String)>> {
        if self.started || self.stopping.is_some() || now < self.join_deadline {
            return None;
        }
        let missing: Vec<String> = (0..self.units.len())
            .filter(|&u| !self.units[u].ready)
            .map(|u| self.label(u))
            .collect();
        Some(Some((
            missing.first().cloned().unwrap_or_else(|| "?".into()),
            format!(
                "was not ready within {:?} (not ready: {})",
                self.join_timeout,
                missing.join(", ")
            ),
        )))
    }

    /// Starts the stop (ordering every unit), or, during a clean stop, records a node that
    /// overstayed it: such a node fails even a clean stop.
    fn decide(
        &mut self,
        failure: Option<(String, String)>,
        now: Instant,
        actions: &mut Vec<Action>,
    ) {
        match &mut self.stopping {
            None => {
                if let Some((node, error)) = &failure {
                    actions.push(Action::Say(format!("node `{node}` failed: {error}")));
                }
                for (u, state) in self.units.iter().enumerate() {
                    if state.conn.is_some() {
                        let failure = failure.clone();
                        actions.push(Action::Send(u, Order::Stop { failure }));
                    }
                }
                actions.push(Action::Stopping(failure.clone()));
                self.stopping = Some(Stopping {
                    failure,
                    since: now,
                });
            }
            Some(stopping) if stopping.failure.is_none() => {
                if let Some((node, error)) = failure {
                    actions.push(Action::Say(format!("node `{node}` failed: {error}")));
                    stopping.failure = Some((node, error));
                    actions.push(Action::Stopping(stopping.failure.clone()));
                }
            }
            Some(_) => {}
        }
    }

    /// The outcome, once the stop is over: every link closed (and every unit came, or we
    /// lingered for those that did not), or the grace period and then some passed.
    fn finished(&self, now: Instant) -> Option<Option<(String, String)>> {
        let stopping = self.stopping.as_ref()?;
        let live = self.units.iter().filter(|u| u.conn.is_some()).count();
        let all_came = self.units.iter().all(|u| u.ever);
        let lingered = now >= stopping.since + LINGER;
        let over = now >= stopping.since + self.grace + LINGER;
        ((live == 0 && (all_came || lingered)) || over).then(|| stopping.failure.clone())
    }
}

/// Runs the coordinator on `listener` until the program ends, serving the dashboard of
/// `board` on the address given with it, if any; returns the program's status.
pub(crate) async fn run(
    listener: TcpListener,
    plan: &Plan,
    member: Secret,
    join_timeout: Duration,
    grace: Duration,
    dashboard: Option<(SocketAddr, Arc<Board>)>,
) -> ExitCode {
    let (events_tx, mut events) = mpsc::unbounded_channel::<LinkEvent>();
    let accepting = CancellationToken::new();
    tokio::spawn(control::accept(
        listener,
        member,
        plan.units.len(),
        plan.fingerprint.clone(),
        events_tx,
        accepting.clone(),
    ));
    let mut coordinator = Coordinator::new(plan, grace, join_timeout, Instant::now());
    let mut orders: Vec<Option<mpsc::UnboundedSender<Order>>> = vec![None; plan.units.len()];
    tracing::info!(
        target: "lp",
        "coordinator of `{}`: waiting for {} processes",
        plan.program,
        plan.units.len()
    );
    let served = match dashboard {
        Some((addr, board)) => serve(addr, board, plan).await,
        None => None,
    };
    let show = served.as_ref().map(|(_, show)| show);
    let outcome = follow(&mut coordinator, &mut events, &mut orders, show).await;
    accepting.cancel();
    // Let the last Stop orders reach the units.
    drop(orders);
    tokio::time::sleep(Duration::from_millis(50)).await;
    match outcome {
        None => {
            tracing::info!(target: "lp", "every process stopped cleanly");
            ExitCode::SUCCESS
        }
        Some((node, error)) => {
            tracing::error!(target: "lp", "node `{node}` failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Serves the dashboard of `board` (`plan`'s nodes) on `addr` until the returned
/// [`Dashboard`] is dropped, saying where; `None` (said) when it cannot: the program runs
/// without.
async fn serve<'p>(
    addr: SocketAddr,
    board: Arc<Board>,
    plan: &'p Plan,
) -> Option<(Dashboard, Show<'p>)> {
    match crate::dashboard::serve(addr, board.clone()).await {
        Ok(served) => {
            tracing::info!(target: "lp", "dashboard at {}", served.url);
            Some((served, Show::new(board, plan)))
        }
        Err(e) => {
            let e = crate::error::chain(&e);
            tracing::error!(target: "lp", "coordinator: {e}; the program runs without a dashboard");
            None
        }
    }
}

/// Feeds the coordinator its events and carries out its actions until it exits, showing both
/// on the dashboard if one is served; the outcome (a failure, if any).
async fn follow(
    coordinator: &mut Coordinator<'_>,
    events: &mut mpsc::UnboundedReceiver<LinkEvent>,
    orders: &mut [Option<mpsc::UnboundedSender<Order>>],
    show: Option<&Show<'_>>,
) -> Option<(String, String)> {
    let term = crate::launch::shutdown_signal();
    tokio::pin!(term);
    let mut signalled = false;
    let mut next = Some(Event::Tick);
    loop {
        let event = match next.take() {
            Some(event) => event,
            None => tokio::select! {
                event = events.recv() => match event {
                    None => return None,
                    Some(LinkEvent::Refused(why)) => {
                        tracing::warn!(target: "lp", "coordinator: refused a connection: {why}");
                        continue;
                    }
                    Some(LinkEvent::Joined { unit, conn, peer, orders: to_unit }) => {
                        if let Some(slot) = orders.get_mut(unit) {
                            *slot = Some(to_unit);
                        }
                        Event::Joined { unit, conn, peer }
                    }
                    Some(LinkEvent::Said { unit, report, .. }) => Event::Said { unit, report },
                    Some(LinkEvent::Closed { unit, conn }) => Event::Closed { unit, conn },
                },
                _ = sleep_until(coordinator.wake_at(Instant::now())) => Event::Tick,
                signal = &mut term, if !signalled => {
                    signalled = true;
                    Event::Signal(signal)
                }
            },
        };
        if let Some(show) = show {
            show.event(&event);
        }
        for action in coordinator.on_event(event, Instant::now()) {
            if let Some(show) = show {
                show.action(&action);
            }
            match action {
                Action::Send(unit, order) => {
                    if let Some(Some(to_unit)) = orders.get(unit) {
                        let _ = to_unit.send(order);
                    }
                }
                Action::Say(text) => tracing::info!(target: "lp", "{text}"),
                Action::Restarting(_) | Action::Stopping(_) => {}
                Action::Exit(outcome) => return outcome,
            }
        }
    }
}

/// Sleeps until `at`, or forever.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::Restart;

    /// The plan of `producer[3]`, `consumer` and `process pair { a; b }`, the producers
    /// restartable twice.
    fn plan() -> Plan {
        let (layout, nodes) = super::super::tests::program();
        let mut plan = Plan::new(&layout, &nodes).expect("plan");
        plan.jobs[0].restart = Some(Restart {
            max: 2,
            backoff: Duration::ZERO,
        });
        plan
    }

    fn join_all(c: &mut Coordinator, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        for unit in 0..c.units.len() {
            let peer = Some(IpAddr::from([10, 0, 0, unit as u8]));
            actions.extend(c.on_event(
                Event::Joined {
                    unit,
                    conn: unit as u64,
                    peer,
                },
                now,
            ));
            let ports = c.plan.units[unit]
                .nodes
                .iter()
                .map(|&id| (id, 7000 + id as u16))
                .collect();
            actions.extend(c.on_event(
                Event::Said {
                    unit,
                    report: Report::Ready { ports },
                },
                now,
            ));
        }
        actions
    }

    fn starts(actions: &[Action]) -> usize {
        actions
            .iter()
            .filter(|a| matches!(a, Action::Send(_, Order::Start { .. })))
            .count()
    }

    #[test]
    fn the_barrier_starts_everyone_with_the_address_book() {
        let plan = plan();
        let now = Instant::now();
        let mut c = Coordinator::new(&plan, Duration::from_secs(1), Duration::from_secs(60), now);
        let actions = join_all(&mut c, now);
        assert_eq!(starts(&actions), plan.units.len(), "{actions:?}");
        let Some(Action::Send(_, Order::Start { book })) = actions.last() else {
            panic!("{actions:?}")
        };
        assert_eq!(
            book[0],
            Some(SocketAddr::new(IpAddr::from([10, 0, 0, 0]), 7000))
        );
    }

    #[test]
    fn a_stop_orders_everyone_and_ends_when_every_link_closed() {
        let plan = plan();
        let now = Instant::now();
        let mut c = Coordinator::new(&plan, Duration::from_secs(1), Duration::from_secs(60), now);
        join_all(&mut c, now);
        let actions = c.on_event(
            Event::Said {
                unit: 1,
                report: Report::Stop { node: Some(1) },
            },
            now,
        );
        let stops = actions
            .iter()
            .filter(|a| matches!(a, Action::Send(_, Order::Stop { failure: None })))
            .count();
        assert_eq!(stops, plan.units.len());
        for unit in 0..plan.units.len() {
            let actions = c.on_event(
                Event::Closed {
                    unit,
                    conn: unit as u64,
                },
                now,
            );
            let last = unit + 1 == plan.units.len();
            assert_eq!(actions.contains(&Action::Exit(None)), last, "{actions:?}");
        }
    }

    #[test]
    fn a_death_restarts_within_the_policy_then_fails_the_program() {
        let plan = plan();
        let now = Instant::now();
        let mut c = Coordinator::new(&plan, Duration::from_secs(1), Duration::from_secs(60), now);
        join_all(&mut c, now);
        for round in 1..=2u64 {
            let actions = c.on_event(
                Event::Closed {
                    unit: 0,
                    conn: if round == 1 { 0 } else { 100 + round - 1 },
                },
                now,
            );
            assert!(
                matches!(&actions[..], [Action::Restarting(0), Action::Say(s)] if s.contains("restarts")),
                "{actions:?}"
            );
            // The new process serves elsewhere (on Slurm, another node and port).
            let again = c.on_event(
                Event::Joined {
                    unit: 0,
                    conn: 100 + round,
                    peer: Some(IpAddr::from([10, 0, 1, round as u8])),
                },
                now,
            );
            assert!(again.is_empty());
            let port = 9000 + round as u16;
            let ready = c.on_event(
                Event::Said {
                    unit: 0,
                    report: Report::Ready {
                        ports: vec![(0, port)],
                    },
                },
                now,
            );
            assert_eq!(
                starts(&ready),
                plan.units.len(),
                "a restarted process starts at once, and every process learns where: {ready:?}"
            );
            let moved = Some(SocketAddr::new(IpAddr::from([10, 0, 1, round as u8]), port));
            assert!(
                ready.iter().all(
                    |a| matches!(a, Action::Send(_, Order::Start { book }) if book[0] == moved)
                ),
                "{ready:?}"
            );
        }
        let actions = c.on_event(Event::Closed { unit: 0, conn: 102 }, now);
        assert!(
            actions
                .iter()
                .any(|a| matches!(a, Action::Send(_, Order::Stop { failure: Some(_) }))),
            "{actions:?}"
        );
    }

    #[test]
    fn units_not_ready_in_time_fail_the_program_naming_them() {
        let plan = plan();
        let now = Instant::now();
        let mut c = Coordinator::new(&plan, Duration::from_secs(1), Duration::from_secs(60), now);
        assert_eq!(c.wake_at(now), Some(now + Duration::from_secs(60)));
        let actions = c.on_event(Event::Tick, now + Duration::from_secs(61));
        assert!(
            actions
                .iter()
                .any(|a| matches!(a, Action::Say(s) if s.contains("was not ready within"))),
            "{actions:?}"
        );
        // No unit ever came: the coordinator lingers for them, then ends with the failure.
        let end = c.on_event(Event::Tick, now + Duration::from_secs(61) + LINGER);
        assert!(matches!(end.last(), Some(Action::Exit(Some(_)))), "{end:?}");
    }

    #[test]
    fn an_error_during_a_clean_stop_is_noted_but_overstaying_fails() {
        let plan = plan();
        let now = Instant::now();
        let mut c = Coordinator::new(&plan, Duration::from_secs(1), Duration::from_secs(60), now);
        join_all(&mut c, now);
        c.on_event(Event::Signal("terminated"), now);
        let noted = c.on_event(
            Event::Said {
                unit: 2,
                report: Report::Failed {
                    node: 2,
                    error: "peer gone".into(),
                },
            },
            now,
        );
        assert!(
            matches!(&noted[..], [Action::Say(s)] if s.contains("while the program stopped")),
            "{noted:?}"
        );
        c.on_event(
            Event::Said {
                unit: 0,
                report: Report::Overran {
                    node: 0,
                    error: "killed".into(),
                },
            },
            now,
        );
        for unit in 0..plan.units.len() {
            let actions = c.on_event(
                Event::Closed {
                    unit,
                    conn: unit as u64,
                },
                now,
            );
            if let Some(Action::Exit(outcome)) = actions.last() {
                assert_eq!(outcome.as_ref().map(|f| f.1.as_str()), Some("killed"));
            }
        }
    }
}
