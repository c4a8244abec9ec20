//! Rows 1–3: call latency, throughput and large arguments, lp against its baselines, under
//! both placements.

use std::time::Duration;

use std::process::Child;

use bytes::Bytes;
use lp::{Handle, LaunchOptions, LaunchType, Running};
use lp_bench::bench::{make_program, Params};
use lp_bench::nodes::Work;
use tokio::sync::Mutex;

use crate::baseline::{self, LimitClient, Request, Server, WorkServiceClient};
use crate::measure::{blocking_latency, latency, throughput, Latency};
use crate::pin::{pin_process, Placement};
use crate::report::{Pair, Report, Row};
use crate::watchdog;

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub struct Effort {
    /// Sequential calls per latency figure.
    pub calls: usize,
    /// How long each throughput figure runs.
    pub window: Duration,
    /// Calls with a 1 MiB argument (a tenth as many, at least 3, with a 64 MiB one).
    pub large_calls: usize,
}

/// The baselines every `local_mp` throughput figure is compared with, in the order of
/// [`Figures::rates`].
const RATE_BASELINES: [&str; 3] = [
    "raw limit: one task per side, a write per batch (or per 64 replies, if faster)",
    "tarpc, Unix socket, multi-thread server",
    "tarpc, Unix socket, current-thread server",
];

/// Which of [`RATE_BASELINES`] is the limit, the one the targets are set against.
const LIMIT: usize = 0;

/// Which of [`RATE_BASELINES`] is tarpc's best configuration.
const TARPC_BEST: usize = 2;

/// The size of a large argument.
const MIB: usize = 1 << 20;

/// The size of a huge argument: 64 MiB, half the largest frame.
const HUGE: usize = 64 << 20;

/// Everything measured under one placement.
struct Figures {
    channel: Latency,
    mt_async: Latency,
    mt_sync: Latency,
    /// The synchronous method from a thread blocked in `work_blocking`.
    mt_sync_blocking: Latency,
    /// The synchronous method marked `#[lp::nonblocking]`.
    mt_nonblocking: Latency,
    raw: Latency,
    mp_async: Latency,
    mp_sync: Latency,
    mp_nonblocking: Latency,
    /// tarpc over a Unix socket (multi-thread server, current-thread server), then TCP.
    tarpc: [Latency; 3],
    /// (in flight, callers) → lp local_mp calls/s, then each of [`RATE_BASELINES`]'.
    rates: Vec<((usize, usize), [f64; 1 + RATE_BASELINES.len()])>,
    /// lp local_mt and the channel with 256 in flight, calls/s.
    mt_rate: [f64; 2],
    /// (bytes, lp local_mp, raw) bytes/s.
    large: Vec<(usize, f64, f64)>,
}

/// The program's node binary: this one (`main` runs a node when the launcher spawns it).
pub fn node_binary() -> std::path::PathBuf {
    std::env::current_exe().expect("own binary")
}

pub(crate) async fn launch(launch_type: LaunchType) -> (Running, Handle<Work>) {
    launch_with(launch_type, None).await
}

/// [`launch`], serving the live dashboard (whose call counters its nodes then keep) on
/// `dashboard`, if given.
async fn launch_with(
    launch_type: LaunchType,
    dashboard: Option<std::net::SocketAddr>,
) -> (Running, Handle<Work>) {
    let program = make_program(Params { nodes: 0 });
    let server = program.server.id();
    let options = LaunchOptions::new()
        .binary(node_binary())
        .dashboard(dashboard);
    let running = lp::launch_with(program, launch_type, options)
        .await
        .expect("launch the benchmark program");
    let handle = running.handle(server);
    (running, handle)
}

