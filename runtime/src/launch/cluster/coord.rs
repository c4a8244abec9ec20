//! The coordinator of a cluster launch: one small process (the `lp-coordinator` Job on
//! Kubernetes, a background process of the batch script on Slurm) that every unit connects to
//! over TCP, authenticated with the launch secret like every other connection.
//!
//! Protocol (bincode frames after the usual handshake):
//! 1. each unit connects and sends [`ToCoord::Join`] (who it is), builds its nodes, and sends
//!    [`ToCoord::Ready`] once they serve, with the ports they listen on;
//! 2. when every unit is ready, the coordinator sends everyone [`FromCoord::Start`] with the
//!    address table (built from each connection's peer IP and the ports it reported); units
//!    start their nodes' `run` only then;
//! 3. a unit reports [`ToCoord::Stop`] (a node called `stop()`, or the process got SIGTERM),
//!    [`ToCoord::Failed`] (a node failed) or [`ToCoord::Done`] (its nodes finished and it serves
//!    nothing); a unit whose connection closes without one of these died (e.g. SIGKILL) and
//!    counts as failed;
//! 4. on the first stop, failure or when every unit is done, the coordinator sends everyone
//!    [`FromCoord::Stop`], waits (bounded by the grace period) for every unit to disconnect,
//!    and exits: 0 for a clean stop, 1 for a failure — the program's status.
//!
//! A unit that loses the coordinator without a `Stop` stops its nodes and exits non-zero.
//!
//! Restarts (Kubernetes only, where `restartPolicy: OnFailure` restarts a failed container in
//! its pod): a unit whose job has a restart policy may fail (report or vanish) up to `max`
//! times without stopping the program; its new process joins again and is sent `Start` as
//! soon as it is ready. Callers' handles wait for it (the nodes are marked restartable).

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::Plan;
use crate::transport::conn::{self, FrameReader, FrameWriter};
use crate::transport::frame::{self, Secret};

/// What a unit tells the coordinator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum ToCoord {
    /// The first message of a connection: which unit this is.
    Join {
        /// The unit's index in the plan.
        unit: usize,
        /// The plan's fingerprint: every process must run the same program.
        fingerprint: String,
    },
    /// The unit's nodes are built and serving.
    Ready {
        /// `(node id, port)` of each serving node.
        ports: Vec<(usize, u16)>,
    },
    /// A node of this unit called `stop()` (or the process was asked to terminate).
    Stop {
        /// The node's id, or `None` for a signal.
        node: Option<usize>,
    },
    /// A node of this unit failed.
    Failed {
        /// The node's id.
        node: usize,
        /// What failed.
        error: String,
    },
    /// Every node of this unit finished and it serves nothing; it exits.
    Done,
    /// A node of this unit did not return from `run` within the grace period after the stop:
    /// a failure even of a clean stop (unlike an error returned while stopping).
    Overran {
        /// The node's id.
        node: usize,
        /// What happened, in words.
        error: String,
    },
}

/// What the coordinator tells every unit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum FromCoord {
    /// Every unit joined: start running. The address of each serving node, by node id.
    Start {
        /// `None` for nodes that serve nothing.
        book: Vec<Option<SocketAddr>>,
    },
    /// The program stops: because of this failure (label, error), or cleanly (`None`).
    Stop {
        /// The first failure, if any.
        failure: Option<(String, String)>,
    },
}

/// How long, after a stop, the coordinator waits for processes that never connected (a process
/// about to connect then learns of the stop instead of waiting to join), and how long past the
/// grace period for connected ones to end.
const LINGER: Duration = Duration::from_secs(5);

/// What the per-connection tasks tell the coordinator's loop.
enum Event {
    Joined {
        unit: usize,
        /// Tells this connection from an earlier process of the same unit.
        conn: u64,
        peer: IpAddr,
        outbox: mpsc::UnboundedSender<FromCoord>,
    },
    Said(usize, ToCoord),
    Closed(usize, u64),
    Refused(String),
}

