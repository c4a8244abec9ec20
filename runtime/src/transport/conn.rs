//! What every transport shares: framed halves of any byte stream, both sides of the
//! challenge-response handshake, and connecting with retries. A transport is a [`Dial`] (the
//! client side) and a [`Listener`] (the server side); [`unix`](super::unix) and
//! [`tcp`](super::tcp) only differ in how a stream is opened.

use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;

use super::frame::{self, Secret, ToClient, ToServer};
use crate::error::chain;

/// The read half of a connection, whatever its transport.
pub(crate) type ReadHalf = Pin<Box<dyn AsyncRead + Send>>;
/// The write half of a connection, whatever its transport.
pub(crate) type WriteHalf = Pin<Box<dyn AsyncWrite + Send>>;
/// The read half of a framed connection.
pub(crate) type FrameReader = FramedRead<ReadHalf, LengthDelimitedCodec>;
/// The write half of a framed connection.
pub(crate) type FrameWriter = FramedWrite<WriteHalf, LengthDelimitedCodec>;

/// A socket that splits into owned halves whose write half, dropped, shuts down the write
/// direction — so the peer sees end-of-stream when this side's writer ends, even while its
/// reader is still waiting (`tokio::io::split` would keep both directions open: each side
/// would wait for the other forever, and leak the descriptor).
pub(crate) trait Socket: Send + 'static {
    /// The two halves.
    fn halves(self) -> (ReadHalf, WriteHalf);
}

impl Socket for tokio::net::UnixStream {
    fn halves(self) -> (ReadHalf, WriteHalf) {
        let (r, w) = self.into_split();
        (Box::pin(r), Box::pin(w))
    }
}

impl Socket for tokio::net::TcpStream {
    fn halves(self) -> (ReadHalf, WriteHalf) {
        let (r, w) = self.into_split();
        (Box::pin(r), Box::pin(w))
    }
}

/// Splits a socket (Unix or TCP) into framed halves.
pub(crate) fn framed<S: Socket>(stream: S) -> (FrameReader, FrameWriter) {
    let (r, w) = stream.halves();
    (
        FramedRead::new(r, frame::codec()),
        FramedWrite::new(w, frame::codec()),
    )
}

/// How long either side waits for the other's half of the handshake.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the client side of the handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HandshakeError {
    /// The connection broke before the server's challenge came: a server going away (a
    /// process exiting resets the connections waiting on its listener) or not serving yet.
    #[error("handshake failed: {0}")]
    Lost(String),
    /// The server answered, and not as this client expects: a wrong secret, another
    /// protocol version, garbage, or no answer in time.
    #[error("{0}")]
    Rejected(String),
}

/// The client side of the handshake: answers the server's challenge with a proof of the
/// secret and waits for the welcome, within [`HANDSHAKE_TIMEOUT`].
pub(crate) async fn client_hello(
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    secret: &Secret,
) -> Result<(), HandshakeError> {
    use HandshakeError::{Lost, Rejected};
    let welcome = async {
        let nonce = match reader.next().await {
            Some(Ok(bytes)) => match frame::decode::<ToClient>(&bytes) {
                Ok(ToClient::Challenge {
                    protocol: frame::PROTOCOL,
                    nonce,
                }) => nonce,
                _ => return Err(Rejected(version_mismatch(&bytes))),
            },
            Some(Err(e)) => return Err(Lost(e.to_string())),
            None => return Err(Lost("the server closed the connection".to_string())),
        };
        let hello = frame::encode(&ToServer::Hello {
            protocol: frame::PROTOCOL,
            proof: secret.proof(&nonce),
        })
        .map_err(|e| Rejected(chain(&e)))?;
        let failed = |e: std::io::Error| Rejected(format!("handshake failed: {e}"));
        writer.send(hello).await.map_err(failed)?;
        match reader.next().await {
            Some(Ok(bytes)) => {
                match frame::decode::<ToClient>(&bytes).map_err(|e| Rejected(chain(&e)))? {
                    ToClient::Welcome => Ok(()),
                    _ => Err(Rejected("handshake failed: unexpected reply".to_string())),
                }
            }
            Some(Err(e)) => Err(failed(e)),
            None => Err(Rejected(
                "the connection was refused (wrong launch secret?)".to_string(),
            )),
        }
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, welcome).await {
        Ok(result) => result,
        Err(_) => Err(Rejected("handshake timed out".into())),
    }
}

/// Why a server's first frame is not the challenge this client expects.
fn version_mismatch(first: &[u8]) -> String {
    match frame::peer_protocol(first) {
        Some(theirs) if theirs != frame::PROTOCOL => format!(
            "handshake failed: the peer speaks lp protocol {theirs}, this binary {}: build every \
             process of the program from the same version of lp",
            frame::PROTOCOL
        ),
        _ => "handshake failed: expected a challenge".to_string(),
    }
}

