//! Helpers for tests of lp programs.

use std::path::Path;
use std::time::Duration;

use crate::courier::Courier;
use crate::handle::Handle;

/// Where `local_mp` launches on this machine make their private directories,
/// `lp-<launcher pid>-<random>`: their nodes' sockets and dashboard address. The first usable
/// of `$XDG_RUNTIME_DIR`, `$TMPDIR`, `/dev/shm` and the temp directory ([`lp_dirs::base`]).
pub fn launch_base() -> std::path::PathBuf {
    lp_dirs::base()
}

/// How a program binary run by [`run_binary`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryOutput {
    /// Its exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// Everything it printed: its stdout, then its stderr.
    pub output: String,
}

/// Runs a program binary (e.g. `env!("CARGO_BIN_EXE_my_program")`) with `args` — a launch type,
/// params — and returns how it ended.
///
/// # Panics
///
/// When it cannot be started, or does not finish within `limit` (it is killed first), so that a
/// hung program fails its test instead of hanging it.
///
/// ```no_run
/// # async fn example() {
/// let run = lp::testing::run_binary(
///     "target/debug/consumer_producers",
///     &["--lp_launch_type", "local_mp", "--num_producers", "2"],
///     std::time::Duration::from_secs(60),
/// )
/// .await;
/// assert_eq!(run.code, Some(0), "{}", run.output);
/// # }
/// ```
pub async fn run_binary(binary: impl AsRef<Path>, args: &[&str], limit: Duration) -> BinaryOutput {
    let binary = binary.as_ref();
    let mut command = tokio::process::Command::new(binary);
    command.args(args).kill_on_drop(true);
    let out = tokio::time::timeout(limit, command.output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} {args:?} did not finish within {limit:?}",
                binary.display()
            )
        })
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    BinaryOutput {
        code: out.status.code(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A TCP connection to a node of a cluster launch (at `addr`, e.g. a pod's), past the
/// handshake, proving the key of node `node` (its id) of the launch whose secret is
/// `secret_hex` (the coordinator's Kubernetes Secret's value): what a test needs to check how
/// a node treats a peer that holds a key and sends anything at all, or is refused when the key
/// is another node's. What is written and read is the plaintext of the sealed stream: the
/// caller writes the frames (each after its length, four bytes, big-endian).
///
/// # Errors
///
/// When the connection fails or the node refuses the key.
pub async fn authenticated_tcp(
    addr: std::net::SocketAddr,
    secret_hex: &str,
    node: usize,
) -> std::io::Result<Connection> {
    let keys = crate::transport::keys::Keyring::secret(&secret(secret_hex)?);
    let hello = keys
        .node(node)
        .ok_or_else(|| std::io::Error::other("no key"))?;
    let keys = crate::transport::conn::Keys {
        seal: keys.member().clone(),
        hello,
    };
    connect(addr, &keys, true).await
}

/// A connection to a [`tcp_echo`] server, sealed or not.
#[doc(hidden)]
pub async fn tcp_connect(
    addr: std::net::SocketAddr,
    secret_hex: &str,
    sealed: bool,
) -> std::io::Result<Connection> {
    let keys = crate::transport::conn::Keys::member(&secret(secret_hex)?);
    connect(addr, &keys, sealed).await
}

async fn connect(
    addr: std::net::SocketAddr,
    keys: &crate::transport::conn::Keys,
    sealed: bool,
) -> std::io::Result<Connection> {
    use crate::transport::conn::{self, Socket};
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (r, w) = stream.halves();
    let (reader, writer) = conn::handshake(r, w, keys, sealed)
        .await
        .map_err(std::io::Error::other)?;
    Ok(tokio::io::join(reader.into_inner(), writer.into_inner()))
}

/// A handle to the node labelled `label` that presents the key of `held`'s node, as a hostile
/// node would: what a test needs to check that a node refuses a call from a process that holds
/// no handle to it (nothing runs). `None` when no node has that label.
#[doc(hidden)]
pub fn forged<T: ?Sized + Courier, U: ?Sized + Courier>(
    held: &Handle<U>,
    label: &str,
) -> Option<Handle<T>> {
    held.forged(label)
}

fn secret(hex: &str) -> std::io::Result<crate::transport::frame::Secret> {
    crate::transport::frame::Secret::from_hex(hex.trim())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not a launch secret"))
}

/// A connection [`authenticated_tcp`] made: its two halves, as one stream.
pub type Connection = tokio::io::Join<
    std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>,
    std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>,
>;

/// A server on lp's TCP transport — its accept path, sealed (as every cluster launch's) or
/// plain, then the hello — that sends back every frame it reads, writing a batch of replies
/// with one flush: what lp-bench measures the cost of encryption with. It serves on a task of
/// the current runtime until dropped.
#[doc(hidden)]
pub struct TcpEcho {
    /// Where it listens (loopback).
    pub addr: std::net::SocketAddr,
    /// The secret its clients need, for [`tcp_connect`].
    pub secret_hex: String,
    _stop: tokio_util::sync::DropGuard,
}

/// Starts a [`TcpEcho`].
#[doc(hidden)]
pub async fn tcp_echo(sealed: bool) -> std::io::Result<TcpEcho> {
    use crate::transport::conn::accept_authenticated;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let secret = crate::transport::frame::Secret::random()?;
    let stop = tokio_util::sync::CancellationToken::new();
    let secret_hex = secret.to_hex();
    let (token, ignore) = (stop.clone(), |_| {});
    let keys = crate::transport::conn::Keys::member(&secret);
    match sealed {
        true => tokio::spawn(accept_authenticated(listener, keys, token, echo, ignore)),
        false => tokio::spawn(accept_authenticated(
            Plain(listener),
            keys,
            token,
            echo,
            ignore,
        )),
    };
    Ok(TcpEcho {
        addr,
        secret_hex,
        _stop: stop.drop_guard(),
    })
}

/// Sends back what a connection reads, a flush per batch of frames read.
fn echo(mut conn: crate::transport::conn::Authenticated) {
    use futures::{FutureExt, SinkExt, StreamExt};
    tokio::spawn(async move {
        while let Some(Ok(frame)) = conn.reader.next().await {
            let mut batch = vec![frame.freeze()];
            while let Some(Some(Ok(frame))) = conn.reader.next().now_or_never() {
                batch.push(frame.freeze());
            }
            for frame in batch {
                if conn.writer.feed(frame).await.is_err() {
                    return;
                }
            }
            if conn.writer.flush().await.is_err() {
                return;
            }
        }
    });
}

/// TCP without the seal, for [`tcp_echo`]'s baseline.
struct Plain(tokio::net::TcpListener);

impl crate::transport::conn::Listener for Plain {
    type Stream = tokio::net::TcpStream;
    async fn accept(&self) -> std::io::Result<(Self::Stream, Option<std::net::IpAddr>)> {
        let (stream, peer) = self.0.accept().await?;
        stream.set_nodelay(true)?;
        Ok((stream, Some(peer.ip())))
    }
}
