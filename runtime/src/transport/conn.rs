//! What every transport shares: framed halves of any byte stream, both sides of the
//! challenge-response handshake, and connecting with retries. A transport is a [`Dial`] (the
//! client side) and a [`Listener`] (the server side); [`unix`](super::unix) and
//! [`tcp`](super::tcp) only differ in how a stream is opened.

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

use super::frame::{self, FrameCodec, Secret, ToClient, ToClientRef, ToServer, ToServerRef};
use super::noise;
use crate::error::chain;

/// The read half of a connection, whatever its transport.
pub(crate) type ReadHalf = Pin<Box<dyn AsyncRead + Send>>;
/// The write half of a connection, whatever its transport.
pub(crate) type WriteHalf = Pin<Box<dyn AsyncWrite + Send>>;
/// The read half of a framed connection.
pub(crate) type FrameReader = FramedRead<ReadHalf, FrameCodec>;
/// The write half of a framed connection.
pub(crate) type FrameWriter = FramedWrite<WriteHalf, FrameCodec>;

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

/// Splits a socket (Unix or TCP) into framed halves, unsealed, limited to handshake frames
/// until [`authenticated`].
#[cfg(test)]
pub(crate) fn framed<S: Socket>(stream: S) -> (FrameReader, FrameWriter) {
    let (r, w) = stream.halves();
    halves(r, w)
}

/// Frames the halves of a connection (sealed or not), limited to handshake frames until
/// [`authenticated`].
pub(crate) fn halves(r: ReadHalf, w: WriteHalf) -> (FrameReader, FrameWriter) {
    (
        FramedRead::new(r, FrameCodec::hello()),
        FramedWrite::new(w, FrameCodec::hello()),
    )
}

/// Lifts a connection's frame limit once its handshake is done.
fn authenticated(reader: &mut FrameReader, writer: &mut FrameWriter) {
    reader.decoder_mut().authenticated();
    writer.encoder_mut().authenticated();
}

/// How long either side waits for the other's half of the handshake: short, since a peer
/// that holds a connection without proving the secret costs a slot (see [`MAX_HANDSHAKES`]).
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections one listener keeps in their handshake at once; more are closed unread until a
/// slot frees, so unauthenticated peers cost bounded memory and descriptors.
pub(crate) const MAX_HANDSHAKES: usize = 64;

/// What a connection's handshakes are keyed with.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    /// Keys the sealing of transports that [encrypt](Listener::ENCRYPTS): the launch's member
    /// key, which every process of the launch holds.
    pub(crate) seal: Secret,
    /// Proven in the hello: the key of the node served (or the member key, on a control link).
    pub(crate) hello: Secret,
}

impl Keys {
    /// The same key for both: a control link's.
    pub(crate) fn member(member: &Secret) -> Self {
        Keys {
            seal: member.clone(),
            hello: member.clone(),
        }
    }
}

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

/// The client side of the handshake: answers the server's challenge with a proof of the key
/// (`secret`: the node's, or the member key) and waits for the welcome, within
/// [`HANDSHAKE_TIMEOUT`].
pub(crate) async fn client_hello(
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    secret: &Secret,
) -> Result<(), HandshakeError> {
    use HandshakeError::{Lost, Rejected};
    let welcome = async {
        let proof = match reader.next().await {
            Some(Ok(bytes)) => match frame::decode::<ToClientRef>(&bytes) {
                Ok(ToClientRef::Challenge {
                    protocol: frame::PROTOCOL,
                    nonce,
                }) => secret.proof(nonce),
                _ => return Err(Rejected(version_mismatch(&bytes))),
            },
            Some(Err(e)) => return Err(Lost(e.to_string())),
            None => return Err(Lost("the server closed the connection".to_string())),
        };
        let hello = frame::encode(&ToServer::Hello {
            protocol: frame::PROTOCOL,
            proof,
        })
        .map_err(|e| Rejected(chain(&e)))?;
        let failed = |e: std::io::Error| Rejected(format!("handshake failed: {e}"));
        writer.send(hello).await.map_err(failed)?;
        match reader.next().await {
            Some(Ok(bytes)) => {
                match frame::decode::<ToClientRef>(&bytes).map_err(|e| Rejected(chain(&e)))? {
                    ToClientRef::Welcome => Ok(()),
                    _ => Err(Rejected("handshake failed: unexpected reply".to_string())),
                }
            }
            Some(Err(e)) => Err(failed(e)),
            None => Err(Rejected(
                "the connection was refused (a wrong key: another launch's, or a node's this \
                 process holds no handle to)"
                    .to_string(),
            )),
        }
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, welcome).await {
        Ok(Ok(())) => {
            authenticated(reader, writer);
            Ok(())
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Rejected("handshake timed out".into())),
    }
}

