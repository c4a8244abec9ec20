//! The baselines, built here and run in the same command as lp: a tokio channel round trip
//! (the limit for `local_mt`), a raw Unix-socket ping-pong with the same framing and serde
//! format as lp (the limit for `local_mp`), and tarpc over Unix sockets and TCP (a peer).
//!
//! Socket servers run as separate processes: `lp-bench serve raw|tarpc-unix|tarpc-tcp ADDR`.

use std::future::Future;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// What the raw client sends: lp's `work` and `size`, in the same serde format.
#[derive(Serialize, Deserialize)]
pub enum Request {
    Work(u64),
    Size(Vec<u8>),
}

fn answer(request: Request) -> u64 {
    match request {
        Request::Work(x) => x.wrapping_add(1),
        Request::Size(data) => data.len() as u64,
    }
}

fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .max_frame_length(256 << 20)
        .new_codec()
}

// ---------------------------------------------------------------------------------------------
// tokio channel

/// A `work` server task on its own thread (pinned to `cpu`), reached through an mpsc channel
/// with a oneshot per reply.
pub fn channel_server(cpu: usize) -> mpsc::Sender<(u64, oneshot::Sender<u64>)> {
    let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(1024);
    std::thread::spawn(move || {
        crate::pin::pin_this_thread(cpu);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            while let Some((x, reply)) = rx.recv().await {
                let _ = reply.send(x.wrapping_add(1));
            }
        });
    });
    tx
}

/// One call through the channel.
pub async fn channel_call(server: &mpsc::Sender<(u64, oneshot::Sender<u64>)>, x: u64) {
    let (tx, rx) = oneshot::channel();
    server.send((x, tx)).await.expect("server up");
    let y = rx.await.expect("answer");
    debug_assert_eq!(y, x + 1);
}

// ---------------------------------------------------------------------------------------------
// Raw socket

/// Serves raw frames on one connection: decode, answer, encode, flushing when no further
/// request is buffered.
async fn raw_connection(io: impl AsyncRead + AsyncWrite + Unpin) {
    let mut framed = Framed::new(io, codec());
    while let Some(Ok(frame)) = framed.next().await {
        let Ok(request) = postcard::from_bytes::<Request>(&frame) else {
            return;
        };
        let reply = postcard::to_stdvec(&answer(request)).expect("encode");
        if framed.feed(Bytes::from(reply)).await.is_err() {
            return;
        }
        if framed.read_buffer().is_empty() && SinkExt::<Bytes>::flush(&mut framed).await.is_err() {
            return;
        }
    }
}

/// A client of the raw server: one connection, calls in order.
pub struct RawClient {
    framed: Framed<tokio::net::UnixStream, LengthDelimitedCodec>,
}

impl RawClient {
    pub async fn connect(path: &str) -> RawClient {
        let stream = connect_retrying(|| tokio::net::UnixStream::connect(path)).await;
        RawClient {
            framed: Framed::new(stream, codec()),
        }
    }

    /// One request, one answer.
    pub async fn call(&mut self, request: &Request) -> u64 {
        let frame = postcard::to_stdvec(request).expect("encode");
        self.framed.send(Bytes::from(frame)).await.expect("send");
        let reply = self.framed.next().await.expect("answer").expect("frame");
        postcard::from_bytes(&reply).expect("decode")
    }

    /// Calls per second with `in_flight` requests pipelined on the connection for `window`.
    pub async fn pipelined(&mut self, in_flight: usize, window: Duration) -> f64 {
        let start = std::time::Instant::now();
        let (mut sent, mut answered, mut open) = (0u64, 0u64, 0usize);
        while start.elapsed() < window || open > 0 {
            while open < in_flight && start.elapsed() < window {
                let frame = postcard::to_stdvec(&Request::Work(sent)).expect("encode");
                self.framed.feed(Bytes::from(frame)).await.expect("send");
                sent += 1;
                open += 1;
            }
            SinkExt::<Bytes>::flush(&mut self.framed)
                .await
                .expect("flush");
            let reply = self.framed.next().await.expect("answer").expect("frame");
            let _: u64 = postcard::from_bytes(&reply).expect("decode");
            answered += 1;
            open -= 1;
        }
        answered as f64 / start.elapsed().as_secs_f64()
    }
}