/// The `profile` subcommand: only lp's calls/s with `in_flight` calls open for `window`, so
/// that `perf record` (or `perf stat`) sees nothing else: `local_mp` with the callee placed by
/// `placement`, or `local_mt` (`None`).
pub async fn profile(placement: Option<Placement>, in_flight: usize, window: Duration) -> f64 {
    let (running, work) = match placement {
        Some(placement) => {
            let (mp, work) = launch(LaunchType::TestMp).await;
            pin_process(work.pid().await.expect("pid"), placement.callee_cpu());
            (mp, work)
        }
        None => launch(LaunchType::TestMt).await,
    };
    let rate = throughput(1, in_flight, window, |x| call_async(&work, x)).await;
    running.stop().await.expect("stop");
    rate
}

/// One call of the async `work_async`.
async fn call_async(work: &Handle<Work>, x: u64) {
    work.work_async(x).await.expect("call");
}

/// One call of the synchronous `work_nonblocking`, marked `#[lp::nonblocking]`.
async fn call_nonblocking(work: &Handle<Work>, x: u64) {
    work.work_nonblocking(x).await.expect("call");
}

/// One call of the synchronous `work`.
pub(crate) async fn call_sync(work: &Handle<Work>, x: u64) {
    work.work(x).await.expect("call");
}

/// The socket baselines of one placement: their server processes and a client of each.
struct Peers {
    servers: Vec<Child>,
    /// The raw limit, shared by sequential calls.
    limit: Mutex<LimitClient>,
    /// The raw limit whose server writes its replies 64 at a time (for calls in flight).
    limit_chunked: Mutex<LimitClient>,
    /// tarpc over a Unix socket: multi-thread server, current-thread server; then over TCP.
    tarpc: [WorkServiceClient; 3],
    /// Holds the sockets.
    _dir: tempfile::TempDir,
}

