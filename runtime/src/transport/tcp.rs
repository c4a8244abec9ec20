//! TCP for cluster launches (`k8s`, `slurm`): the same frames and handshake as the Unix
//! transport ([`conn`](super::conn)), with addresses from an address book ([`Resolve`]) instead
//! of paths in a private directory.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::net::TcpStream;

use super::conn::{Dial, DialError, ReadHalf, Socket, WriteHalf};

/// Maps a node id to the socket address it serves on.
pub(crate) trait Resolve: Send + Sync + 'static {
    /// The node's address; an error (e.g. a DNS name not registered yet, a rendezvous not
    /// complete yet) is retried by [`connect`](super::conn::connect) until its deadline.
    fn resolve(&self, node: usize) -> BoxFuture<'_, Result<SocketAddr, ResolveError>>;
}

/// Why a node's address is not known (yet).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResolveError {
    /// The name lookup failed (a DNS record not registered yet, …).
    #[error("cannot resolve `{host}`")]
    Lookup {
        /// `host:port`.
        host: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The name resolved to nothing.
    #[error("`{0}` has no address")]
    NoAddress(String),
    /// The addresses are handed out at the start, which has not come.
    #[error("the rendezvous is not complete")]
    NotYet,
    /// There is no such node, or it serves nothing.
    #[error("node {0} serves nothing")]
    NoServer(usize),
}

/// How long one TCP connect attempt may take before it counts as failed and is retried.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// Dials nodes over TCP at the addresses a [`Resolve`] gives.
pub(crate) struct TcpDialer {
    book: Arc<dyn Resolve>,
}

impl TcpDialer {
    pub(crate) fn new(book: Arc<dyn Resolve>) -> Self {
        TcpDialer { book }
    }
}

impl Dial for TcpDialer {
    fn dial(&self, target: usize) -> BoxFuture<'_, Result<(ReadHalf, WriteHalf), DialError>> {
        Box::pin(async move {
            // A name that does not resolve yet (a DNS record not registered, a rendezvous not
            // complete) is worth retrying.
            let addr = self
                .book
                .resolve(target)
                .await
                .map_err(|e| DialError::NotYet(crate::error::chain(&e)))?;
            match tokio::time::timeout(ATTEMPT_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    Ok(stream.halves())
                }
                Ok(Err(e)) if retryable(&e) => Err(DialError::NotYet(format!("{addr}: {e}"))),
                Ok(Err(e)) => Err(DialError::Fatal(format!("{addr}: {e}"))),
                Err(_) => Err(DialError::NotYet(format!("{addr}: connect timed out"))),
            }
        })
    }
}

/// Errors that mean "not up yet" (or "not reachable yet") rather than "never".
fn retryable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::TimedOut
            | io::ErrorKind::AddrNotAvailable
    ) || [
        rustix::io::Errno::HOSTUNREACH,
        rustix::io::Errno::NETUNREACH,
    ]
    .iter()
    .any(|errno| e.raw_os_error() == Some(errno.raw_os_error()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::conn::{self, accept_hello, connect};
    use crate::transport::frame::Secret;
    use futures::{SinkExt, StreamExt};
    use tokio_util::sync::CancellationToken;

    struct Fixed(SocketAddr);
    impl Resolve for Fixed {
        fn resolve(&self, _: usize) -> BoxFuture<'_, Result<SocketAddr, ResolveError>> {
            Box::pin(async move { Ok(self.0) })
        }
    }

    async fn server(secret: Secret) -> (SocketAddr, tokio::task::JoinHandle<bool>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (mut r, mut w) = conn::framed(stream);
            let ok = accept_hello(&mut r, &mut w, &secret).await;
            if ok {
                // Echo one frame back: the connection carries frames after the handshake.
                if let Some(Ok(frame)) = r.next().await {
                    let _ = w.send(frame.freeze()).await;
                }
            }
            ok
        });
        (addr, task)
    }

    #[tokio::test]
    async fn handshake_and_frames_over_tcp() {
        let secret = Secret::random().unwrap();
        let (addr, task) = server(secret.clone()).await;
        let stop = CancellationToken::new();
        let dialer = TcpDialer::new(Arc::new(Fixed(addr)));
        let (mut r, mut w) = connect(&dialer, 0, &secret, Duration::from_secs(5), &stop)
            .await
            .unwrap();
        w.send(bytes::Bytes::from_static(b"ping")).await.unwrap();
        assert_eq!(&r.next().await.unwrap().unwrap()[..], b"ping");
        assert!(task.await.unwrap());
    }

    #[tokio::test]
    async fn dropping_the_writer_ends_the_peers_stream() {
        // Each side's reader waits for the other to close: the write half must shut down its
        // direction when dropped, or neither side ever closes (a descriptor leak per connection).
        for unix in [false, true] {
            let (client, server) = if unix {
                let (a, b) = tokio::net::UnixStream::pair().unwrap();
                (conn::framed(a), conn::framed(b))
            } else {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let (a, b) = tokio::join!(TcpStream::connect(addr), listener.accept());
                (conn::framed(a.unwrap()), conn::framed(b.unwrap().0))
            };
            let (_client_reader, client_writer) = client;
            let (mut server_reader, _server_writer) = server;
            drop(client_writer);
            let end = tokio::time::timeout(Duration::from_secs(2), server_reader.next()).await;
            assert!(
                matches!(end, Ok(None)),
                "unix={unix}: the peer must see end-of-stream"
            );
        }
    }

    #[tokio::test]
    async fn a_wrong_secret_is_refused() {
        let (addr, task) = server(Secret::random().unwrap()).await;
        let stop = CancellationToken::new();
        let wrong = Secret::random().unwrap();
        let dialer = TcpDialer::new(Arc::new(Fixed(addr)));
        let e = connect(&dialer, 0, &wrong, Duration::from_secs(5), &stop)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains("refused"), "{e}");
        assert!(!task.await.unwrap());
    }

    #[tokio::test]
    async fn waits_for_a_late_server_then_gives_up_in_time() {
        // A port nobody listens on: refused until the deadline, then a clear error.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let stop = CancellationToken::new();
        let start = std::time::Instant::now();
        let dialer = TcpDialer::new(Arc::new(Fixed(addr)));
        let e = connect(
            &dialer,
            0,
            &Secret::random().unwrap(),
            Duration::from_millis(300),
            &stop,
        )
        .await
        .err()
        .expect("nobody listens")
        .to_string();
        assert!(e.contains("not up after"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }
}
