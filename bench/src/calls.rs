//! Rows 1–3: call latency, throughput and large arguments, lp against its baselines, under
//! both placements.

use std::rc::Rc;
use std::time::Duration;

use lp::{Handle, LaunchOptions, LaunchType, Running};
use lp_bench::bench::{make_program, Params};
use lp_bench::nodes::Work;
use tokio::sync::Mutex;

use crate::baseline::{self, RawClient, Request, Server, WorkServiceClient};
use crate::measure::{latency, throughput, Latency};
use crate::pin::{pin_process, Placement};
use crate::report::{Pair, Report, Row};

/// How much to measure.
#[derive(Debug, Clone, Copy)]
pub struct Effort {
    /// Sequential calls per latency figure.
    pub calls: usize,
    /// How long each throughput figure runs.
    pub window: Duration,
    /// Calls with a 1 MiB argument.
    pub large_calls: usize,
}

/// Everything measured under one placement.
struct Figures {
    channel: Latency,
    mt_async: Latency,
    mt_sync: Latency,
    raw: Latency,
    mp_async: Latency,
    mp_sync: Latency,
    tarpc_unix: Latency,
    tarpc_tcp: Latency,
    /// (in flight, callers) → (lp local_mp, raw, tarpc Unix) calls/s.
    rates: Vec<((usize, usize), [f64; 3])>,
    /// lp local_mt and the channel with 256 in flight, calls/s.
    mt_rate: [f64; 2],
    /// (bytes, lp local_mp, raw) bytes/s.
    large: Vec<(usize, f64, f64)>,
}

/// The program binary next to this one.
pub fn node_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("own binary");
    let path = exe.with_file_name("bench-node");
    assert!(
        path.is_file(),
        "{} is missing: run through `cargo run --release -p lp-bench`, which builds it",
        path.display()
    );
    path
}

async fn launch(launch_type: LaunchType) -> (Running, Handle<Work>) {
    let program = make_program(Params { nodes: 0 });
    let server = program.server.id();
    let options = LaunchOptions::new().binary(node_binary());
    let running = lp::launch_with(program, launch_type, options)
        .await
        .expect("launch the benchmark program");
    let handle = running.handle(server);
    (running, handle)
}

/// One call of the async `work_async`.
async fn call_async(work: &Handle<Work>, x: u64) {
    work.work_async(x).await.expect("call");
}

/// One call of the synchronous `work`.
async fn call_sync(work: &Handle<Work>, x: u64) {
    work.work(x).await.expect("call");
}