impl Peers {
    /// Starts every baseline server pinned to `cpu`, and connects to each.
    async fn start(cpu: usize) -> Peers {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name).display().to_string();
        let tcp_addr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("its address").to_string()
        };
        let unix = [Server::TarpcUnix, Server::TarpcUnixOneThread];
        let mut servers = vec![
            Server::Limit.spawn(&path("limit.sock"), cpu),
            Server::LimitChunked.spawn(&path("limit-chunked.sock"), cpu),
            Server::TarpcTcp.spawn(&tcp_addr, cpu),
        ];
        servers.extend(
            unix.iter()
                .map(|s| s.spawn(&path(&format!("{s:?}.sock")), cpu)),
        );
        let tarpc_unix = |server: Server| async move {
            let sock = path(&format!("{server:?}.sock"));
            let stream = baseline::connect_retrying(|| tokio::net::UnixStream::connect(&sock));
            baseline::tarpc_client(stream.await)
        };
        let tcp = baseline::connect_retrying(|| tokio::net::TcpStream::connect(&tcp_addr)).await;
        tcp.set_nodelay(true).expect("nodelay");
        Peers {
            servers,
            limit: Mutex::new(LimitClient::connect(&path("limit.sock")).await),
            limit_chunked: Mutex::new(LimitClient::connect(&path("limit-chunked.sock")).await),
            tarpc: [
                tarpc_unix(unix[0]).await,
                tarpc_unix(unix[1]).await,
                baseline::tarpc_client(tcp),
            ],
            _dir: dir,
        }
    }

    /// One sequential call of the raw limit.
    async fn limit_call(&self, request: Request) {
        self.limit.lock().await.call(&request).await;
    }

    /// Each of [`RATE_BASELINES`]' calls/s with `in_flight` × `callers` calls open.
    async fn rates(&mut self, in_flight: usize, callers: usize, window: Duration) -> [f64; 3] {
        watchdog::phase("calls: the raw limit, calls/s");
        // Whichever server is faster here: one write per read leads on one vCPU, 64 replies a
        // write split.
        let mut limit = 0f64;
        for client in [&self.limit, &self.limit_chunked] {
            let rate = client
                .lock()
                .await
                .pipelined(in_flight * callers, window)
                .await;
            limit = limit.max(rate);
        }
        let tarpc = |client: &WorkServiceClient| {
            watchdog::phase("calls: tarpc, calls/s");
            let client = client.clone();
            throughput(callers, in_flight, window, move |x| {
                let client = client.clone();
                async move { baseline::tarpc_call(&client, x).await }
            })
        };
        [
            limit,
            tarpc(&self.tarpc[0]).await,
            tarpc(&self.tarpc[1]).await,
        ]
    }

    /// Kills the servers.
    fn stop(mut self) {
        for server in &mut self.servers {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

/// `local_mt` latencies (async, sync, sync from a `*_blocking` caller, sync marked
/// `#[lp::nonblocking]`) and calls/s beside the channel's: the figures of [`Figures`] that
/// start with `channel` and `mt_`.
async fn measure_mt(cpu: usize, effort: Effort) -> ([Latency; 5], [f64; 2]) {
    let (n, warmup) = (effort.calls, effort.calls / 10);
    let channel = baseline::channel_server(cpu);
    let channel_lat = latency(n, warmup, |x| baseline::channel_call(&channel, x)).await;
    let (mt, mt_work) = launch(LaunchType::TestMt).await;
    let mt_async = latency(n, warmup, |x| call_async(&mt_work, x)).await;
    let mt_sync = latency(n, warmup, |x| call_sync(&mt_work, x)).await;
    // A thread of its own (pinned as this one: it inherits the affinity), outside the runtime,
    // as a synchronous `run` calling `work_blocking` would be.
    let blocking = mt_work.clone();
    let mt_sync_blocking = std::thread::spawn(move || {
        blocking_latency(n, warmup, |x| {
            blocking.work_blocking(x).expect("call");
        })
    })
    .join()
    .expect("the blocking caller");
    let mt_nonblocking = latency(n, warmup, |x| call_nonblocking(&mt_work, x)).await;
    let mt_rate = [
        throughput(1, 256, effort.window, |x| call_async(&mt_work, x)).await,
        throughput(1, 256, effort.window, |x| {
            baseline::channel_call(&channel, x)
        })
        .await,
    ];
    mt.stop().await.expect("stop");
    let latencies = [
        channel_lat,
        mt_async,
        mt_sync,
        mt_sync_blocking,
        mt_nonblocking,
    ];
    (latencies, mt_rate)
}

async fn measure(placement: Placement, effort: Effort) -> Figures {
    let cpu = placement.callee_cpu();
    let n = effort.calls;
    let warmup = n / 10;
    watchdog::phase("calls: local_mt");
    let ([channel, mt_async, mt_sync, mt_sync_blocking, mt_nonblocking], mt_rate) =
        measure_mt(cpu, effort).await;
    watchdog::phase("calls: local_mp and the socket baselines, latency");
    let mut peers = Peers::start(cpu).await;
    let (mp, work) = launch(LaunchType::TestMp).await;
    pin_process(work.pid().await.expect("pid"), cpu);
    let mp_async = latency(n, warmup, |x| call_async(&work, x)).await;
    let mp_sync = latency(n, warmup, |x| call_sync(&work, x)).await;
    let mp_nonblocking = latency(n, warmup, |x| call_nonblocking(&work, x)).await;
    let raw_lat = latency(n, warmup, |x| peers.limit_call(Request::Work(x))).await;
    let mut tarpc = Vec::new();
    for client in &peers.tarpc {
        tarpc.push(latency(n, warmup, |x| baseline::tarpc_call(client, x)).await);
    }

    let mut rates = Vec::new();
    for (in_flight, callers) in [(1, 1), (16, 1), (256, 1), (64, 4)] {
        watchdog::phase("calls: local_mp, calls/s");
        let ours = throughput(callers, in_flight, effort.window, |x| call_async(&work, x)).await;
        let [a, b, c] = peers.rates(in_flight, callers, effort.window).await;
        rates.push(((in_flight, callers), [ours, a, b, c]));
    }
    watchdog::phase("calls: large arguments");
    let large = large_arguments(&work, &peers, effort).await;
    mp.stop().await.expect("stop");
    peers.stop();
    Figures {
        channel,
        mt_async,
        mt_sync,
        mt_sync_blocking,
        mt_nonblocking,
        raw: raw_lat,
        mp_async,
        mp_sync,
        mp_nonblocking,
        tarpc: [tarpc[0], tarpc[1], tarpc[2]],
        rates,
        mt_rate,
        large,
    }
}

/// (bytes, lp local_mp, raw) bytes/s of sequential calls with a 1 KiB, a 1 MiB and a 64 MiB
/// argument (a `Bytes`: cloning it for each call copies nothing).
async fn large_arguments(
    work: &Handle<Work>,
    peers: &Peers,
    effort: Effort,
) -> Vec<(usize, f64, f64)> {
    let mut large = Vec::new();
    for size in [1 << 10, MIB, HUGE] {
        let data = Bytes::from(vec![7u8; size]);
        let calls = match size {
            HUGE.. => (effort.large_calls / 10).max(3),
            MIB.. => effort.large_calls,
            _ => effort.calls / 4,
        };
        let ours = latency(calls, 2, |_| async {
            let got = work.size(data.clone()).await.expect("call");
            debug_assert_eq!(got as usize, size);
        })
        .await;
        let raw = latency(calls, 2, |_| peers.limit_call(Request::Size(data.clone()))).await;
        let bytes_per_s = |l: Latency| size as f64 / (l.p50 / 1e6);
        large.push((size, bytes_per_s(ours), bytes_per_s(raw)));
    }
    large
}

/// Measures rows 1–3 under both placements (split only with two vCPUs) and adds them.
pub async fn rows(report: &mut Report, effort: Effort) {
    let same = measure(Placement::Same, effort).await;
    let split = if crate::pin::cpus() > 1 {
        Some(measure(Placement::Split, effort).await)
    } else {
        report
            .skipped
            .push("the split placement: this machine has one vCPU".into());
        None
    };
    let mut rows = Rows {
        report,
        same: &same,
        split: split.as_ref(),
    };
    latency_rows(&mut rows);
    rate_rows(&mut rows);
    counter_row(report, effort).await;
}

/// The dashboard's cost: `local_mp` calls/s at 256 in flight with its call counters on (the
/// launch serves a dashboard, so its node process counts every call) beside the same launch
/// without, measured right before it. Last of all: the counters, once on in this process, stay
/// on for its in-process nodes.
async fn counter_row(report: &mut Report, effort: Effort) {
    watchdog::phase("calls: the dashboard's counters");
    let dashboard = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let mut pairs = Vec::new();
    for placement in [Placement::Same, Placement::Split] {
        if placement == Placement::Split && crate::pin::cpus() < 2 {
            break;
        }
        let mut rates = [0.0; 2];
        for (rate, dashboard) in rates.iter_mut().zip([None, Some(dashboard)]) {
            let (running, work) = launch_with(LaunchType::TestMp, dashboard).await;
            pin_process(work.pid().await.expect("pid"), placement.callee_cpu());
            *rate = throughput(1, 256, effort.window, |x| call_async(&work, x)).await;
            running.stop().await.expect("stop");
        }
        pairs.push(Pair {
            ours: rates[1],
            baseline: rates[0],
        });
    }
    let mut pairs = pairs.into_iter();
    report.rows.push(Row {
        name: "calls/s, local_mp, 256 in flight, dashboard counters on".to_string(),
        unit: "calls/s",
        baseline: "the same, counters off".to_string(),
        same: pairs.next().expect("the same-vCPU figures"),
        split: pairs.next(),
        target: Some("≥ 0.95".to_string()),
    });
}

/// Adds rows to a report from the figures of both placements.
struct Rows<'a> {
    report: &'a mut Report,
    same: &'a Figures,
    split: Option<&'a Figures>,
}

impl Rows<'_> {
    /// Adds a row whose figures (ours, the baseline's) `get` picks from each placement's.
    fn add(
        &mut self,
        name: &str,
        unit: &'static str,
        baseline: &str,
        target: Option<&str>,
        get: &dyn Fn(&Figures) -> (f64, f64),
    ) {
        let pair = |f: &Figures| {
            let (ours, baseline) = get(f);
            Pair { ours, baseline }
        };
        self.report.rows.push(Row {
            name: name.to_string(),
            unit,
            baseline: baseline.to_string(),
            same: pair(self.same),
            split: self.split.map(pair),
            target: target.map(str::to_string),
        });
    }
}