/// Runs the coordinator on `listener` until the program ends; returns the program's status.
pub(crate) async fn run(
    listener: TcpListener,
    plan: &Plan,
    secret: Secret,
    join_timeout: Duration,
    grace: Duration,
    restarts: bool,
) -> ExitCode {
    let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
    let accept = tokio::spawn(accept_loop(
        listener,
        secret,
        plan.units.len(),
        plan.fingerprint.clone(),
        events_tx,
    ));
    let total = plan.units.len();
    let mut outboxes: Vec<Option<mpsc::UnboundedSender<FromCoord>>> = vec![None; total];
    let mut connected = vec![false; total];
    // Whether each unit ever connected: after a stop, the coordinator lingers (bounded) for
    // units that have not, so a late process learns of the stop instead of waiting to join.
    let mut ever = vec![false; total];
    let mut said_bye = vec![false; total];
    let mut done = vec![false; total];
    let mut ready = vec![false; total];
    let mut peers: Vec<Option<IpAddr>> = vec![None; total];
    // The current connection of each unit, and the restarts each has used.
    let mut conns: Vec<Option<u64>> = vec![None; total];
    let mut restarts_used = vec![0u32; total];
    let policy = |unit: usize| {
        plan.units
            .get(unit)
            .and_then(|u| plan.jobs.get(u.job))
            .and_then(|j| j.restart)
            .filter(|_| restarts)
    };
    let mut book: Vec<Option<SocketAddr>> = vec![None; plan.labels.len()];
    let mut started = false;
    let mut stopping: Option<(Option<(String, String)>, tokio::time::Instant)> = None;
    let join_deadline = tokio::time::Instant::now() + join_timeout;
    let label = |unit: usize| plan.units.get(unit).map_or("?", |u| u.label.as_str());
    let node_label = |id: usize| plan.labels.get(id).map_or("?", String::as_str);
    let term = crate::launch::shutdown_signal();
    tokio::pin!(term);
    eprintln!(
        "lp: coordinator of `{}`: waiting for {total} processes",
        plan.program
    );
    if total == 0 {
        stopping = Some((None, tokio::time::Instant::now()));
    }
    loop {
        if let Some((_, since)) = &stopping {
            let live = connected.iter().filter(|c| **c).count();
            let all_came = ever.iter().all(|e| *e);
            let lingered = since.elapsed() > LINGER;
            if (live == 0 && (all_came || lingered)) || since.elapsed() > grace + LINGER {
                break;
            }
        }
        let stop_at = stopping.as_ref().map(|(_, since)| {
            // Wake to check on the processes that never came, then at the very end.
            if since.elapsed() < LINGER {
                *since + LINGER
            } else {
                *since + grace + LINGER
            }
        });
        let mut decision: Option<Option<(String, String)>> = None;
        tokio::select! {
            event = events.recv() => match event {
                None => break,
                Some(Event::Refused(why)) => eprintln!("lp: coordinator: refused a connection: {why}"),
                Some(Event::Joined { unit, conn, peer, outbox }) => {
                    connected[unit] = true;
                    conns[unit] = Some(conn);
                    said_bye[unit] = false;
                    ready[unit] = false;
                    ever[unit] = true;
                    peers[unit] = Some(peer);
                    if let Some((failure, _)) = &stopping {
                        let _ = outbox.send(FromCoord::Stop { failure: failure.clone() });
                    }
                    outboxes[unit] = Some(outbox);
                }
                Some(Event::Said(unit, message)) => match message {
                    ToCoord::Join { .. } => {}
                    ToCoord::Ready { ports } => {
                        ready[unit] = true;
                        let peer = peers[unit].unwrap_or(IpAddr::from([127, 0, 0, 1]));
                        for (id, port) in ports {
                            if plan.unit_of.get(id) == Some(&unit) {
                                book[id] = Some(SocketAddr::new(peer, port));
                            }
                        }
                        if started {
                            if let Some(outbox) = &outboxes[unit] {
                                let _ = outbox.send(FromCoord::Start { book: book.clone() });
                            }
                        } else if stopping.is_none() && ready.iter().all(|r| *r) {
                            started = true;
                            eprintln!("lp: coordinator: all {total} processes ready; starting");
                            for outbox in outboxes.iter().flatten() {
                                let _ = outbox.send(FromCoord::Start { book: book.clone() });
                            }
                        }
                    }
                    ToCoord::Stop { node } => {
                        said_bye[unit] = true;
                        if stopping.is_none() {
                            match node {
                                Some(id) => eprintln!("lp: node `{}` called stop(): stopping every node", node_label(id)),
                                None => eprintln!("lp: process `{}` was asked to terminate: stopping every node", label(unit)),
                            }
                        }
                        decision = Some(None);
                    }
                    ToCoord::Failed { node, error } if matches!(stopping, Some((None, _))) => {
                        // The stop's consequence (its peers went away), not a failure.
                        said_bye[unit] = true;
                        eprintln!("lp: node `{}` ended with an error while the program stopped: {error}", node_label(node));
                    }
                    ToCoord::Overran { node, error } => {
                        said_bye[unit] = true;
                        decision = Some(Some((node_label(node).to_string(), error)));
                    }
                    ToCoord::Failed { node, error } => {
                        said_bye[unit] = true;
                        let label = node_label(node).to_string();
                        match policy(unit).filter(|p| restarts_used[unit] < p.max && stopping.is_none()) {
                            Some(p) => {
                                restarts_used[unit] += 1;
                                ready[unit] = false;
                                eprintln!("lp: node `{label}` failed: {error}; its process restarts (restart {} of {})", restarts_used[unit], p.max);
                            }
                            None => decision = Some(Some((label, error))),
                        }
                    }
                    ToCoord::Done => {
                        said_bye[unit] = true;
                        done[unit] = true;
                        if done.iter().all(|d| *d) {
                            decision = Some(None);
                        }
                    }
                },
                Some(Event::Closed(unit, conn)) if conns[unit] == Some(conn) => {
                    connected[unit] = false;
                    conns[unit] = None;
                    outboxes[unit] = None;
                    if !said_bye[unit] && stopping.is_none() {
                        let error = "its process ended without a word (killed, or lost its connection)";
                        match policy(unit).filter(|p| restarts_used[unit] < p.max) {
                            Some(p) => {
                                restarts_used[unit] += 1;
                                ready[unit] = false;
                                eprintln!("lp: `{}`: {error}; its process restarts (restart {} of {})", label(unit), restarts_used[unit], p.max);
                            }
                            None => decision = Some(Some((label(unit).to_string(), error.to_string()))),
                        }
                    }
                }
                // An earlier process of a unit that has joined again.
                Some(Event::Closed(..)) => {}
            },
            _ = tokio::time::sleep_until(join_deadline), if !started && stopping.is_none() => {
                let missing: Vec<&str> = (0..total).filter(|&u| !ready[u]).map(label).collect();
                decision = Some(Some((
                    missing.first().copied().unwrap_or("?").to_string(),
                    format!("was not ready within {join_timeout:?} (not ready: {})", missing.join(", ")),
                )));
            }
            _ = async { match stop_at { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {}
            signal = &mut term, if stopping.is_none() => {
                eprintln!("lp: coordinator {signal}: stopping every node");
                decision = Some(None);
            }
        }
        if let Some(failure) = decision {
            if stopping.is_none() {
                if let Some((node, error)) = &failure {
                    eprintln!("lp: node `{node}` failed: {error}");
                }
                for outbox in outboxes.iter().flatten() {
                    let _ = outbox.send(FromCoord::Stop {
                        failure: failure.clone(),
                    });
                }
                stopping = Some((failure, tokio::time::Instant::now()));
            } else if let (Some((None, since)), Some((node, error))) = (&stopping, failure) {
                // A node that did not stop in time fails even a clean stop.
                let since = *since;
                eprintln!("lp: node `{node}` failed: {error}");
                stopping = Some((Some((node, error)), since));
            }
        }
    }
    accept.abort();
    // Let the last Stop frames reach the units.
    drop(outboxes);
    tokio::time::sleep(Duration::from_millis(50)).await;
    match stopping.and_then(|(failure, _)| failure) {
        None => {
            eprintln!("lp: every process stopped cleanly");
            ExitCode::SUCCESS
        }
        Some((node, error)) => {
            eprintln!("error: node `{node}` failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    secret: Secret,
    total: usize,
    fingerprint: String,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut next_conn = 0u64;
    loop {
        next_conn += 1;
        let conn = next_conn;
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("coordinator: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (secret, events, fingerprint) = (secret.clone(), events.clone(), fingerprint.clone());
        tokio::spawn(async move {
            let (mut reader, mut writer) = conn::framed(stream);
            if !conn::accept_hello(&mut reader, &mut writer, &secret).await {
                let _ = events.send(Event::Refused(format!("{peer}: no valid launch secret")));
                return;
            }
            let first = tokio::time::timeout(Duration::from_secs(30), reader.next()).await;
            let Ok(Some(Ok(bytes))) = first else { return };
            let unit = match frame::decode::<ToCoord>(&bytes) {
                Ok(ToCoord::Join {
                    unit,
                    fingerprint: theirs,
                }) if unit < total => {
                    if theirs != fingerprint {
                        let _ = events.send(Event::Refused(format!(
                            "{peer}: unit {unit} runs a different program or params (layout {theirs}, expected {fingerprint})"
                        )));
                        return;
                    }
                    unit
                }
                _ => {
                    let _ = events.send(Event::Refused(format!("{peer}: expected a join")));
                    return;
                }
            };
            let (outbox, inbox) = mpsc::unbounded_channel();
            let peer_ip = match peer.ip() {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
                ip => ip,
            };
            let _ = events.send(Event::Joined {
                unit,
                conn,
                peer: peer_ip,
                outbox,
            });
            serve_unit(unit, reader, writer, inbox, &events).await;
            let _ = events.send(Event::Closed(unit, conn));
        });
    }
}

/// Relays one unit's messages to the loop and the loop's messages to the unit, until either
/// side closes.
async fn serve_unit(
    unit: usize,
    mut reader: FrameReader,
    mut writer: FrameWriter,
    mut inbox: mpsc::UnboundedReceiver<FromCoord>,
    events: &mpsc::UnboundedSender<Event>,
) {
    let write = async move {
        while let Some(message) = inbox.recv().await {
            let Ok(bytes) = frame::encode(&message) else {
                continue;
            };
            if writer.send(bytes).await.is_err() {
                break;
            }
        }
        // The loop dropped the outbox: close our side so the unit sees EOF after the last frame.
        let _ = SinkExt::<bytes::Bytes>::close(&mut writer).await;
    };
    let read = async {
        while let Some(Ok(bytes)) = reader.next().await {
            match frame::decode::<ToCoord>(&bytes) {
                Ok(message) => {
                    let _ = events.send(Event::Said(unit, message));
                }
                Err(_) => break,
            }
        }
    };
    // The connection is over when the unit closes it; what we still had to say was either
    // sent already or no longer matters.
    tokio::select! {
        _ = read => {}
        _ = async { write.await; std::future::pending::<()>().await } => {}
    }
}
