//! TCP for cluster launches (`k8s`, `slurm`): the same frames and handshake as the Unix
//! transport ([`conn`](super::conn)), sealed by [`noise`](super::noise), with addresses from
//! an address book ([`Resolve`]) instead of paths in a private directory.

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
    fn encrypts(&self) -> bool {
        true
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
    use crate::transport::conn::{self, accept_authenticated, connect, FrameReader, FrameWriter};
    use crate::transport::frame::Secret;
    use futures::{SinkExt, StreamExt};
    use std::sync::Mutex;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::mpsc;
    use tokio_util::sync::CancellationToken;

    struct Fixed(SocketAddr);
    impl Resolve for Fixed {
        fn resolve(&self, _: usize) -> BoxFuture<'_, Result<SocketAddr, ResolveError>> {
            Box::pin(async move { Ok(self.0) })
        }
    }

    /// What the server of these tests saw: a frame (echoed back), an error ending a
    /// connection, or a refused connection.
    #[derive(Debug, PartialEq)]
    enum Seen {
        Frame(Vec<u8>),
        Broken,
        Refused,
    }

    /// A server on the production accept path (sealed, then the hello) that echoes frames.
    async fn server(secret: Secret) -> (SocketAddr, mpsc::UnboundedReceiver<Seen>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        let refused = tx.clone();
        tokio::spawn(accept_authenticated(
            listener,
            conn::Keys::member(&secret),
            CancellationToken::new(),
            move |mut conn: conn::Authenticated| {
                let tx = tx.clone();
                tokio::spawn(async move {
                    while let Some(frame) = conn.reader.next().await {
                        let Ok(frame) = frame else {
                            let _ = tx.send(Seen::Broken);
                            return;
                        };
                        let _ = tx.send(Seen::Frame(frame.to_vec()));
                        let _ = conn.writer.send(frame.freeze()).await;
                    }
                });
            },
            move |_| {
                let _ = refused.send(Seen::Refused);
            },
        ));
        (addr, rx)
    }

    async fn client(addr: SocketAddr, secret: &Secret) -> (FrameReader, FrameWriter) {
        let dialer = TcpDialer::new(Arc::new(Fixed(addr)));
        connect(
            &dialer,
            0,
            &conn::Keys::member(secret),
            Duration::from_secs(5),
            &CancellationToken::new(),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn handshake_and_frames_over_tcp() {
        let secret = Secret::random().unwrap();
        let (addr, mut seen) = server(secret.clone()).await;
        let (mut r, mut w) = client(addr, &secret).await;
        // Small frames, and one of 1 MiB: larger than a message of the sealed stream.
        let big: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
        for frame in [b"ping".to_vec(), big] {
            w.send(bytes::Bytes::from(frame.clone())).await.unwrap();
            assert_eq!(r.next().await.unwrap().unwrap().to_vec(), frame);
            assert_eq!(seen.recv().await, Some(Seen::Frame(frame)));
        }
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
        let (addr, mut seen) = server(Secret::random().unwrap()).await;
        let wrong = Secret::random().unwrap();
        let dialer = TcpDialer::new(Arc::new(Fixed(addr)));
        let stop = CancellationToken::new();
        let wrong = conn::Keys::member(&wrong);
        let e = connect(&dialer, 0, &wrong, Duration::from_secs(5), &stop)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains("refused"), "{e}");
        assert_eq!(seen.recv().await, Some(Seen::Refused));
    }

    /// A relay between a client and `to` that records the bytes the client sends, and flips
    /// the one at offset `flip` (if any).
    async fn relay(to: SocketAddr, flip: Option<usize>) -> (SocketAddr, Arc<Mutex<Vec<u8>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let record = Arc::new(Mutex::new(Vec::new()));
        let recorded = record.clone();
        tokio::spawn(async move {
            let (client, _) = listener.accept().await.unwrap();
            let server = TcpStream::connect(to).await.unwrap();
            let (mut client_r, mut client_w) = client.into_split();
            let (mut server_r, mut server_w) = server.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut server_r, &mut client_w).await });
            let mut buf = vec![0u8; 64 << 10];
            while let Ok(n @ 1..) = client_r.read(&mut buf).await {
                {
                    let mut record = record.lock().unwrap();
                    let at = record.len();
                    if let Some(i) = flip.and_then(|f| f.checked_sub(at)).filter(|&i| i < n) {
                        buf[i] ^= 1;
                    }
                    record.extend_from_slice(&buf[..n]);
                }
                if server_w.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        });
        (addr, recorded)
    }

    #[tokio::test]
    async fn the_network_path_sees_no_plaintext() {
        let secret = Secret::random().unwrap();
        let (addr, mut seen) = server(secret.clone()).await;
        let (relay, recorded) = relay(addr, None).await;
        let (mut r, mut w) = client(relay, &secret).await;
        let plain = b"the learner's weights, in the clear".repeat(100);
        w.send(bytes::Bytes::from(plain.clone())).await.unwrap();
        assert_eq!(r.next().await.unwrap().unwrap().to_vec(), plain);
        assert_eq!(seen.recv().await, Some(Seen::Frame(plain.clone())));
        let recorded = recorded.lock().unwrap();
        assert!(recorded.len() > plain.len());
        assert!(
            !recorded
                .windows(16)
                .any(|w| plain.windows(16).any(|p| p == w)),
            "plaintext crossed the network"
        );
    }

    #[tokio::test]
    async fn an_altered_byte_breaks_the_connection_and_delivers_nothing() {
        let secret = Secret::random().unwrap();
        let (addr, mut seen) = server(secret.clone()).await;
        // Far past the handshake, inside the one large frame.
        let (relay, _) = relay(addr, Some(300_000)).await;
        let (_r, mut w) = client(relay, &secret).await;
        w.send(bytes::Bytes::from(vec![7u8; 1 << 20]))
            .await
            .unwrap();
        assert_eq!(seen.recv().await, Some(Seen::Broken));
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
            &conn::Keys::member(&Secret::random().unwrap()),
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
