//! What a cluster's coordinator shows on its dashboard: a [`Board`] of the whole program, fed
//! by what the coordinator hears of its units ([`Event`]: joins, readiness, how nodes ended,
//! their counters) and by what it decides ([`Action`]: starts, restarts, the stop and its
//! failure).
//!
//! A unit is trusted with nothing: it speaks only of its own nodes, and the board keeps one
//! report of counters per node, the last that it
//! [accepts](crate::metrics::NodeStats::from_report).

use std::sync::Arc;

use super::coord::{Action, Event};
use super::Plan;
use crate::dashboard::board::Board;
use crate::launch::control::{Order, Report};
use crate::metrics::NodeStats;
use crate::supervise::NodeOutcome;

/// A coordinator's board, with the plan that says which unit runs which node.
pub(crate) struct Show<'p> {
    board: Arc<Board>,
    plan: &'p Plan,
}

impl<'p> Show<'p> {
    /// Shows `plan`'s program on `board` (a board of its nodes, reported by its units).
    pub(crate) fn new(board: Arc<Board>, plan: &'p Plan) -> Self {
        Show { board, plan }
    }

    /// Notes what a unit did or said.
    pub(crate) fn event(&self, event: &Event) {
        match event {
            Event::Joined { unit, .. } => {
                for &id in self.nodes(*unit) {
                    self.board.joined(id);
                }
            }
            Event::Said { unit, report } => self.said(*unit, report),
            Event::Closed { .. } | Event::Tick | Event::Signal(_) => {}
        }
    }

    fn said(&self, unit: usize, report: &Report) {
        match report {
            Report::Ready { ports } => {
                for &id in self.nodes(unit) {
                    self.board
                        .built(id, ports.iter().any(|&(node, _)| node == id));
                }
            }
            Report::Ended { node, outcome } if self.runs(unit, *node) => {
                self.board.supervisor.ended(*node, outcome.clone());
            }
            // Its process kills it: the coordinator decides what the program's outcome is.
            Report::Overran { node, .. } if self.runs(unit, *node) => {
                self.board.supervisor.ended(*node, NodeOutcome::Killed);
            }
            Report::Stats { node, json } if self.runs(unit, *node) => {
                match NodeStats::from_report(json) {
                    Some(stats) => self.board.reported(*node, stats),
                    None => tracing::debug!(
                        target: "lp",
                        "coordinator: dropped the counters of node `{}` reported by `{}`: malformed or too large",
                        self.plan.labels[*node],
                        self.plan.units[unit].label
                    ),
                }
            }
            _ => {}
        }
    }

    /// Notes what the coordinator decided.
    pub(crate) fn action(&self, action: &Action) {
        match action {
            Action::Send(unit, Order::Start { .. }) => {
                for &id in self.nodes(*unit) {
                    self.board.running(id);
                }
            }
            Action::Restarting(unit) => {
                for &id in self.nodes(*unit) {
                    self.board.restarting(id);
                    self.board.restarted(id);
                    self.board.supervisor.restarting(id);
                }
            }
            Action::Stopping(Some((node, error))) => {
                self.board.supervisor.record_failure(node, error.clone());
            }
            Action::Stopping(None) => self.board.supervisor.stop.cancel(),
            Action::Send(_, Order::Stop { .. }) | Action::Say(_) | Action::Exit(_) => {}
        }
    }

    /// The nodes unit `unit` runs (none for a unit the plan does not have).
    fn nodes(&self, unit: usize) -> &[usize] {
        self.plan
            .units
            .get(unit)
            .map_or(&[], |u| u.nodes.as_slice())
    }

