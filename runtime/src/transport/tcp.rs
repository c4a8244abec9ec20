//! TCP for cluster launches (`k8s`, `slurm`): the same frames and handshake as the Unix
//! transport ([`conn`](super::conn)), with addresses from an address book ([`Resolve`]) instead
//! of paths in a private directory.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::conn::{self, FrameReader, FrameWriter};
use super::frame::Secret;

/// Maps a node id to the socket address it serves on.
pub(crate) trait Resolve: Send + Sync + 'static {
    /// The node's address; an error (e.g. a DNS name not registered yet, a rendezvous not
    /// complete yet) is retried by [`connect`] until its deadline.
    fn resolve(&self, node: usize) -> BoxFuture<'_, Result<SocketAddr, String>>;
}

/// How long one TCP connect attempt may take before it counts as failed and is retried.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// Resolves node `node` and connects to it, retrying while its name does not resolve or its
/// port refuses (the node is not up yet) until `wait` has passed or `stop` is cancelled, then
/// does the hello handshake.
pub(crate) async fn connect(
    book: &dyn Resolve,
    node: usize,
    secret: &Secret,
    wait: Duration,
    stop: &CancellationToken,
) -> Result<(FrameReader, FrameWriter), String> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut backoff = Duration::from_millis(5);
    let stream = loop {
        let attempt = async {
            let addr = book.resolve(node).await?;
            match tokio::time::timeout(ATTEMPT_TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => Ok(stream),
                Ok(Err(e)) if retryable(&e) => Err(format!("{addr}: {e}")),
                Ok(Err(e)) => Err(format!("cannot connect to {addr}: {e}")),
                Err(_) => Err(format!("{addr}: connect timed out")),
            }
        };
        let last = tokio::select! {
            outcome = attempt => match outcome {
                Ok(stream) => break stream,
                Err(e) => e,
            },
            _ = stop.cancelled() => return Err("the program is stopping".into()),
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(format!("not up after {wait:?} ({last})"));
        }
        let nap = backoff.min(deadline - now);
        tokio::select! {
            _ = tokio::time::sleep(nap) => {}
            _ = stop.cancelled() => return Err("the program is stopping".into()),
        }
        backoff = (backoff * 2).min(Duration::from_millis(250));
    };
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = conn::framed(stream);
    conn::client_hello(&mut reader, &mut writer, secret).await?;
    Ok((reader, writer))
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
    ) || matches!(
        e.raw_os_error(),
        Some(libc::EHOSTUNREACH | libc::ENETUNREACH)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::conn::accept_hello;
    use futures::{SinkExt, StreamExt};
    use std::sync::Arc;

    struct Fixed(SocketAddr);
    impl Resolve for Fixed {
        fn resolve(&self, _: usize) -> BoxFuture<'_, Result<SocketAddr, String>> {
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
        let (mut r, mut w) = connect(&Fixed(addr), 0, &secret, Duration::from_secs(5), &stop)
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
        let e = connect(&Fixed(addr), 0, &wrong, Duration::from_secs(5), &stop)
            .await
            .err()
            .expect("refused");
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
        let book: Arc<dyn Resolve> = Arc::new(Fixed(addr));
        let e = connect(
            &*book,
            0,
            &Secret::random().unwrap(),
            Duration::from_millis(300),
            &stop,
        )
        .await
        .err()
        .expect("nobody listens");
        assert!(e.contains("not up after"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }
}
