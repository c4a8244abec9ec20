//! The baselines, built here and run in the same command as lp: a tokio channel round trip
//! (the limit for `local_mt`), a raw Unix-socket client and server with the same framing and
//! serde format as lp, one task per side writing whole batches (the limit for `local_mp`), and
//! tarpc over Unix sockets (multi-thread and current-thread servers) and TCP (a peer).
//!
//! Socket servers run as separate processes:
//! `lp-bench serve limit|tarpc-unix|tarpc-unix-1t|tarpc-tcp ADDR CPU`.

use std::future::Future;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// What the raw client sends: lp's `work` and `size`, in the same serde format.
#[derive(Serialize, Deserialize)]
pub enum Request {
    Work(u64),
    Size(Bytes),
}

fn answer(request: Request) -> u64 {
    match request {
        Request::Work(x) => x.wrapping_add(1),
        Request::Size(data) => data.len() as u64,
    }
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
// The limit: one task per side, whole buffers, one write per batch

/// Appends one frame holding `value` to `out`: lp's framing (a 4-byte big-endian length) around
/// its postcard encoding, written in place.
fn put_frame<T: Serialize>(out: &mut BytesMut, value: &T) {
    let at = out.len();
    out.put_u32(0);
    let mut writer = out.writer();
    postcard::to_io(value, &mut writer).expect("encode");
    let out = writer.into_inner();
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
}

/// Takes the next whole frame off the front of `buffer`, if one is there; otherwise reserves
/// room for the rest of it.
fn next_frame(buffer: &mut BytesMut) -> Option<BytesMut> {
    let head = buffer.first_chunk::<4>()?;
    let len = u32::from_be_bytes(*head) as usize;
    if buffer.len() < 4 + len {
        buffer.reserve(4 + len - buffer.len());
        return None;
    }
    buffer.advance(4);
    Some(buffer.split_to(len))
}

/// Reads once into `buffer` (growing it first when full): false at end of stream.
async fn read_some(io: &mut (impl AsyncRead + Unpin), buffer: &mut BytesMut) -> bool {
    buffer.reserve(BUFFER);
    matches!(io.read_buf(buffer).await, Ok(n) if n > 0)
}

/// How much a limit peer reads at once.
const BUFFER: usize = 64 << 10;

/// Serves one connection at the transport's limit: reads whatever arrived, answers every whole
/// frame in it into one buffer, writes that buffer once — or, with `chunk`, each time `chunk`
/// replies are in it, so that a client on another vCPU starts on them while the rest are
/// answered (faster split, slower on one vCPU: the raw limit is the faster of the two).
async fn limit_connection(mut io: impl AsyncRead + AsyncWrite + Unpin, chunk: Option<usize>) {
    let (mut input, mut output) = (BytesMut::new(), BytesMut::with_capacity(BUFFER));
    while read_some(&mut io, &mut input).await {
        let mut answered = 0;
        while let Some(frame) = next_frame(&mut input) {
            let Ok(request) = postcard::from_bytes::<Request>(&frame) else {
                return;
            };
            put_frame(&mut output, &answer(request));
            answered += 1;
            if chunk.is_some_and(|chunk| answered % chunk == 0)
                && io.write_all_buf(&mut output).await.is_err()
            {
                return;
            }
        }
        if io.write_all_buf(&mut output).await.is_err() {
            return;
        }
    }
}

/// The replies a chunked raw limit server writes at once ([`Server::LimitChunked`]), as lp's
/// server does.
const CHUNK: usize = 64;

/// A client at the transport's limit: one connection, one task, requests written in batches
/// (one write each), replies read in whole buffers.
pub struct LimitClient {
    io: tokio::net::UnixStream,
    input: BytesMut,
    output: BytesMut,
}

impl LimitClient {
    pub async fn connect(path: &str) -> LimitClient {
        LimitClient {
            io: connect_retrying(|| tokio::net::UnixStream::connect(path)).await,
            input: BytesMut::new(),
            output: BytesMut::with_capacity(BUFFER),
        }
    }

    /// Writes what is queued, then waits for at least one reply: how many came.
    async fn exchange(&mut self) -> u64 {
        self.io.write_all_buf(&mut self.output).await.expect("send");
        loop {
            let mut answered = 0;
            while let Some(reply) = next_frame(&mut self.input) {
                let _: u64 = postcard::from_bytes(&reply).expect("decode");
                answered += 1;
            }
            if answered > 0 {
                return answered;
            }
            assert!(read_some(&mut self.io, &mut self.input).await, "answer");
        }
    }

    /// One request, one answer.
    pub async fn call(&mut self, request: &Request) {
        put_frame(&mut self.output, request);
        self.exchange().await;
    }

    /// Calls per second with `in_flight` requests pipelined on the connection for `window`:
    /// the window is refilled, in one write, each time replies arrive.
    pub async fn pipelined(&mut self, in_flight: usize, window: Duration) -> f64 {
        let start = std::time::Instant::now();
        let (mut sent, mut answered, mut open) = (0u64, 0u64, 0u64);
        loop {
            // One look at the clock per round: with two, the window could close between them
            // with nothing open, and the round would wait for a reply to nothing.
            let refill = start.elapsed() < window;
            if !refill && open == 0 {
                break;
            }
            if refill {
                for x in sent..sent + in_flight as u64 - open {
                    put_frame(&mut self.output, &Request::Work(x));
                }
                sent += in_flight as u64 - open;
                open = in_flight as u64;
            }
            let got = self.exchange().await;
            answered += got;
            open -= got;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// The raw limit ([`limit_connection`]), on a current-thread runtime.
    Limit,
    /// The same, writing its replies [`CHUNK`] at a time.
    LimitChunked,
    /// tarpc over a Unix socket, on a multi-thread runtime.
    TarpcUnix,
    /// tarpc over a Unix socket, on a current-thread runtime.
    TarpcUnixOneThread,
    /// tarpc over TCP loopback, on a multi-thread runtime.
    TarpcTcp,
}

impl Server {
    const ALL: [Server; 5] = [
        Server::Limit,
        Server::LimitChunked,
        Server::TarpcUnix,
        Server::TarpcUnixOneThread,
        Server::TarpcTcp,
    ];

    fn arg(self) -> &'static str {
        match self {
            Server::Limit => "limit",
            Server::LimitChunked => "limit-chunked",
            Server::TarpcUnix => "tarpc-unix",
            Server::TarpcUnixOneThread => "tarpc-unix-1t",
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

    /// Accepts connections on `addr` and serves each on a task of its own, forever.
    async fn run(self, addr: &str) {
        if self == Server::TarpcTcp {
            let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
            loop {
                let (stream, _) = listener.accept().await.expect("accept");
                let _ = stream.set_nodelay(true);
                tokio::spawn(tarpc_connection(stream));
            }
        }
        let listener = tokio::net::UnixListener::bind(addr).expect("bind");
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            match self {
                Server::Limit => tokio::spawn(limit_connection(stream, None)),
                Server::LimitChunked => tokio::spawn(limit_connection(stream, Some(CHUNK))),
                _ => tokio::spawn(tarpc_connection(stream)),
            };
        }
    }
}

/// The `serve` subcommand: runs a baseline server until killed, or until the run that spawned
/// it ends (however it ends: the watchdog's exit runs no destructor).
pub fn serve(kind: &str, addr: &str, cpu: usize) {
    let _ = rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    crate::pin::pin_this_thread(cpu);
    let Some(server) = Server::ALL.into_iter().find(|s| s.arg() == kind) else {
        eprintln!("lp-bench: no baseline server `{kind}`");
        return;
    };
    let mut builder = match server {
        Server::Limit | Server::LimitChunked | Server::TarpcUnixOneThread => {
            tokio::runtime::Builder::new_current_thread()
        }
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = builder.enable_all().build().expect("runtime");
    runtime.block_on(server.run(addr));
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
