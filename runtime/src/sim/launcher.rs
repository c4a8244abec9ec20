//! The simulated launcher: a turmoil client that supervises the units' hosts over their
//! control links, as the `local_mp` launcher supervises its children — starts each unit once
//! it serves, stops them all when a node calls `stop()` or fails, and restarts a unit whose
//! host failed or crashed under its restart policy (asking the stepping loop to bounce it).

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use futures::stream::FuturesUnordered;
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::world::{Shared, FINGERPRINT};
use crate::launch::control::{self, LinkEvent, Order, Report};
use crate::program::{ErasedNode, Restart};
use crate::supervise::{NodeOutcome, Supervisor};
use crate::transport::frame::Secret;
use crate::transport::sim::CONTROL_PORT;

/// A unit of the program as the launcher sees it.
pub(super) struct UnitPlan {
    /// Its host's name: the node's label, or the `process` block's name.
    pub(super) label: Arc<str>,
    /// Its nodes' ids.
    members: Vec<usize>,
    /// Its restart policy: its nodes' when they all have one.
    restart: Option<Restart>,
}

impl UnitPlan {
    pub(super) fn new(label: Arc<str>, members: &[ErasedNode]) -> Self {
        let restart = match members.iter().all(|n| n.settings.restart.is_some()) {
            true => members.first().and_then(|n| n.settings.restart),
            false => None,
        };
        UnitPlan {
            label,
            members: members.iter().map(|n| n.id).collect(),
            restart,
        }
    }
}

/// Where a unit is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Its host runs (or is being started): it has not ended for good.
    Live,
    /// It ended for good: finished, stopped, or failed without a restart left.
    Gone,
}

/// What the launcher knows of a unit.
struct UnitState {
    phase: Phase,
    /// Its current control link: the connection's number and its orders.
    link: Option<(u64, mpsc::UnboundedSender<Order>)>,
    /// The failure its host reported, if any, before its link closed.
    failed: Option<(usize, String)>,
    /// Whether it said every node finished.
    done: bool,
    /// Restarts so far.
    restarts: u32,
    /// How its nodes ended, as their host said, by id.
    last_words: BTreeMap<usize, NodeOutcome>,
}

/// The launcher of one simulated run.
pub(super) struct Launcher {
    pub(super) units: Vec<UnitPlan>,
    pub(super) labels: Vec<String>,
    pub(super) supervisor: Arc<Supervisor>,
    /// The launch's member key, which every host proves on its link.
    pub(super) member: Secret,
    pub(super) shared: Rc<Shared>,
}

impl Launcher {
    /// Supervises the units until every one has ended for good.
    pub(super) async fn run(self) -> turmoil::Result {
        let listener = turmoil::net::TcpListener::bind(("0.0.0.0", CONTROL_PORT)).await?;
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let accepting = CancellationToken::new();
        tokio::spawn(control::accept(
            listener,
            self.member.clone(),
            self.units.len(),
            FINGERPRINT.to_string(),
            events_tx,
            accepting.clone(),
        ));
        let mut states: Vec<UnitState> = self
            .units
            .iter()
            .map(|_| UnitState {
                phase: Phase::Live,
                link: None,
                failed: None,
                done: false,
                restarts: 0,
                last_words: BTreeMap::new(),
            })
            .collect();
        let mut restarting = FuturesUnordered::new();
        let stop = self.supervisor.stop.clone();
        let mut told = false;
        while states.iter().any(|s| s.phase == Phase::Live) {
            tokio::select! {
                biased;
                _ = stop.cancelled(), if !told => {
                    told = true;
                    self.note("sim", "stopping every node");
                    let failure = self.failure();
                    for (_, orders) in states.iter().filter_map(|s| s.link.as_ref()) {
                        let _ = orders.send(Order::Stop { failure: failure.clone() });
                    }
                }
                Some(unit) = restarting.next(), if !restarting.is_empty() => {
                    let unit: usize = unit;
                    match stop.is_cancelled() {
                        true => states[unit].phase = Phase::Gone,
                        false => {
                            self.note(&self.units[unit].label, "restarted");
                            self.shared.bounce.borrow_mut().push(unit);
                        }
                    }
                }
                Some(event) = events.recv() => match event {
                    LinkEvent::Joined { unit, conn, orders, .. } => {
                        if stop.is_cancelled() {
                            let _ = orders.send(Order::Stop { failure: self.failure() });
                        }
                        states[unit].link = Some((conn, orders));
                    }
                    LinkEvent::Said { unit, report, .. } => self.said(unit, report, &mut states[unit]),
                    LinkEvent::Closed { unit, conn } => {
                        let state = &mut states[unit];
                        if state.link.as_ref().is_some_and(|(current, _)| *current == conn) {
                            state.link = None;
                            if let Some(backoff) = self.exited(unit, state) {
                                restarting.push(async move {
                                    tokio::time::sleep(backoff).await;
                                    unit
                                });
                            }
                        }
                    }
                    LinkEvent::Refused(why) => {
                        tracing::warn!(target: "lp", "refused a control connection: {why}");
                    }
                },
            }
        }
        accepting.cancel();
        Ok(())
    }

