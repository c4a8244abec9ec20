//! Calls end to end over both transports, with a hand-written courier shaped like generated
//! code: remote errors, panics, authentication, malformed and oversized frames, dead peers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use super::batch::Batch;
use super::client::{ClientCore, Net};
use super::interface::{id, Interfaces, Table};
use super::server::{serve, Service};
use super::{Courier, Host, Reply, Serve, Served};
use crate::error::{remote_error, CallError};
use crate::transport::frame::{self, Secret, ToClient, ToServer};
use crate::transport::inproc::Up;
use crate::transport::keys::Keyring;
use crate::transport::{conn, unix};

/// A courier with one method per behaviour under test.
#[derive(Default)]
struct Calc {
    /// How many calls ran, to prove that unauthenticated frames executed nothing.
    calls: AtomicUsize,
    /// How many `slow` calls were dropped before they finished (cancelled).
    cancelled: AtomicUsize,
    /// The size of every batch `double` ran.
    batches: std::sync::Mutex<Vec<usize>>,
}

/// An error type that crosses the wire as a value.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Refused {
    code: u32,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused with code {}", self.code)
    }
}

/// Counts a `slow` call as cancelled when dropped before it finished.
struct CancelGuard<'a>(&'a AtomicUsize, bool);

impl Drop for CancelGuard<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// `calc`'s host: `double` is batched by 4, waiting at most 50 ms.
fn calc_host() -> Arc<Host> {
    Arc::new(Host::new(
        0,
        Arc::from("calc"),
        tracing::Span::none(),
        vec![Batch {
            method: "double".into(),
            size: 4,
            timeout: Duration::from_millis(50),
            max_parallelism: 1,
        }],
    ))
}

#[derive(Serialize, Deserialize)]
enum CalcRequest {
    Add { a: u64, b: u64 },
    Fail {},
    Boom {},
    Slow { ms: u64 },
    Refuse {},
    Double { x: u64 },
    Echo { data: Bytes },
}

#[derive(Serialize, Deserialize)]
enum CalcResponse {
    Add(u64),
    Fail(()),
    Boom(()),
    Slow(()),
    Refuse(()),
    Double(u64),
    Echo(Bytes),
}

#[derive(Clone)]
struct CalcClient {
    core: ClientCore,
}

impl CalcClient {
    async fn add(&self, a: u64, b: u64) -> Result<u64, CallError> {
        match self
            .core
            .call::<Calc>("add", CalcRequest::Add { a, b })
            .await?
        {
            CalcResponse::Add(v) => Ok(v),
            _ => Err(CallError::Protocol("unexpected response to `add`".into())),
        }
    }
    async fn fail(&self) -> Result<(), CallError> {
        self.core
            .call::<Calc>("fail", CalcRequest::Fail {})
            .await
            .map(drop)
    }
    async fn boom(&self) -> Result<(), CallError> {
        self.core
            .call::<Calc>("boom", CalcRequest::Boom {})
            .await
            .map(drop)
    }
    async fn refuse(&self) -> Result<(), CallError> {
        self.core
            .call::<Calc>("refuse", CalcRequest::Refuse {})
            .await
            .map(drop)
    }
    async fn double(&self, x: u64) -> Result<u64, CallError> {
        match self
            .core
            .call::<Calc>("double", CalcRequest::Double { x })
            .await?
        {
            CalcResponse::Double(v) => Ok(v),
            _ => Err(CallError::Protocol(
                "unexpected response to `double`".into(),
            )),
        }
    }
    async fn echo(&self, data: Bytes) -> Result<Bytes, CallError> {
        match self
            .core
            .call::<Calc>("echo", CalcRequest::Echo { data })
            .await?
        {
            CalcResponse::Echo(data) => Ok(data),
            _ => Err(CallError::Protocol("unexpected response to `echo`".into())),
        }
    }
    async fn slow(&self, ms: u64) -> Result<(), CallError> {
        self.core
            .call::<Calc>("slow", CalcRequest::Slow { ms })
            .await
            .map(drop)
    }
}