/// The server side of the handshake: sends a fresh challenge, and is true when the client's
/// first frame is a hello proving the secret on it (and the welcome was sent). Anything else —
/// timeout, garbage, a wrong proof — is false, and the caller closes the connection without
/// executing anything.
pub(crate) async fn accept_hello(
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    secret: &Secret,
) -> bool {
    let Ok(nonce) = Secret::nonce() else {
        return false;
    };
    let Ok(challenge) = frame::encode(&ToClient::Challenge {
        protocol: frame::PROTOCOL,
        nonce: nonce.clone(),
    }) else {
        return false;
    };
    if writer.send(challenge).await.is_err() {
        return false;
    }
    let first = match tokio::time::timeout(HANDSHAKE_TIMEOUT, reader.next()).await {
        Ok(Some(Ok(bytes))) => bytes,
        _ => return false,
    };
    match frame::decode::<ToServer>(&first) {
        Ok(ToServer::Hello {
            protocol: frame::PROTOCOL,
            proof,
        }) if secret.verify(&nonce, &proof) => {}
        _ => return false,
    }
    match frame::encode(&ToClient::Welcome) {
        Ok(welcome) => writer.send(welcome).await.is_ok(),
        Err(_) => false,
    }
}

/// A listening socket connections are accepted from (Unix, TCP, or another network): the
/// server side of a transport.
pub(crate) trait Listener: Send + 'static {
    /// The accepted stream.
    type Stream: Socket;
    /// Accepts the next connection, with the peer's address when the network has one.
    fn accept(
        &self,
    ) -> impl std::future::Future<Output = std::io::Result<(Self::Stream, Option<IpAddr>)>> + Send;
}

impl Listener for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept(&self) -> std::io::Result<(Self::Stream, Option<IpAddr>)> {
        tokio::net::UnixListener::accept(self)
            .await
            .map(|(s, _)| (s, None))
    }
}

impl Listener for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept(&self) -> std::io::Result<(Self::Stream, Option<IpAddr>)> {
        let (stream, peer) = tokio::net::TcpListener::accept(self).await?;
        // Calls are small request/response frames: do not wait to coalesce them.
        let _ = stream.set_nodelay(true);
        let ip = match peer.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            ip => ip,
        };
        Ok((stream, Some(ip)))
    }
}

/// Opens byte streams to nodes (or to a supervisor): the client side of a transport. Unix
/// sockets, TCP, and any other network (a simulated one) implement it; the courier client and
/// the control link only ever dial through it.
pub(crate) trait Dial: Send + Sync + 'static {
    /// Opens a stream to `target` (a node id; a dialer of one endpoint ignores it).
    fn dial(&self, target: usize) -> BoxFuture<'_, Result<(ReadHalf, WriteHalf), DialError>>;
}

/// Why a dial failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DialError {
    /// The target is not up (or not reachable) yet: worth retrying until the deadline.
    NotYet(String),
    /// It never will be (bad address, permission, …).
    Fatal(String),
}

/// Why [`connect`] gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConnectError {
    /// The target did not come up in time.
    #[error("not up after {wait:?} ({last})")]
    NotUp {
        /// How long it was waited for.
        wait: Duration,
        /// The last attempt's error.
        last: String,
    },
    /// The program stopped while waiting.
    #[error("the program is stopping")]
    Stopping,
    /// The target cannot be reached at all.
    #[error("cannot connect: {0}")]
    Failed(String),
    /// A stream opened, but the handshake failed (wrong secret, another protocol version).
    #[error("{0}")]
    Handshake(String),
}

/// Dials `target` and does the handshake, retrying while it is not up yet (or going away:
/// a restarting peer), backing off from 2 ms to 100 ms, until `wait` has passed or `stop` is
/// cancelled: the one reconnect loop of every transport.
pub(crate) async fn connect(
    dial: &dyn Dial,
    target: usize,
    secret: &Secret,
    wait: Duration,
    stop: &CancellationToken,
) -> Result<(FrameReader, FrameWriter), ConnectError> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut backoff = Duration::from_millis(2);
    loop {
        let attempt = tokio::select! {
            attempt = attempt(dial, target, secret) => attempt,
            _ = stop.cancelled() => return Err(ConnectError::Stopping),
        };
        let last = match attempt {
            Ok(framed) => return Ok(framed),
            Err(Retry::No(e)) => return Err(e),
            Err(Retry::Yes(last)) => last,
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(ConnectError::NotUp { wait, last });
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.min(deadline - now)) => {}
            _ = stop.cancelled() => return Err(ConnectError::Stopping),
        }
        backoff = (backoff * 2).min(Duration::from_millis(100));
    }
}

/// Whether a failed attempt to connect is worth another.
enum Retry {
    /// Yes, for this reason.
    Yes(String),
    /// No: the error.
    No(ConnectError),
}

/// One attempt: a dial and the handshake.
async fn attempt(
    dial: &dyn Dial,
    target: usize,
    secret: &Secret,
) -> Result<(FrameReader, FrameWriter), Retry> {
    let (r, w) = dial.dial(target).await.map_err(|e| match e {
        DialError::Fatal(e) => Retry::No(ConnectError::Failed(e)),
        DialError::NotYet(e) => Retry::Yes(e),
    })?;
    let (mut reader, mut writer) = (
        FramedRead::new(r, frame::codec()),
        FramedWrite::new(w, frame::codec()),
    );
    match client_hello(&mut reader, &mut writer, secret).await {
        Ok(()) => Ok((reader, writer)),
        Err(e @ HandshakeError::Lost(_)) => Err(Retry::Yes(e.to_string())),
        Err(HandshakeError::Rejected(e)) => Err(Retry::No(ConnectError::Handshake(e))),
    }
}
