//! The control link between a host (a process running some of the program's nodes) and its
//! supervisor (the `local_mp` launcher, or a cluster launch's coordinator): one persistent,
//! authenticated connection per host process, opened when the host starts and kept until it
//! exits. Reports go up ([`Report`]), orders come down ([`Order`]); no report ever needs a new
//! connection, so a stop cannot be lost to a launcher out of descriptors, and a host that loses
//! its link knows its supervisor is gone.
//!
//! A host's connection closing without a [`Report::Done`], [`Report::Failed`] or
//! [`Report::Stop`] means its process died.
//!
//! A host costs its supervisor bounded memory, whatever it sends: a report's frame is at most
//! [`MAX_REPORT`] bytes (a larger one closes the link), and at most [`QUOTA`] bytes of one
//! host's reports wait to be handled; past that the supervisor stops reading from it until
//! they are.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::transport::conn::{
    self, Authenticated, ConnectError, Dial, FrameReader, FrameWriter, Listener, Refused,
};
use crate::transport::frame::{self, Secret};

/// The largest frame a supervisor reads from a host: reports are small but for a unit's
/// [`Report::Ready`] (a few bytes per node) and error texts (cut at [`MAX_ERROR`]).
pub(crate) const MAX_REPORT: usize = 4 << 20;

/// The longest error text a report carries; a longer one is cut, saying so.
const MAX_ERROR: usize = 64 << 10;

/// Bytes of one host's reports the supervisor holds before it has handled them.
const QUOTA: usize = 8 << 20;

/// What a host tells its supervisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Report {
    /// The first message of a link: which unit of the program this process is.
    Join {
        /// The unit's index in the supervisor's numbering.
        unit: usize,
        /// A fingerprint of the program: every process must run the same one.
        fingerprint: String,
    },
    /// The unit's nodes are built and serving.
    Ready {
        /// `(node id, port)` of each node serving over TCP (none over Unix sockets).
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
    /// A node of this unit did not return from `run` within the grace period after the stop:
    /// a failure even of a clean stop (unlike an error returned while stopping).
    Overran {
        /// The node's id.
        node: usize,
        /// What happened, in words.
        error: String,
    },
    /// Every node of this unit finished and it serves nothing; it exits.
    Done,
    /// A node of this unit ended (its `run` returned, failed or panicked, or its constructor
    /// failed): how, for [`Running::outcome`](crate::Running::outcome).
    Ended {
        /// The node's id.
        node: usize,
        /// How it ended.
        outcome: crate::supervise::NodeOutcome,
    },
    /// What a node of this unit served and called so far, sent every
    /// [`PUBLISH_EVERY`](crate::metrics::PUBLISH_EVERY) while it changes, when the coordinator
    /// serves a dashboard: what a `local_mp` child writes to its file.
    Stats {
        /// The node's id.
        node: usize,
        /// Its counters and slowest recent calls, as the file has them
        /// ([`NodeStats::to_report`](crate::metrics::NodeStats::to_report)).
        json: Vec<u8>,
    },
}

impl Report {
    /// The report with its error text cut to [`MAX_ERROR`] bytes.
    fn bounded(mut self) -> Report {
        use crate::supervise::NodeOutcome;
        let text = match &mut self {
            Report::Failed { error, .. } | Report::Overran { error, .. } => Some(error),
            Report::Ended {
                outcome: NodeOutcome::Failed(text) | NodeOutcome::Panicked(text),
                ..
            } => Some(text),
            _ => None,
        };
        if let Some(text) = text {
            cut(text);
        }
        self
    }
}

/// Cuts `text` to at most [`MAX_ERROR`] bytes (at a character's boundary), saying so.
fn cut(text: &mut String) {
    const MARK: &str = " … (cut)";
    if text.len() > MAX_ERROR {
        let mut end = MAX_ERROR - MARK.len();
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str(MARK);
    }
}

/// What a supervisor tells its hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Order {
    /// Start running: every process serves (the cluster's barrier), and where every serving
    /// node is, by node id (empty when addresses are known otherwise).
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