/// Why a server's first frame is not the challenge this client expects.
fn version_mismatch(first: &[u8]) -> String {
    match frame::peer_protocol(first) {
        Some(theirs) if theirs != frame::PROTOCOL => protocol_mismatch(theirs),
        _ => "handshake failed: expected a challenge".to_string(),
    }
}

/// The error of a peer that speaks protocol `theirs`, not this binary's.
pub(crate) fn protocol_mismatch(theirs: u32) -> String {
    format!(
        "handshake failed: the peer speaks lp protocol {theirs}, this binary {}: build every \
         process of the program from the same version of lp",
        frame::PROTOCOL
    )
}

/// The server side of the handshake: sends a fresh challenge, and is true when the client's
/// first frame is a hello proving the key (`secret`: the served node's, or the member key) on
/// it (and the welcome was sent), all within
/// [`HANDSHAKE_TIMEOUT`]. Anything else — timeout, garbage, a frame larger than a hello, a
/// wrong proof — is false, and the caller closes the connection without executing anything.
pub(crate) async fn accept_hello(
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    secret: &Secret,
) -> bool {
    let welcomed = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
        let nonce = Secret::nonce().ok()?;
        let challenge = frame::encode(&ToClient::Challenge {
            protocol: frame::PROTOCOL,
            nonce: nonce.clone(),
        })
        .ok()?;
        writer.send(challenge).await.ok()?;
        let first = reader.next().await?.ok()?;
        match frame::decode::<ToServerRef>(&first) {
            Ok(ToServerRef::Hello {
                protocol: frame::PROTOCOL,
                proof,
            }) if secret.verify(&nonce, proof) => {}
            _ => return None,
        }
        writer
            .send(frame::encode(&ToClient::Welcome).ok()?)
            .await
            .ok()
    })
    .await;
    if !matches!(welcomed, Ok(Some(()))) {
        return false;
    }
    authenticated(reader, writer);
    true
}

/// A connection whose peer proved the key.
pub(crate) struct Authenticated {
    pub(crate) reader: FrameReader,
    pub(crate) writer: FrameWriter,
    /// The peer's address, when the network has one.
    pub(crate) peer: Option<IpAddr>,
}

/// A connection refused before it could run anything.
#[derive(Debug)]
pub(crate) struct Refused {
    /// The peer's address, when the network has one.
    pub(crate) peer: Option<IpAddr>,
    /// Why.
    pub(crate) why: &'static str,
}