impl Courier for Calc {
    type Request = CalcRequest;
    type Response = CalcResponse;
    type Client = CalcClient;
    const NAME: &'static str = "crate::Calc";
    fn client(core: ClientCore) -> CalcClient {
        CalcClient { core }
    }
}

impl Served for Calc {
    fn interfaces(set: &mut Interfaces<Self>) {
        set.add::<Calc>();
    }
}

/// `calc` as a node in this process's slot.
fn up(calc: &Arc<Calc>) -> Up {
    Up {
        object: calc.clone(),
        host: calc_host(),
        table: Arc::new(Table::of::<Calc>()),
    }
}

impl Serve<Calc> for Calc {
    fn serve(self: Arc<Self>, request: CalcRequest) -> Reply<CalcResponse> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match request {
            CalcRequest::Add { a, b } => Reply::blocking(move || Ok(CalcResponse::Add(a + b))),
            CalcRequest::Fail {} => Reply::blocking(move || {
                Err::<(), _>(anyhow::anyhow!("disk full").context("cannot save"))
                    .map(CalcResponse::Fail)
                    .map_err(remote_error)
            }),
            CalcRequest::Boom {} => Reply::blocking(move || panic!("kaboom")),
            CalcRequest::Slow { ms } => Reply::spawn(async move {
                let mut guard = CancelGuard(&self.cancelled, false);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                guard.1 = true;
                Ok(CalcResponse::Slow(()))
            }),
            CalcRequest::Refuse {} => Reply::blocking(move || {
                Err::<(), _>(Refused { code: 7 })
                    .map(CalcResponse::Refuse)
                    .map_err(|e| crate::__remote_error!(e))
            }),
            CalcRequest::Echo { data } => Reply::blocking(move || Ok(CalcResponse::Echo(data))),
            CalcRequest::Double { x } => Reply::batch(
                self,
                "double",
                x,
                |calc: Arc<Calc>, xs: Vec<u64>| {
                    Reply::blocking(move || {
                        calc.batches.lock().unwrap().push(xs.len());
                        Ok(xs.iter().map(|x| x * 2).collect())
                    })
                },
                CalcResponse::Double,
            ),
        }
    }
}

/// A `Calc` served on a Unix socket in a fresh private directory.
struct Serving {
    _dir: tempfile::TempDir,
    dir: std::path::PathBuf,
    /// Every key of its launch; the calc is node 0.
    keys: Keyring,
    calc: Arc<Calc>,
    stop: CancellationToken,
}

impl Serving {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let keys = Keyring::launch(&Secret::random().unwrap(), 2);
        let calc = Arc::new(Calc::default());
        let stop = CancellationToken::new();
        let listener = UnixListener::bind(unix::node_socket(&path, 0)).unwrap();
        let service = Arc::new(Service {
            object: calc.clone(),
            table: Arc::new(Table::of::<Calc>()),
            host: calc_host(),
            net: Net::in_proc(
                vec!["calc".into()],
                CancellationToken::new(),
                Duration::from_secs(5),
            ),
        });
        let served = conn::Keys {
            seal: keys.member().clone(),
            hello: keys.node(0).unwrap(),
        };
        tokio::spawn(serve(listener, service, served, stop.clone()));
        Serving {
            _dir: dir,
            dir: path,
            keys,
            calc,
            stop,
        }
    }

    fn client(&self) -> CalcClient {
        let net = unix_net(
            vec!["calc".into()],
            self.dir.clone(),
            self.keys.clone(),
            Duration::from_secs(5),
        );
        Calc::client(net.core(0))
    }

    /// The net of a process whose one node, `other` (node 1), holds no handle to the calc.
    fn net_of_other(&self) -> Net {
        unix_net(
            vec!["calc".into(), "other".into()],
            self.dir.clone(),
            self.keys.narrowed([1]),
            Duration::from_secs(5),
        )
    }

    /// The calc's key, which its server checks.
    fn key(&self) -> Secret {
        self.keys.node(0).unwrap()
    }

    async fn raw(&self) -> (conn::FrameReader, conn::FrameWriter) {
        conn::framed(
            UnixStream::connect(unix::node_socket(&self.dir, 0))
                .await
                .unwrap(),
        )
    }
}