    /// Whether unit `unit` runs node `id`.
    fn runs(&self, unit: usize, id: usize) -> bool {
        self.plan.unit_of.get(id) == Some(&unit)
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use tokio::time::Instant;

    use super::*;
    use crate::dashboard::view;
    use crate::launch::cluster::coord::Coordinator;
    use crate::metrics::{CallStats, MethodStats, NodeStats, BUCKETS};
    use crate::supervise::Supervisor;
    use crate::transport::frame;
    use crate::LaunchType;

    /// The plan and a coordinator's board of `producer[3]`, `consumer` and `process pair { a;
    /// b }` (units 0 to 2, 3 and 4), the producers restartable once.
    fn setup() -> (Plan, Arc<Board>) {
        let (layout, nodes) = super::super::tests::program();
        let mut plan = Plan::new(&layout, &nodes).expect("plan");
        plan.jobs[0].restart = Some(crate::program::Restart {
            max: 1,
            backoff: Duration::ZERO,
        });
        let supervisor = Arc::new(Supervisor::new(Default::default()));
        let board = Board::new(&layout, &nodes, LaunchType::K8s, supervisor);
        (plan, Arc::new(board))
    }

    /// Feeds `event` to the coordinator and the show, then the show every action; the actions.
    fn feed(c: &mut Coordinator, show: &Show, event: Event) -> Vec<Action> {
        show.event(&event);
        let actions = c.on_event(event, Instant::now());
        actions.iter().for_each(|a| show.action(a));
        actions
    }

    /// The show and the coordinator of `plan`, every unit joined and ready.
    fn started<'a>(plan: &'a Plan, board: &Arc<Board>) -> (Show<'a>, Coordinator<'a>) {
        let show = Show::new(board.clone(), plan);
        let mut c = Coordinator::new(
            plan,
            Duration::from_secs(1),
            Duration::from_secs(60),
            Instant::now(),
        );
        for unit in 0..plan.units.len() {
            let joined = Event::Joined {
                unit,
                conn: 0,
                peer: None,
            };
            feed(&mut c, &show, joined);
            feed(&mut c, &show, said(unit, Report::Ready { ports: vec![] }));
        }
        (show, c)
    }

    fn said(unit: usize, report: Report) -> Event {
        Event::Said { unit, report }
    }

    /// A node's counters: `calls` calls of `ping` served, as many made to `victim`.
    fn counted(calls: u64) -> NodeStats {
        let method = MethodStats {
            method: "ping".into(),
            calls,
            errors: 0,
            seconds: 0.001,
            buckets: vec![calls; BUCKETS.len() + 1],
        };
        NodeStats {
            made: vec![CallStats {
                callee: "victim".into(),
                stats: method.clone(),
            }],
            served: vec![method],
            ..NodeStats::default()
        }
    }

    /// Unit `unit`'s report of node `node`'s `stats`, as its control link carries it.
    fn reported(unit: usize, node: usize, stats: &NodeStats) -> Event {
        let json = stats.to_report().expect("JSON");
        let report = Report::Stats { node, json };
        let bytes = frame::encode(&report).expect("a frame");
        let report = frame::decode::<Report>(&bytes).expect("the same report");
        said(unit, report)
    }