/// A host's side of its link.
pub(crate) struct Link {
    /// Reports to send; dropping every sender closes our side once everything queued is sent.
    outbox: mpsc::UnboundedSender<Report>,
    /// The supervisor's orders; `None` once its connection is gone.
    inbox: mpsc::UnboundedReceiver<Order>,
    /// The writer task, awaited before the process exits so the last report is not lost.
    writer: tokio::task::JoinHandle<()>,
}

/// Sends reports on a [`Link`] from anywhere (a node's `stop()`, which is not async).
#[derive(Clone)]
pub(crate) struct Reporter(mpsc::UnboundedSender<Report>);

impl Reporter {
    /// Queues a report; false when the link is gone.
    pub(crate) fn send(&self, report: Report) -> bool {
        self.0.send(report.bounded()).is_ok()
    }
}

impl Link {
    /// Connects to the supervisor (waiting up to `wait` for it) and joins as `unit`.
    pub(crate) async fn open(
        dial: &dyn Dial,
        member: &Secret,
        unit: usize,
        fingerprint: &str,
        wait: Duration,
    ) -> Result<Link, ConnectError> {
        let never = CancellationToken::new();
        let (reader, writer) =
            conn::connect(dial, 0, &conn::Keys::member(member), wait, &never).await?;
        let (outbox, reports) = mpsc::unbounded_channel::<Report>();
        let (orders, inbox) = mpsc::unbounded_channel::<Order>();
        let writer = tokio::spawn(write_all(reports, writer));
        tokio::spawn(read_all(reader, orders));
        let link = Link {
            outbox,
            inbox,
            writer,
        };
        link.send(Report::Join {
            unit,
            fingerprint: fingerprint.to_string(),
        });
        Ok(link)
    }

    /// Queues a report.
    pub(crate) fn send(&self, report: Report) {
        let _ = self.outbox.send(report.bounded());
    }

    /// A sender of reports that outlives borrows of the link.
    pub(crate) fn reporter(&self) -> Reporter {
        Reporter(self.outbox.clone())
    }

    /// The next order; `None` when the supervisor is gone.
    pub(crate) async fn recv(&mut self) -> Option<Order> {
        self.inbox.recv().await
    }

    /// Sends what is queued and closes our side (bounded: a supervisor that stopped reading
    /// does not hold the process).
    pub(crate) async fn close(self) {
        drop(self.outbox);
        let _ = tokio::time::timeout(Duration::from_secs(3), self.writer).await;
    }
}

/// Encodes and writes messages until every sender is gone, then closes the write direction so
/// the peer sees the end after the last message.
async fn write_all<T: Serialize>(
    mut messages: mpsc::UnboundedReceiver<T>,
    mut writer: FrameWriter,
) {
    while let Some(message) = messages.recv().await {
        let Ok(bytes) = frame::encode(&message) else {
            continue;
        };
        if writer.send(bytes).await.is_err() {
            return;
        }
    }
    let _ = SinkExt::<bytes::Bytes>::close(&mut writer).await;
}

/// Reads and decodes messages until the connection ends or a frame is malformed.
async fn read_all<T: serde::de::DeserializeOwned>(
    mut reader: FrameReader,
    messages: mpsc::UnboundedSender<T>,
) {
    while let Some(Ok(bytes)) = reader.next().await {
        let Ok(message) = frame::decode::<T>(&bytes) else {
            return;
        };
        if messages.send(message).is_err() {
            return;
        }
    }
}

/// What the supervisor's side hears of its hosts' links.
#[derive(Debug)]
pub(crate) enum LinkEvent {
    /// A host joined as `unit` (perhaps again, after its process restarted).
    Joined {
        unit: usize,
        /// Tells this connection from an earlier one of the same unit.
        conn: u64,
        /// The host's address, over TCP.
        peer: Option<IpAddr>,
        /// Orders to this host.
        orders: mpsc::UnboundedSender<Order>,
    },
    /// A host reported. Until the event is dropped it holds its share of the host's
    /// [`QUOTA`].
    Said {
        unit: usize,
        report: Report,
        _held: Held,
    },
    /// A host's connection ended.
    Closed { unit: usize, conn: u64 },
    /// A connection was refused, and why.
    Refused(String),
}

/// A share of a host's [`QUOTA`], given back when dropped.
#[derive(Debug)]
pub(crate) struct Held {
    _permit: OwnedSemaphorePermit,
}