/// A net of one node over Unix sockets in `dir`.
fn unix_net(labels: Vec<String>, dir: PathBuf, keys: Keyring, ready: Duration) -> Net {
    let dial = Arc::new(unix::UnixDialer::new(dir));
    Net::sockets(
        labels,
        vec![false],
        dial,
        keys,
        CancellationToken::new(),
        ready,
    )
}

async fn send(writer: &mut conn::FrameWriter, message: &ToServer) {
    writer.send(frame::encode(message).unwrap()).await.unwrap();
}

fn call(call_id: u64) -> ToServer {
    ToServer::Call {
        id: call_id,
        interface: id::<Calc>(),
        method: "add".into(),
        body: frame::encode(&CalcRequest::Add { a: 1, b: 2 }).unwrap(),
        deadline: None,
        trace: None,
    }
}

#[tokio::test]
async fn calls_errors_and_panics_over_a_socket() {
    let served = Serving::start().await;
    let client = served.client();
    assert_eq!(client.add(2, 3).await.unwrap(), 5);
    let err = client.fail().await.unwrap_err();
    assert_eq!(
        err,
        CallError::Remote {
            node: "calc".into(),
            method: "fail".into(),
            message: "cannot save: disk full".into(),
            value: None,
        }
    );
    assert_eq!(
        err.to_string(),
        "`fail` on `calc` returned an error: cannot save: disk full"
    );
    match client.boom().await.unwrap_err() {
        CallError::Panicked {
            node,
            method,
            message,
        } => {
            assert_eq!((&*node, &*method, &*message), ("calc", "boom", "kaboom"))
        }
        other => panic!("unexpected {other:?}"),
    }
    // The server survived the panic, and calls are concurrent on one connection.
    let many = futures::future::join_all((0..100).map(|i| client.add(i, 1))).await;
    for (i, r) in many.into_iter().enumerate() {
        assert_eq!(r.unwrap(), i as u64 + 1);
    }
    served.stop.cancel();
}

/// Answers the server's challenge with a proof made with `secret`.
async fn hello(reader: &mut conn::FrameReader, writer: &mut conn::FrameWriter, secret: &Secret) {
    let nonce = match frame::decode::<ToClient>(&reader.next().await.unwrap().unwrap()) {
        Ok(ToClient::Challenge { nonce, .. }) => nonce,
        other => panic!("expected a challenge, got {other:?}"),
    };
    send(
        writer,
        &ToServer::Hello {
            protocol: frame::PROTOCOL,
            proof: secret.proof(&nonce),
        },
    )
    .await;
}