/// The latency rows: `local_mt` against a channel, `local_mp` against the raw limit and tarpc.
fn latency_rows(rows: &mut Rows) {
    let (mt, mp, us) = ("tokio mpsc + oneshot", "raw limit, Unix socket", "µs");
    rows.add(
        "call p50, local_mt, async method",
        us,
        mt,
        Some("≤ 5"),
        &|f| (f.mt_async.p50, f.channel.p50),
    );
    rows.add("call p99, local_mt, async method", us, mt, None, &|f| {
        (f.mt_async.p99, f.channel.p99)
    });
    rows.add("call p50, local_mt, sync method", us, mt, None, &|f| {
        (f.mt_sync.p50, f.channel.p50)
    });
    rows.add(
        "call p50, local_mt, sync method, `*_blocking` caller",
        us,
        mt,
        None,
        &|f| (f.mt_sync_blocking.p50, f.channel.p50),
    );
    rows.add(
        "call p50, local_mt, sync method, `#[lp::nonblocking]`",
        us,
        mt,
        None,
        &|f| (f.mt_nonblocking.p50, f.channel.p50),
    );
    rows.add(
        "call p50, local_mp, async method",
        us,
        mp,
        Some("≤ 1.2"),
        &|f| (f.mp_async.p50, f.raw.p50),
    );
    rows.add("call p99, local_mp, async method", us, mp, None, &|f| {
        (f.mp_async.p99, f.raw.p99)
    });
    rows.add("call p50, local_mp, sync method", us, mp, None, &|f| {
        (f.mp_sync.p50, f.raw.p50)
    });
    rows.add(
        "call p50, local_mp, sync method, `#[lp::nonblocking]`",
        us,
        mp,
        None,
        &|f| (f.mp_nonblocking.p50, f.raw.p50),
    );
    let tarpc = [
        "tarpc, Unix socket, multi-thread server",
        "tarpc, Unix socket, current-thread server",
        "tarpc, TCP loopback",
    ];
    for (i, peer) in tarpc.into_iter().enumerate() {
        let target = (i == 0).then_some("≤ 1");
        rows.add("call p50, local_mp, async method", us, peer, target, &|f| {
            (f.mp_async.p50, f.tarpc[i].p50)
        });
    }
}

