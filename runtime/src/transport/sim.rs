//! The simulated network of the `sim` launch type: turmoil's TCP between simulated hosts, with
//! the same frames and handshake as the real transports ([`conn`](super::conn)). Each unit of
//! the program (a node, or a `process` block's nodes) is a simulated host named after it; a
//! node listens on [`port`] of its unit's host.
//!
//! Determinism: turmoil steps the hosts in an order drawn from the seed, on one thread, with
//! the clock paused between steps; the runtime's own `select!`s are `biased` (tokio would
//! otherwise draw the branch to poll first from an unseeded generator) and the maps it iterates
//! are ordered, so a run is a function of its seed.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use turmoil::net::{TcpListener, TcpStream};

use super::conn::{Dial, DialError, Listener, ReadHalf, Socket, WriteHalf};

/// The first port nodes listen on: node `id` listens on `NODE_PORTS + id`.
const NODE_PORTS: u16 = 10_000;

/// The port the launcher's control links are accepted on, on its own host.
pub(crate) const CONTROL_PORT: u16 = 9_000;

/// The most nodes a simulated program may have (one port each).
pub(crate) const MAX_NODES: usize = (u16::MAX - NODE_PORTS) as usize;

/// The port node `id` listens on (`id` below [`MAX_NODES`]).
pub(crate) fn port(id: usize) -> u16 {
    NODE_PORTS.saturating_add(u16::try_from(id).unwrap_or(u16::MAX))
}

impl Socket for TcpStream {
    fn halves(self) -> (ReadHalf, WriteHalf) {
        let (r, w) = self.into_split();
        (Box::pin(r), Box::pin(w))
    }
}

impl Listener for TcpListener {
    type Stream = TcpStream;
    async fn accept(&self) -> io::Result<(Self::Stream, Option<IpAddr>)> {
        let (stream, peer) = TcpListener::accept(self).await?;
        Ok((stream, Some(peer.ip())))
    }
}

/// How long one simulated connect may take before it is retried: a partitioned peer's
/// connect never completes.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// Dials nodes (or the launcher) on the simulated network: target `i` is `hosts[i]`, port
/// `ports(i)`.
pub(crate) struct SimDialer {
    /// The host each target runs on.
    hosts: Arc<[Arc<str>]>,
    /// The port each target listens on.
    ports: fn(usize) -> u16,
}

impl SimDialer {
    /// Dials node `id` on `hosts[id]`, its unit's host.
    pub(crate) fn nodes(hosts: Arc<[Arc<str>]>) -> Self {
        SimDialer { hosts, ports: port }
    }

    /// Dials the launcher on `host`, whatever the target.
    pub(crate) fn launcher(host: Arc<str>) -> Self {
        SimDialer {
            hosts: Arc::new([host]),
            ports: |_| CONTROL_PORT,
        }
    }
}

impl Dial for SimDialer {
    fn dial(&self, target: usize) -> BoxFuture<'_, Result<(ReadHalf, WriteHalf), DialError>> {
        Box::pin(async move {
            let host = match (self.hosts.get(target), self.hosts.len()) {
                (Some(host), _) => host.clone(),
                (None, 1) => self.hosts[0].clone(),
                (None, _) => return Err(DialError::Fatal(format!("no node {target}"))),
            };
            let port = (self.ports)(target);
            let connect = TcpStream::connect((&*host, port));
            match tokio::time::timeout(ATTEMPT_TIMEOUT, connect).await {
                Ok(Ok(stream)) => Ok(stream.halves()),
                // A host not serving yet, crashed, or partitioned away: it may come back.
                Ok(Err(e)) => Err(DialError::NotYet(format!("{host}:{port}: {e}"))),
                Err(_) => Err(DialError::NotYet(format!(
                    "{host}:{port}: connect timed out"
                ))),
            }
        })
    }
}