#[tokio::test]
async fn a_bad_secret_executes_nothing() {
    let served = Serving::start().await;
    // Another launch's key, this launch's member key, another node's key: each refused.
    let wrong = [
        Secret::random().unwrap(),
        served.keys.member().clone(),
        served.keys.node(1).unwrap(),
    ];
    for key in wrong {
        let (mut reader, mut writer) = served.raw().await;
        hello(&mut reader, &mut writer, &key).await;
        let _ = writer.send(frame::encode(&call(1)).unwrap()).await;
        assert!(reader.next().await.is_none(), "the connection is closed");
    }
    // No hello at all: a call as the first frame, after the challenge.
    let (mut reader, mut writer) = served.raw().await;
    send(&mut writer, &call(1)).await;
    assert!(matches!(
        frame::decode::<ToClient>(&reader.next().await.unwrap().unwrap()),
        Ok(ToClient::Challenge { .. })
    ));
    assert!(reader.next().await.is_none());
    assert_eq!(served.calc.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_process_without_the_nodes_key_cannot_call_it() {
    let served = Serving::start().await;
    // The keys of a process whose node (`other`) holds no handle to the calc.
    let net = served.net_of_other();
    let err = Calc::client(net.core(0)).add(1, 2).await.unwrap_err();
    assert!(err.to_string().contains("holds no key to it"), "{err}");
    // With the key of the node it holds, presented as the calc's (a forged handle).
    let forged = net.core(1).forged("calc").unwrap();
    let err = Calc::client(forged).add(1, 2).await.unwrap_err();
    assert!(err.to_string().contains("refused"), "{err}");
    assert_eq!(served.calc.calls.load(Ordering::SeqCst), 0, "nothing ran");
    // Its key received (with a handle), a process may.
    let net = served.net_of_other();
    net.grant(0, served.keys.proven(0).unwrap());
    assert_eq!(Calc::client(net.core(0)).add(1, 2).await.unwrap(), 3);
}

#[tokio::test]
async fn a_malformed_frame_closes_only_its_connection() {
    let served = Serving::start().await;
    let good = served.client();
    assert_eq!(good.add(1, 1).await.unwrap(), 2);
    let (mut reader, mut writer) = served.raw().await;
    hello(&mut reader, &mut writer, &served.key()).await;
    assert!(matches!(
        frame::decode::<ToClient>(&reader.next().await.unwrap().unwrap()),
        Ok(ToClient::Welcome)
    ));
    writer
        .send(Bytes::from_static(b"\xff\xfe garbage"))
        .await
        .unwrap();
    assert!(
        reader.next().await.is_none(),
        "the bad connection is closed"
    );
    assert_eq!(
        good.add(2, 2).await.unwrap(),
        4,
        "the other connection still works"
    );
}

#[tokio::test]
async fn an_oversized_frame_is_rejected_from_its_header() {
    let served = Serving::start().await;
    let (mut reader, mut writer) = served.raw().await;
    hello(&mut reader, &mut writer, &served.key()).await;
    let _welcome = reader.next().await;
    // Announce 1 GiB and send nothing more: the server must close without waiting for (or
    // allocating) the body.
    let mut raw = writer.into_inner();
    raw.write_all(&(1u32 << 30).to_be_bytes()).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), reader.next()).await;
    assert!(matches!(closed, Ok(None)), "closed at once");
    assert_eq!(served.calc.calls.load(Ordering::SeqCst), 0);
    // The codec refuses to even send one.
    let big = Bytes::from(vec![0u8; frame::MAX_FRAME + 1]);
    let mut codec = frame::FrameCodec::hello();
    codec.authenticated();
    let mut out = bytes::BytesMut::new();
    assert!(tokio_util::codec::Encoder::encode(&mut codec, big, &mut out).is_err());
}

#[tokio::test(start_paused = true)]
async fn a_node_that_never_comes_up_is_unavailable_after_the_ready_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let net = unix_net(
        vec!["ghost".into()],
        dir.path().to_path_buf(),
        Keyring::launch(&Secret::random().unwrap(), 1),
        Duration::from_secs(30),
    );
    let started = tokio::time::Instant::now();
    let err = Calc::client(net.core(0)).add(1, 2).await.unwrap_err();
    assert!(
        matches!(err, CallError::Unavailable { ref node, .. } if node == "ghost"),
        "{err}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_peer_that_dies_mid_call_fails_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keyring::launch(&Secret::random().unwrap(), 1);
    let listener = UnixListener::bind(unix::node_socket(dir.path(), 0)).unwrap();
    let server_secret = keys.node(0).unwrap();
    // A server that accepts the call and dies without answering.
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (mut reader, mut writer) = conn::framed(stream);
        assert!(conn::accept_hello(&mut reader, &mut writer, &server_secret).await);
        let _call = reader.next().await;
        drop((reader, writer, listener));
    });
    let net = unix_net(
        vec!["mortal".into()],
        dir.path().to_path_buf(),
        keys,
        Duration::from_secs(30),
    );
    let client = Calc::client(net.core(0));
    let err = tokio::time::timeout(Duration::from_secs(10), client.add(1, 2))
        .await
        .expect("bounded")
        .unwrap_err();
    assert!(matches!(err, CallError::Unavailable { .. }), "{err}");
    // A later call does not wait for the ready deadline: the peer is known dead.
    let err = tokio::time::timeout(Duration::from_secs(10), client.add(1, 2))
        .await
        .expect("bounded")
        .unwrap_err();
    assert!(matches!(err, CallError::Unavailable { .. }), "{err}");
}