/// Accepts hosts' links on `listener`: each must prove the launch's member key, then join as a unit below
/// `units` running the program of `fingerprint`. Every event goes to `events`; returns when
/// `stop` is cancelled.
pub(crate) async fn accept<L: Listener>(
    listener: L,
    member: Secret,
    units: usize,
    fingerprint: String,
    events: mpsc::UnboundedSender<LinkEvent>,
    stop: CancellationToken,
) {
    let next_conn = std::sync::atomic::AtomicU64::new(0);
    let refusals = Arc::new(Refusals {
        events: events.clone(),
        last: Mutex::new((None, 0)),
    });
    let hosts_refuse = refusals.clone();
    let on_conn = move |conn: Authenticated| {
        let host = Host {
            conn: next_conn.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
            peer: conn.peer,
            units,
            fingerprint: fingerprint.clone(),
            events: events.clone(),
            refusals: hosts_refuse.clone(),
        };
        tokio::spawn(host.serve(conn.reader, conn.writer));
    };
    let on_refused = move |refused: Refused| {
        let who = refused
            .peer
            .map_or_else(|| "a process".to_string(), |p| p.to_string());
        refusals.refuse(&who, refused.why);
    };
    let keys = conn::Keys::member(&member);
    conn::accept_authenticated(listener, keys, stop, on_conn, on_refused).await;
}

/// One authenticated host connection.
struct Host {
    conn: u64,
    peer: Option<IpAddr>,
    units: usize,
    fingerprint: String,
    events: mpsc::UnboundedSender<LinkEvent>,
    refusals: Arc<Refusals>,
}

/// How often a refused connection is reported: a flood of bad connections is not a flood of
/// warnings.
const REFUSAL_INTERVAL: Duration = Duration::from_secs(1);

/// Reports refused connections to the supervisor, at most one per [`REFUSAL_INTERVAL`], with
/// how many more were refused since the last report.
struct Refusals {
    events: mpsc::UnboundedSender<LinkEvent>,
    /// When the last was reported, and how many were refused since.
    last: Mutex<(Option<Instant>, u64)>,
}

impl Refusals {
    fn refuse(&self, who: &str, why: &str) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if last
            .0
            .is_some_and(|at| now.duration_since(at) < REFUSAL_INTERVAL)
        {
            last.1 += 1;
            return;
        }
        let more = std::mem::take(&mut last.1);
        last.0 = Some(now);
        let text = match more {
            0 => format!("{who}: {why}"),
            more => format!("{who}: {why} (and {more} more since the last report)"),
        };
        let _ = self.events.send(LinkEvent::Refused(text));
    }
}

impl Host {
    async fn serve(self, mut reader: FrameReader, writer: FrameWriter) {
        reader.decoder_mut().cap(MAX_REPORT);
        let who = self
            .peer
            .map_or_else(|| "a process".to_string(), |p| p.to_string());
        let Some(unit) = self.join(&mut reader, &who).await else {
            return;
        };
        let (orders, inbox) = mpsc::unbounded_channel();
        let _ = self.events.send(LinkEvent::Joined {
            unit,
            conn: self.conn,
            peer: self.peer,
            orders,
        });
        let quota = Arc::new(Semaphore::new(QUOTA));
        let read = async {
            while let Some(Ok(bytes)) = reader.next().await {
                let Ok(report) = frame::decode::<Report>(&bytes) else {
                    return;
                };
                // A report costs its frame's bytes: while the supervisor has not handled
                // enough of this host's, the host waits, unread.
                let cost = bytes.len().clamp(1, QUOTA) as u32;
                drop(bytes);
                let Ok(permit) = quota.clone().acquire_many_owned(cost).await else {
                    return;
                };
                let _held = Held { _permit: permit };
                let said = LinkEvent::Said {
                    unit,
                    report,
                    _held,
                };
                if self.events.send(said).is_err() {
                    return;
                }
            }
        };
        // The connection is over when the host closes it; what was still to be said to it was
        // either sent or no longer matters.
        tokio::select! {
            biased;
            _ = read => {}
            _ = async { write_all(inbox, writer).await; std::future::pending::<()>().await } => {}
        }
        let _ = self.events.send(LinkEvent::Closed {
            unit,
            conn: self.conn,
        });
    }