/// Accepts connections on `listener` until `stop`, each authenticated in a task of its own:
/// at most [`MAX_HANDSHAKES`] at a time (more are closed unread), within
/// [`HANDSHAKE_TIMEOUT`], before any frame larger than a hello. `on_conn` gets each
/// authenticated connection (and should spawn whatever serves it); `on_refused` each refusal.
pub(crate) async fn accept_authenticated<L, C, R>(
    listener: L,
    keys: Keys,
    stop: CancellationToken,
    on_conn: C,
    on_refused: R,
) where
    L: Listener,
    C: Fn(Authenticated) + Send + Sync + 'static,
    R: Fn(Refused) + Send + Sync + 'static,
{
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    let handlers = Arc::new((on_conn, on_refused));
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, or the peer gave up: the next accept may succeed.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            (handlers.1)(Refused {
                peer,
                why: "too many connections in their handshake",
            });
            continue;
        };
        let (keys, handlers) = (keys.clone(), handlers.clone());
        tokio::spawn(async move {
            let accepted = accept_one::<L>(stream, &keys).await;
            drop(slot);
            match accepted {
                Some((reader, writer)) => (handlers.0)(Authenticated {
                    reader,
                    writer,
                    peer,
                }),
                None => (handlers.1)(Refused {
                    peer,
                    why: "no valid key",
                }),
            }
        });
    }
}

/// The server side of one connection's handshake: sealed first if the transport
/// [encrypts](Listener::ENCRYPTS), then the hello.
async fn accept_one<L: Listener>(
    stream: L::Stream,
    keys: &Keys,
) -> Option<(FrameReader, FrameWriter)> {
    let (r, w) = stream.halves();
    let (r, w) = match L::ENCRYPTS {
        true => tokio::time::timeout(HANDSHAKE_TIMEOUT, noise::respond(r, w, &keys.seal))
            .await
            .ok()??,
        false => (r, w),
    };
    let (mut reader, mut writer) = halves(r, w);
    accept_hello(&mut reader, &mut writer, &keys.hello)
        .await
        .then_some((reader, writer))
}

/// A listening socket connections are accepted from (Unix, TCP, or another network): the
/// server side of a transport.
pub(crate) trait Listener: Send + 'static {
    /// The accepted stream.
    type Stream: Socket;
    /// Whether its connections are sealed ([`noise`]) before the hello: TCP's, which cross
    /// networks. (A Unix socket's file permissions already keep other users out.)
    const ENCRYPTS: bool = false;
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
    const ENCRYPTS: bool = true;
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

    /// Whether its connections are sealed before the hello: as its listeners'
    /// ([`Listener::ENCRYPTS`]).
    fn encrypts(&self) -> bool {
        false
    }
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
    keys: &Keys,
    wait: Duration,
    stop: &CancellationToken,
) -> Result<(FrameReader, FrameWriter), ConnectError> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut backoff = Duration::from_millis(2);
    loop {
        let attempt = tokio::select! {
            biased;
            attempt = attempt(dial, target, keys) => attempt,
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
            biased;
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
    keys: &Keys,
) -> Result<(FrameReader, FrameWriter), Retry> {
    let (r, w) = dial.dial(target).await.map_err(|e| match e {
        DialError::Fatal(e) => Retry::No(ConnectError::Failed(e)),
        DialError::NotYet(e) => Retry::Yes(e),
    })?;
    handshake(r, w, keys, dial.encrypts())
        .await
        .map_err(|e| match e {
            HandshakeError::Lost(_) => Retry::Yes(e.to_string()),
            HandshakeError::Rejected(e) => Retry::No(ConnectError::Handshake(e)),
        })
}

/// The client side of a new connection's handshake: sealed first if `encrypts` (the
/// transport's [`Dial::encrypts`]), then the hello.
pub(crate) async fn handshake(
    r: ReadHalf,
    w: WriteHalf,
    keys: &Keys,
    encrypts: bool,
) -> Result<(FrameReader, FrameWriter), HandshakeError> {
    let (r, w) = match encrypts {
        true => tokio::time::timeout(HANDSHAKE_TIMEOUT, noise::initiate(r, w, &keys.seal))
            .await
            .unwrap_or_else(|_| Err(HandshakeError::Rejected("handshake timed out".into())))?,
        false => (r, w),
    };
    let (mut reader, mut writer) = halves(r, w);
    client_hello(&mut reader, &mut writer, &keys.hello).await?;
    Ok((reader, writer))
}