async fn measure(placement: Placement, effort: Effort) -> Figures {
    let cpu = placement.callee_cpu();
    let n = effort.calls;
    let warmup = n / 10;
    let dir = tempfile::tempdir().expect("temp dir");
    let raw_path = dir.path().join("raw.sock").display().to_string();
    let tarpc_path = dir.path().join("tarpc.sock").display().to_string();
    let tcp_addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        probe.local_addr().expect("its address").to_string()
    };
    let mut servers = vec![
        Server::Raw.spawn(&raw_path, cpu),
        Server::TarpcUnix.spawn(&tarpc_path, cpu),
        Server::TarpcTcp.spawn(&tcp_addr, cpu),
    ];

    let channel = baseline::channel_server(cpu);
    let channel_lat = latency(n, warmup, |x| baseline::channel_call(&channel, x)).await;

    let (mt, mt_work) = launch(LaunchType::TestMt).await;
    let mt_async = latency(n, warmup, |x| call_async(&mt_work, x)).await;
    let mt_sync = latency(n, warmup, |x| call_sync(&mt_work, x)).await;
    let mt_rate = [
        throughput(1, 256, effort.window, |x| call_async(&mt_work, x)).await,
        throughput(1, 256, effort.window, |x| {
            baseline::channel_call(&channel, x)
        })
        .await,
    ];
    mt.stop().await.expect("stop");

    let (mp, work) = launch(LaunchType::TestMp).await;
    pin_process(work.pid().await.expect("pid"), cpu);
    let mp_async = latency(n, warmup, |x| call_async(&work, x)).await;
    let mp_sync = latency(n, warmup, |x| call_sync(&work, x)).await;

    let raw = Rc::new(Mutex::new(RawClient::connect(&raw_path).await));
    let raw_lat = latency(n, warmup, |x| {
        let raw = raw.clone();
        async move {
            raw.lock().await.call(&Request::Work(x)).await;
        }
    })
    .await;
    let unix = baseline::connect_retrying(|| tokio::net::UnixStream::connect(&tarpc_path)).await;
    let tarpc_unix: WorkServiceClient = baseline::tarpc_client(unix);
    let tarpc_unix_lat = latency(n, warmup, |x| baseline::tarpc_call(&tarpc_unix, x)).await;
    let tcp = baseline::connect_retrying(|| tokio::net::TcpStream::connect(&tcp_addr)).await;
    tcp.set_nodelay(true).expect("nodelay");
    let tarpc_tcp = baseline::tarpc_client(tcp);
    let tarpc_tcp_lat = latency(n, warmup, |x| baseline::tarpc_call(&tarpc_tcp, x)).await;

    let mut rates = Vec::new();
    for (in_flight, callers) in [(1, 1), (16, 1), (256, 1), (64, 4)] {
        let ours = throughput(callers, in_flight, effort.window, |x| call_async(&work, x)).await;
        let raw_rate = raw
            .lock()
            .await
            .pipelined(in_flight * callers, effort.window)
            .await;
        let tarpc_rate = throughput(callers, in_flight, effort.window, |x| {
            baseline::tarpc_call(&tarpc_unix, x)
        })
        .await;
        rates.push(((in_flight, callers), [ours, raw_rate, tarpc_rate]));
    }

    let mut large = Vec::new();
    for size in [1usize << 10, 1 << 20] {
        let data = vec![7u8; size];
        let calls = if size > 4096 {
            effort.large_calls
        } else {
            n / 4
        };
        let ours = latency(calls, 2, |_| async {
            let got = work.size(data.clone()).await.expect("call");
            debug_assert_eq!(got as usize, size);
        })
        .await;
        let raw_lat = latency(calls, 2, |_| {
            let raw = raw.clone();
            let request = Request::Size(data.clone());
            async move {
                raw.lock().await.call(&request).await;
            }
        })
        .await;
        let bytes_per_s = |l: Latency| size as f64 / (l.p50 / 1e6);
        large.push((size, bytes_per_s(ours), bytes_per_s(raw_lat)));
    }
    mp.stop().await.expect("stop");
    for server in &mut servers {
        let _ = server.kill();
        let _ = server.wait();
    }
    Figures {
        channel: channel_lat,
        mt_async,
        mt_sync,
        raw: raw_lat,
        mp_async,
        mp_sync,
        tarpc_unix: tarpc_unix_lat,
        tarpc_tcp: tarpc_tcp_lat,
        rates,
        mt_rate,
        large,
    }
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
    let mut row = |name: &str,
                   unit: &'static str,
                   baseline: &str,
                   target: Option<&str>,
                   get: &dyn Fn(&Figures) -> (f64, f64)| {
        let pair = |f: &Figures| {
            let (ours, baseline) = get(f);
            Pair { ours, baseline }
        };
        report.rows.push(Row {
            name: name.to_string(),
            unit,
            baseline: baseline.to_string(),
            same: pair(&same),
            split: split.as_ref().map(pair),
            target: target.map(str::to_string),
        });
    };
    row(
        "call p50, local_mt, async method",
        "µs",
        "tokio mpsc + oneshot",
        Some("≤ 5"),
        &|f| (f.mt_async.p50, f.channel.p50),
    );
    row(
        "call p99, local_mt, async method",
        "µs",
        "tokio mpsc + oneshot",
        None,
        &|f| (f.mt_async.p99, f.channel.p99),
    );
    row(
        "call p50, local_mt, sync method",
        "µs",
        "tokio mpsc + oneshot",
        None,
        &|f| (f.mt_sync.p50, f.channel.p50),
    );
    row(
        "call p50, local_mp, async method",
        "µs",
        "raw Unix socket",
        Some("≤ 1.3"),
        &|f| (f.mp_async.p50, f.raw.p50),
    );
    row(
        "call p99, local_mp, async method",
        "µs",
        "raw Unix socket",
        None,
        &|f| (f.mp_async.p99, f.raw.p99),
    );
    row(
        "call p50, local_mp, sync method",
        "µs",
        "raw Unix socket",
        None,
        &|f| (f.mp_sync.p50, f.raw.p50),
    );
    row(
        "call p50, local_mp, async method",
        "µs",
        "tarpc, Unix socket",
        Some("≤ 1"),
        &|f| (f.mp_async.p50, f.tarpc_unix.p50),
    );
    row(
        "call p50, local_mp, async method",
        "µs",
        "tarpc, TCP loopback",
        None,
        &|f| (f.mp_async.p50, f.tarpc_tcp.p50),
    );
    let rate_rows = same.rates.len();
    for i in 0..rate_rows {
        let ((in_flight, callers), _) = same.rates[i];
        let what = if callers == 1 {
            format!("calls/s, local_mp, {in_flight} in flight")
        } else {
            format!("calls/s, local_mp, {callers} callers × {in_flight} in flight")
        };
        let big = in_flight == 256;
        row(
            &what,
            "calls/s",
            "raw Unix socket, pipelined",
            big.then_some("≥ 0.5"),
            &|f| (f.rates[i].1[0], f.rates[i].1[1]),
        );
        row(
            &what,
            "calls/s",
            "tarpc, Unix socket",
            big.then_some("≥ 3"),
            &|f| (f.rates[i].1[0], f.rates[i].1[2]),
        );
    }
    row(
        "calls/s, local_mt, 256 in flight",
        "calls/s",
        "tokio mpsc + oneshot",
        None,
        &|f| (f.mt_rate[0], f.mt_rate[1]),
    );
    for i in 0..same.large.len() {
        let size = same.large[i].0;
        let what = if size >= 1 << 20 {
            "1 MiB argument, local_mp".to_string()
        } else {
            "1 KiB argument, local_mp".to_string()
        };
        row(&what, "MB/s", "raw Unix socket", None, &|f| {
            (f.large[i].1 / 1e6, f.large[i].2 / 1e6)
        });
    }
}