/// The throughput rows: `local_mp` against every one of [`RATE_BASELINES`], `local_mt` against
/// the channel, and large arguments against the raw limit.
fn rate_rows(rows: &mut Rows) {
    for i in 0..rows.same.rates.len() {
        let ((in_flight, callers), _) = rows.same.rates[i];
        let what = if callers == 1 {
            format!("calls/s, local_mp, {in_flight} in flight")
        } else {
            format!("calls/s, local_mp, {callers} callers × {in_flight} in flight")
        };
        for (b, baseline) in RATE_BASELINES.into_iter().enumerate() {
            let target = match (in_flight, b) {
                (16 | 256, LIMIT) => Some("≥ 0.5"),
                (256, TARPC_BEST) => Some("≥ 2"),
                _ => None,
            };
            rows.add(&what, "calls/s", baseline, target, &|f| {
                (f.rates[i].1[0], f.rates[i].1[1 + b])
            });
        }
    }
    rows.add(
        "calls/s, local_mt, 256 in flight",
        "calls/s",
        "tokio mpsc + oneshot",
        None,
        &|f| (f.mt_rate[0], f.mt_rate[1]),
    );
    for i in 0..rows.same.large.len() {
        let what = match rows.same.large[i].0 {
            HUGE.. => "64 MiB argument, local_mp",
            MIB.. => "1 MiB argument, local_mp",
            _ => "1 KiB argument, local_mp",
        };
        rows.add(what, "MB/s", "raw limit, Unix socket", None, &|f| {
            (f.large[i].1 / 1e6, f.large[i].2 / 1e6)
        });
    }
}