    /// Reads the host's join: which unit, running which program.
    async fn join(&self, reader: &mut FrameReader, who: &str) -> Option<usize> {
        let first = tokio::time::timeout(Duration::from_secs(30), reader.next()).await;
        let refuse = |why: String| {
            self.refusals.refuse(who, &why);
            None
        };
        let Ok(Some(Ok(bytes))) = first else {
            return refuse("no join".into());
        };
        match frame::decode::<Report>(&bytes) {
            Ok(Report::Join { unit, fingerprint }) if unit < self.units => {
                if fingerprint != self.fingerprint {
                    return refuse(format!(
                        "unit {unit} runs a different program or params (layout {fingerprint}, expected {})",
                        self.fingerprint
                    ));
                }
                Some(unit)
            }
            _ => refuse("expected a join".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::unix::UnixPath;

    /// A supervisor accepting one unit's link in a fresh directory, its events left unread;
    /// and a host's raw connection to it, joined.
    async fn supervisor_and_host() -> (
        mpsc::UnboundedReceiver<LinkEvent>,
        FrameWriter,
        FrameReader,
        tempfile::TempDir,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("control");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let member = Secret::random().unwrap();
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let stop = CancellationToken::new();
        tokio::spawn(accept(
            listener,
            member.clone(),
            1,
            "f".into(),
            events_tx,
            stop.clone(),
        ));
        let keys = conn::Keys::member(&member);
        let (reader, mut writer) =
            conn::connect(&UnixPath(path), 0, &keys, Duration::from_secs(5), &stop)
                .await
                .unwrap();
        let join = Report::Join {
            unit: 0,
            fingerprint: "f".into(),
        };
        writer.send(frame::encode(&join).unwrap()).await.unwrap();
        assert!(matches!(
            events.recv().await,
            Some(LinkEvent::Joined { unit: 0, .. })
        ));
        (events, writer, reader, dir)
    }

    /// A report of about `bytes` bytes.
    fn stats(bytes: usize) -> bytes::Bytes {
        frame::encode(&Report::Stats {
            node: 0,
            json: vec![b'x'; bytes],
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_host_that_floods_reports_waits_for_its_supervisor_and_loses_none() {
        let (mut events, mut writer, _reader, _dir) = supervisor_and_host().await;
        let (size, count) = (200 << 10, 100);
        let flood = tokio::spawn(async move {
            for _ in 0..count {
                writer.send(stats(size)).await.unwrap();
            }
            writer
        });
        // Unhandled, the reports held stay within the quota (20 MB were sent).
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!flood.is_finished(), "the host waits for the supervisor");
        let mut held = Vec::new();
        while let Ok(event) = events.try_recv() {
            held.push(event);
        }
        assert!(
            held.len() * size <= QUOTA && held.len() >= QUOTA / size / 2,
            "{} reports of {size} bytes held, for a quota of {QUOTA}",
            held.len()
        );
        // Handled, the rest arrive: all of them, once.
        let mut said = held.len();
        drop(held);
        while said < count {
            match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
                Ok(Some(LinkEvent::Said { .. })) => said += 1,
                other => panic!("expected a report, got {other:?}"),
            }
        }
        let _writer = flood.await.unwrap();
        assert!(events.try_recv().is_err(), "no report twice");
    }

    #[tokio::test]
    async fn a_report_over_the_limit_closes_the_link_unread() {
        let (mut events, mut writer, _reader, _dir) = supervisor_and_host().await;
        let _ = writer.send(stats(MAX_REPORT)).await;
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(LinkEvent::Closed { unit: 0, .. })) => {}
            other => panic!("expected the link closed, got {other:?}"),
        }
    }

    #[test]
    fn long_error_texts_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR);
        let report = Report::Failed {
            node: 3,
            error: long,
        }
        .bounded();
        let Report::Failed { node: 3, error } = report else {
            panic!("{report:?}")
        };
        assert!(
            error.len() <= MAX_ERROR && error.ends_with("(cut)"),
            "{}",
            error.len()
        );
        let short = Report::Overran {
            node: 1,
            error: "late".into(),
        };
        assert_eq!(short.clone().bounded(), short);
    }
}