#[tokio::test(start_paused = true)]
async fn per_call_deadlines() {
    let served = Serving::start().await;
    let net = unix_net(
        vec!["calc".into()],
        served.dir.clone(),
        served.keys.clone(),
        Duration::from_secs(5),
    );
    let client = Calc::client(net.core(0).with_deadline(Some(Duration::from_millis(50))));
    assert_eq!(
        client.slow(1_000).await.unwrap_err(),
        CallError::DeadlineExceeded {
            node: "calc".into(),
            method: "slow".into()
        }
    );
    client.slow(10).await.unwrap();
}

#[tokio::test]
async fn in_process_calls_errors_panics_and_slow_sync_methods() {
    let net = Net::in_proc(
        vec!["calc".into()],
        CancellationToken::new(),
        Duration::from_secs(5),
    );
    let client = Calc::client(net.core(0));
    let calc = Arc::new(Calc::default());
    let slot = net.slots().unwrap().slots[0].clone();
    // A call made before the node is up waits for it.
    let early = tokio::spawn({
        let client = client.clone();
        async move { client.add(20, 22).await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    slot.publish(up(&calc));
    assert_eq!(early.await.unwrap().unwrap(), 42);
    assert!(matches!(client.fail().await, Err(CallError::Remote { .. })));
    assert!(matches!(
        client.boom().await,
        Err(CallError::Panicked { .. })
    ));
    assert_eq!(client.add(1, 1).await.unwrap(), 2);
    slot.take_down();
    assert!(matches!(
        client.add(1, 1).await,
        Err(CallError::Unavailable { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn in_process_node_that_never_comes_up_is_unavailable() {
    let net = Net::in_proc(
        vec!["late".into()],
        CancellationToken::new(),
        Duration::from_secs(30),
    );
    let err = Calc::client(net.core(0)).add(1, 1).await.unwrap_err();
    assert!(matches!(err, CallError::Unavailable { .. }), "{err}");
}

/// Both transports: a client of `calc` served over a socket, and one in process.
async fn both_transports() -> (Serving, CalcClient, CalcClient, Arc<Calc>) {
    let served = Serving::start().await;
    let over_socket = served.client();
    let net = Net::in_proc(
        vec!["calc".into()],
        CancellationToken::new(),
        Duration::from_secs(5),
    );
    let calc = Arc::new(Calc::default());
    net.slots().unwrap().slots[0].publish(up(&calc));
    (served, over_socket, Calc::client(net.core(0)), calc)
}

#[tokio::test]
async fn error_values_reach_the_caller_when_serializable() {
    let (_served, over_socket, in_proc, _) = both_transports().await;
    for client in [over_socket, in_proc] {
        let err = client.refuse().await.unwrap_err();
        assert_eq!(err.remote_value::<Refused>(), Some(Refused { code: 7 }));
        assert_eq!(
            err.to_string(),
            "`refuse` on `calc` returned an error: refused with code 7"
        );
        // An error type that is only `Display` (anyhow) gives its message and no value.
        let err = client.fail().await.unwrap_err();
        assert_eq!(err.remote_value::<Refused>(), None);
        assert!(
            matches!(err, CallError::Remote { value: None, .. }),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_64_mib_argument_round_trips_among_small_calls() {
    let (_served, over_socket, in_proc, _) = both_transports().await;
    let data: Bytes = (0..64u32 << 20).map(|i| (i % 251) as u8).collect();
    for client in [over_socket, in_proc] {
        let small = (0..8).map(|x| client.add(x, 1));
        let (echoed, sums) =
            tokio::join!(client.echo(data.clone()), futures::future::join_all(small));
        assert!(echoed.unwrap() == data, "the echo differs");
        let sums: Vec<u64> = sums.into_iter().map(Result::unwrap).collect();
        assert_eq!(sums, (1..9).collect::<Vec<u64>>());
    }
}

#[tokio::test]
async fn a_dropped_call_is_cancelled_on_the_server() {
    let (served, over_socket, in_proc, calc) = both_transports().await;
    for (client, node) in [(over_socket, &served.calc), (in_proc, &calc)] {
        let client = Calc::client(client.core.with_deadline(Some(Duration::from_millis(50))));
        let err = client.slow(60_000).await.unwrap_err();
        assert!(matches!(err, CallError::DeadlineExceeded { .. }), "{err}");
        // The server drops the method's future at its next `.await`.
        let mut waited = Duration::ZERO;
        while node.cancelled.load(Ordering::SeqCst) == 0 && waited < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += Duration::from_millis(10);
        }
        assert_eq!(node.cancelled.load(Ordering::SeqCst), 1, "cancelled once");
        // The connection is still good.
        assert_eq!(client.add(1, 2).await.unwrap(), 3);
    }
}

#[tokio::test]
async fn batched_calls_form_batches_and_partial_batches_run_after_the_timeout() {
    let (served, over_socket, in_proc, calc) = both_transports().await;
    for (client, node) in [(over_socket, &served.calc), (in_proc, &calc)] {
        let answers = futures::future::join_all((0..10).map(|x| client.double(x))).await;
        for (x, answer) in answers.into_iter().enumerate() {
            assert_eq!(
                answer.unwrap(),
                2 * x as u64,
                "each caller gets its own answer"
            );
        }
        let sizes = node.batches.lock().unwrap().clone();
        assert_eq!(sizes.iter().sum::<usize>(), 10, "{sizes:?}");
        assert!(sizes.iter().all(|&n| (1..=4).contains(&n)), "{sizes:?}");
        assert!(sizes.iter().any(|&n| n > 1), "batches formed: {sizes:?}");
        // A lone call runs as a partial batch once the timeout passes.
        node.batches.lock().unwrap().clear();
        assert_eq!(client.double(21).await.unwrap(), 42);
        assert_eq!(*node.batches.lock().unwrap(), vec![1]);
    }
}

/// Reads until the server closes the connection; how many bytes it sent meanwhile.
async fn until_closed(stream: &mut UnixStream) -> usize {
    use tokio::io::AsyncReadExt;
    let mut sent = 0;
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return sent,
            Ok(n) => sent += n,
        }
    }
}

#[tokio::test]
async fn before_the_handshake_only_a_hello_sized_frame_is_read() {
    let served = Serving::start().await;
    let path = unix::node_socket(&served.dir, 0);
    // Each announces a frame just under the limit, as a hostile peer would, and sends nothing
    // more: the server reads no further than the header.
    let mut peers = Vec::new();
    for _ in 0..8 {
        let mut stream = UnixStream::connect(&path).await.unwrap();
        stream
            .write_all(&((frame::MAX_FRAME - 1) as u32).to_be_bytes())
            .await
            .unwrap();
        peers.push(stream);
    }
    for stream in &mut peers {
        let closed = tokio::time::timeout(Duration::from_secs(2), until_closed(stream)).await;
        assert!(
            closed.is_ok(),
            "closed at once, not after the handshake timeout"
        );
    }
    assert_eq!(served.client().add(1, 1).await.unwrap(), 2);
    assert_eq!(served.calc.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_silent_peer_is_dropped_after_the_handshake_timeout() {
    let served = Serving::start().await;
    let mut stream = UnixStream::connect(unix::node_socket(&served.dir, 0))
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let challenge = until_closed(&mut stream).await;
    assert!(challenge > 0, "it got the challenge");
    let waited = started.elapsed();
    assert!(
        waited >= conn::HANDSHAKE_TIMEOUT && waited < conn::HANDSHAKE_TIMEOUT * 2,
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn connections_beyond_the_handshake_cap_are_closed_unread() {
    let served = Serving::start().await;
    let path = unix::node_socket(&served.dir, 0);
    let mut silent = Vec::new();
    for _ in 0..conn::MAX_HANDSHAKES {
        silent.push(UnixStream::connect(&path).await.unwrap());
    }
    // Let the server take them all into their handshakes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut one_more = UnixStream::connect(&path).await.unwrap();
    let started = tokio::time::Instant::now();
    assert_eq!(until_closed(&mut one_more).await, 0, "no challenge for it");
    assert!(started.elapsed() < conn::HANDSHAKE_TIMEOUT);
    // Once the silent ones time out, a client gets through.
    tokio::time::sleep(conn::HANDSHAKE_TIMEOUT).await;
    assert_eq!(served.client().add(2, 2).await.unwrap(), 4);
    drop(silent);
}

/// Every call moves its future, traced or not: an in-process call's holds its trace once,
/// boxed (borrowed below), not a call over a socket's state (boxed), nor a deadline's timer
/// (boxed), nor a synchronous method's work (handed to its thread at once). With a copy of the
/// trace in each layer it was 1,416 bytes and in-process calls a fifth slower; it is 840
/// (rustc 1.95, debug and release). Under about 900, a caller's task holding it (in a
/// `FuturesUnordered`, say) stays below glibc's large-chunk size, whose every allocation
/// consolidated the heap first (6% of a caller's time with 256 calls in flight).
#[test]
fn an_in_process_call_is_a_small_future() {
    let net = Net::in_proc(
        vec!["calc".into()],
        CancellationToken::new(),
        Duration::from_secs(5),
    );
    let core = net.core(0);
    let call = core.call::<Calc>("add", CalcRequest::Add { a: 1, b: 2 });
    let size = std::mem::size_of_val(&call);
    assert!(size <= 900, "an in-process call's future is {size} bytes");
}

/// A synchronous method runs on a blocking thread, unless its caller's thread waits for it in a
/// `*_blocking` call: then on that thread, saving the hop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_method_runs_on_the_thread_of_a_blocking_caller() {
    let host = calc_host();
    let where_ran = || Reply::blocking(|| Ok(std::thread::current().id()));
    let here = std::thread::current().id();
    let there = super::execute(where_ran(), &host, "get", None)
        .await
        .unwrap();
    assert_ne!(there, here, "an async caller: a blocking thread");
    let handle = tokio::runtime::Handle::current();
    let (caller, ran) = std::thread::spawn(move || {
        let ran = crate::blocking::waiting(|| {
            handle.block_on(super::execute(where_ran(), &host, "get", None))
        });
        (std::thread::current().id(), ran.unwrap())
    })
    .join()
    .unwrap();
    assert_eq!(ran, caller, "a blocking caller: its own thread");
    assert!(
        !crate::blocking::may_block(),
        "the mark is this thread's only"
    );
}

/// A method marked `#[lp::nonblocking]` runs where its call is served, with no hop; its panic is
/// caught there as any method's is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonblocking_method_runs_in_place_and_its_panic_is_caught() {
    let host = calc_host();
    let here = std::thread::current().id();
    let where_ran = Reply::nonblocking(|| Ok(std::thread::current().id()));
    let ran = super::execute(where_ran, &host, "get", None).await;
    assert_eq!(ran.unwrap(), here, "run on the serving thread");
    let boom = Reply::<()>::nonblocking(|| panic!("kaboom"));
    match super::execute(boom, &host, "boom", None).await {
        Err(CallError::Panicked {
            method, message, ..
        }) => assert_eq!((method.as_str(), message.as_str()), ("boom", "kaboom")),
        other => panic!("expected the panic as an error, got {other:?}"),
    }
}