    fn label(&self, id: usize) -> &str {
        self.labels.get(id).map_or("?", String::as_str)
    }

    /// Notes an event now.
    fn note(&self, node: &str, what: impl Into<String>) {
        let at = turmoil::sim_elapsed().unwrap_or_default();
        self.shared.note(at, node, what);
    }

    /// The program's first failure, for the stop order.
    fn failure(&self) -> Option<(String, String)> {
        match self.supervisor.outcome() {
            Err(crate::LaunchError::NodeFailed { node, error, .. }) => Some((node, error)),
            _ => None,
        }
    }

    /// Handles a unit's report.
    fn said(&self, unit: usize, report: Report, state: &mut UnitState) {
        match report {
            // A simulated launch serves no dashboard.
            Report::Join { .. } | Report::Stats { .. } => {}
            Report::Ready { .. } => {
                self.note(&self.units[unit].label, "serving");
                if let Some((_, orders)) = &state.link {
                    let _ = orders.send(Order::Start { book: Vec::new() });
                }
            }
            Report::Stop { node } => {
                match node {
                    Some(node) => self.note(self.label(node), "called stop()"),
                    None => self.note(&self.units[unit].label, "asked to stop"),
                }
                self.supervisor.stop.cancel();
            }
            Report::Failed { node, error } => {
                self.note(self.label(node), format!("failed: {error}"));
                state.failed = Some((node, error));
            }
            Report::Overran { node, error } => {
                self.supervisor.ended(node, NodeOutcome::Killed);
                self.supervisor.fail_always(self.label(node), error);
            }
            Report::Done => {
                self.note(&self.units[unit].label, "finished");
                state.done = true;
            }
            Report::Ended {
                node,
                outcome: NodeOutcome::Finished,
            } => self.supervisor.ended(node, NodeOutcome::Finished),
            Report::Ended { node, outcome } => {
                state.last_words.insert(node, outcome);
            }
        }
    }

    /// A unit's host ended (its link closed): it is gone for good, or — failed or crashed,
    /// with a restart left — is restarted after the backoff this returns.
    fn exited(&self, unit: usize, state: &mut UnitState) -> Option<std::time::Duration> {
        let plan = &self.units[unit];
        let crashed = self.shared.crashed.borrow_mut().remove(&unit);
        let stopping = self.supervisor.stop.is_cancelled();
        if state.done || (stopping && state.failed.is_none()) {
            state.phase = Phase::Gone;
            return None;
        }
        let first = plan.members.first().copied().unwrap_or(0);
        let (node, error) = state.failed.take().unwrap_or_else(|| {
            let why = match crashed {
                true => "its host crashed (a simulated fault)",
                false => "its process ended without a word",
            };
            (first, why.to_string())
        });
        match plan.restart {
            Some(policy) if state.restarts < policy.max && !stopping => {
                state.restarts += 1;
                tracing::warn!(target: "lp",
                    "node `{}` failed: {error}; restarting in {:?} (restart {} of {})",
                    self.label(node), policy.backoff, state.restarts, policy.max
                );
                self.note(
                    &plan.label,
                    format!(
                        "restarting in {:?} (restart {} of {})",
                        policy.backoff, state.restarts, policy.max
                    ),
                );
                Some(policy.backoff)
            }
            _ => {
                let outcome = state
                    .last_words
                    .remove(&node)
                    .unwrap_or_else(|| NodeOutcome::Failed(error.clone()));
                self.supervisor.fail(self.label(node), error);
                self.supervisor.ended(node, outcome);
                state.phase = Phase::Gone;
                None
            }
        }
    }
}
