//! What every socket transport shares: framed halves of any byte stream, and both sides of the
//! challenge-response handshake. [`unix`](super::unix) and [`tcp`](super::tcp) only differ in
//! how a stream is opened.

use std::pin::Pin;

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

use super::frame::{self, Secret, ToClient, ToServer};

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

/// The client side of the handshake: answers the server's challenge with a proof of the
/// secret and waits for the welcome, within [`HANDSHAKE_TIMEOUT`](super::unix::HANDSHAKE_TIMEOUT).
pub(crate) async fn client_hello(
    reader: &mut FrameReader,
    writer: &mut FrameWriter,
    secret: &Secret,
) -> Result<(), String> {
    let welcome = async {
        let nonce = match reader.next().await {
            Some(Ok(bytes)) => match frame::decode::<ToClient>(&bytes) {
                Ok(ToClient::Challenge {
                    protocol: frame::PROTOCOL,
                    nonce,
                }) => nonce,
                _ => return Err(version_mismatch(&bytes)),
            },
            Some(Err(e)) => return Err(format!("handshake failed: {e}")),
            None => return Err("handshake failed: the server closed the connection".to_string()),
        };
        let hello = frame::encode(&ToServer::Hello {
            protocol: frame::PROTOCOL,
            proof: secret.proof(&nonce),
        })?;
        writer
            .send(hello)
            .await
            .map_err(|e| format!("handshake failed: {e}"))?;
        match reader.next().await {
            Some(Ok(bytes)) => match frame::decode::<ToClient>(&bytes)? {
                ToClient::Welcome => Ok(()),
                _ => Err("handshake failed: unexpected reply".to_string()),
            },
            Some(Err(e)) => Err(format!("handshake failed: {e}")),
            None => Err("the connection was refused (wrong launch secret?)".to_string()),
        }
    };
    match tokio::time::timeout(super::unix::HANDSHAKE_TIMEOUT, welcome).await {
        Ok(result) => result,
        Err(_) => Err("handshake timed out".into()),
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
    let first = match tokio::time::timeout(super::unix::HANDSHAKE_TIMEOUT, reader.next()).await {
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

/// A listening socket the courier server accepts connections from (Unix or TCP).
pub(crate) trait Listener: Send + 'static {
    /// The accepted stream.
    type Stream: Socket;
    /// Accepts the next connection.
    fn accept(&self) -> impl std::future::Future<Output = std::io::Result<Self::Stream>> + Send;
}

impl Listener for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;
    async fn accept(&self) -> std::io::Result<Self::Stream> {
        tokio::net::UnixListener::accept(self).await.map(|(s, _)| s)
    }
}

impl Listener for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;
    async fn accept(&self) -> std::io::Result<Self::Stream> {
        let (stream, _) = tokio::net::TcpListener::accept(self).await?;
        // Calls are small request/response frames: do not wait to coalesce them.
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

/// Where a node serves, as a client sees it.
#[derive(Clone)]
pub(crate) enum Endpoint {
    /// A Unix socket in the launch directory (`local_mp`/`test_mp`).
    Unix(std::path::PathBuf),
    /// Node `node` over TCP, at whatever address `book` resolves it to (cluster launches).
    Tcp {
        /// Maps node ids to socket addresses (DNS names, a rendezvous table).
        book: std::sync::Arc<dyn super::tcp::Resolve>,
        /// The node's id.
        node: usize,
    },
}

/// Connects to `endpoint` and does the handshake, retrying while the node is not up yet until
/// `wait` has passed or `stop` is cancelled.
pub(crate) async fn connect(
    endpoint: &Endpoint,
    secret: &Secret,
    wait: std::time::Duration,
    stop: &tokio_util::sync::CancellationToken,
) -> Result<(FrameReader, FrameWriter), String> {
    match endpoint {
        Endpoint::Unix(path) => super::unix::connect(path, secret, wait, stop).await,
        Endpoint::Tcp { book, node } => {
            super::tcp::connect(&**book, *node, secret, wait, stop).await
        }
    }
}