// ---------------------------------------------------------------------------------------------
// tarpc

#[tarpc::service]
pub trait WorkService {
    /// `x + 1`.
    async fn work(x: u64) -> u64;
}

#[derive(Clone)]
struct WorkServer;

impl WorkService for WorkServer {
    async fn work(self, _: tarpc::context::Context, x: u64) -> u64 {
        x.wrapping_add(1)
    }
}

async fn tarpc_connection(io: impl AsyncRead + AsyncWrite + Unpin + Send + 'static) {
    use tarpc::server::{BaseChannel, Channel};
    let transport = tarpc::serde_transport::new(
        Framed::new(io, LengthDelimitedCodec::new()),
        tarpc::tokio_serde::formats::Bincode::default(),
    );
    BaseChannel::with_defaults(transport)
        .execute(WorkServer.serve())
        .for_each(|response| async move {
            tokio::spawn(response);
        })
        .await;
}

/// A tarpc client over `io`.
pub fn tarpc_client(io: impl AsyncRead + AsyncWrite + Unpin + Send + 'static) -> WorkServiceClient {
    let transport = tarpc::serde_transport::new(
        Framed::new(io, LengthDelimitedCodec::new()),
        tarpc::tokio_serde::formats::Bincode::default(),
    );
    WorkServiceClient::new(tarpc::client::Config::default(), transport).spawn()
}

/// One tarpc call.
pub async fn tarpc_call(client: &WorkServiceClient, x: u64) {
    let y = client
        .work(tarpc::context::current(), x)
        .await
        .expect("tarpc call");
    debug_assert_eq!(y, x + 1);
}

// ---------------------------------------------------------------------------------------------
// Server processes

/// A baseline server process.
#[derive(Debug, Clone, Copy)]
pub enum Server {
    Raw,
    TarpcUnix,
    TarpcTcp,
}

impl Server {
    fn arg(self) -> &'static str {
        match self {
            Server::Raw => "raw",
            Server::TarpcUnix => "tarpc-unix",
            Server::TarpcTcp => "tarpc-tcp",
        }
    }

    /// Starts this server as a child process pinned to `cpu`, listening on `addr` (a socket
    /// path, or `127.0.0.1:PORT`).
    pub fn spawn(self, addr: &str, cpu: usize) -> Child {
        let exe = std::env::current_exe().expect("own binary");
        Command::new(exe)
            .args(["serve", self.arg(), addr, &cpu.to_string()])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn the baseline server")
    }
}

/// The `serve` subcommand: runs a baseline server until killed.
pub fn serve(kind: &str, addr: &str, cpu: usize) {
    crate::pin::pin_this_thread(cpu);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        match kind {
            "raw" | "tarpc-unix" => {
                let listener = tokio::net::UnixListener::bind(addr).expect("bind");
                loop {
                    let (stream, _) = listener.accept().await.expect("accept");
                    if kind == "raw" {
                        tokio::spawn(raw_connection(stream));
                    } else {
                        tokio::spawn(tarpc_connection(stream));
                    }
                }
            }
            _ => {
                let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
                loop {
                    let (stream, _) = listener.accept().await.expect("accept");
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(tarpc_connection(stream));
                }
            }
        }
    });
}

/// Connects, retrying while the server process starts (bounded: 10 s).
pub async fn connect_retrying<T, F, Fut>(connect: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = std::io::Result<T>>,
{
    for _ in 0..1000 {
        if let Ok(conn) = connect().await {
            return conn;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the baseline server did not come up");
}