    fn states(board: &Board) -> Vec<&'static str> {
        view::nodes(board).iter().map(|n| n.state).collect()
    }

    #[test]
    fn the_board_follows_joins_readiness_the_start_and_reported_counters() {
        let (plan, board) = setup();
        let show = Show::new(board.clone(), &plan);
        let mut c = Coordinator::new(
            &plan,
            Duration::from_secs(1),
            Duration::from_secs(60),
            Instant::now(),
        );
        for unit in 0..plan.units.len() {
            let peer = Some(IpAddr::from([10, 0, 0, unit as u8]));
            let conn = unit as u64;
            feed(&mut c, &show, Event::Joined { unit, conn, peer });
        }
        assert!(states(&board).iter().all(|&s| s == "starting"));
        for unit in 0..plan.units.len() {
            let ports = match unit {
                4 => vec![],
                _ => plan.units[unit]
                    .nodes
                    .iter()
                    .map(|&id| (id, 7000))
                    .collect(),
            };
            feed(&mut c, &show, said(unit, Report::Ready { ports }));
        }
        // Every node has a run: all running, once the last unit is ready.
        assert!(states(&board).iter().all(|&s| s == "running"));
        let kinds: Vec<_> = view::nodes(&board).iter().map(|n| n.kind).collect();
        use crate::dashboard::board::Kind::{Courier, Worker};
        assert_eq!(kinds[3..], [Some(Courier), Some(Worker), Some(Worker)]);
        let actions = feed(&mut c, &show, reported(3, 3, &counted(7)));
        assert!(actions.is_empty(), "counters decide nothing: {actions:?}");
        let consumer = &view::nodes(&board)[3];
        assert_eq!((consumer.calls, consumer.methods.len()), (7, 1));
        assert_eq!(
            (consumer.calls_made, consumer.made[0].callee.as_str()),
            (7, "victim")
        );
        // A later report replaces the earlier one.
        feed(&mut c, &show, reported(3, 3, &counted(9)));
        assert_eq!(view::nodes(&board)[3].calls, 9);
    }

    #[test]
    fn a_unit_speaks_only_of_its_own_nodes_and_within_bounds() {
        let (plan, board) = setup();
        let show = Show::new(board.clone(), &plan);
        // Unit 0 runs node 0 only.
        show.event(&reported(0, 3, &counted(5)));
        show.event(&said(
            0,
            Report::Ended {
                node: 3,
                outcome: NodeOutcome::Finished,
            },
        ));
        show.event(&reported(0, 99, &counted(5)));
        assert_eq!(view::nodes(&board)[3].calls, 0);
        assert_eq!(view::nodes(&board)[3].state, "starting");
        let mut huge = counted(5);
        huge.made[0].callee = "m".repeat(crate::metrics::MAX_REPORTED);
        let mut long_histogram = counted(5);
        long_histogram.made[0].stats.buckets.push(5);
        let mut many = counted(5);
        many.served = vec![many.served[0].clone(); 100];
        for stats in [huge, long_histogram, many] {
            show.event(&reported(0, 0, &stats));
            assert_eq!(view::nodes(&board)[0].calls, 0);
        }
        let garbage = Report::Stats {
            node: 0,
            json: b"{\"served\": 5}".to_vec(),
        };
        show.event(&said(0, garbage));
        assert_eq!(view::nodes(&board)[0].calls, 0);
        show.event(&reported(0, 0, &counted(5)));
        assert_eq!(view::nodes(&board)[0].calls, 5);
    }

    #[test]
    fn restarts_are_counted_and_the_failure_that_stops_the_program_is_named() {
        let (plan, board) = setup();
        let (show, mut c) = started(&plan, &board);
        let failed = |error: &str| {
            [
                Report::Ended {
                    node: 0,
                    outcome: NodeOutcome::Failed(error.into()),
                },
                Report::Failed {
                    node: 0,
                    error: error.into(),
                },
            ]
        };
        for report in failed("boom") {
            feed(&mut c, &show, said(0, report));
        }
        let producer = &view::nodes(&board)[0];
        assert_eq!((producer.state, producer.restarts), ("restarting", 1));
        assert_eq!(view::program(&board).state, "running");
        feed(
            &mut c,
            &show,
            Event::Joined {
                unit: 0,
                conn: 1,
                peer: None,
            },
        );
        assert_eq!(view::nodes(&board)[0].state, "starting");
        feed(&mut c, &show, said(0, Report::Ready { ports: vec![] }));
        assert_eq!(view::nodes(&board)[0].state, "running");
        // Its one restart used, the next failure stops the program.
        for report in failed("boom again") {
            feed(&mut c, &show, said(0, report));
        }
        let program = view::program(&board);
        assert_eq!(program.state, "failed");
        let failure = program.failure.expect("a failure");
        assert_eq!(
            (failure.node.as_str(), failure.error.as_str()),
            ("producer/0", "boom again")
        );
        assert_eq!(view::nodes(&board)[0].state, "failed");
        assert_eq!(view::nodes(&board)[1].state, "stopping");
    }

    #[test]
    fn a_node_that_overstays_a_clean_stop_is_killed_and_fails_the_program() {
        let (plan, board) = setup();
        let (show, mut c) = started(&plan, &board);
        feed(&mut c, &show, Event::Signal("terminated"));
        assert_eq!(view::program(&board).state, "stopping");
        assert_eq!(view::nodes(&board)[0].state, "stopping");
        let overran = Report::Overran {
            node: 0,
            error: "did not stop within the grace period; killed".into(),
        };
        feed(&mut c, &show, said(0, overran));
        let producer = &view::nodes(&board)[0];
        assert_eq!(
            (producer.state, producer.outcome.as_deref()),
            ("failed", Some("killed"))
        );
        let program = view::program(&board);
        assert_eq!(program.state, "failed");
        assert_eq!(
            program.failure.map(|f| f.node).as_deref(),
            Some("producer/0")
        );
    }
}
