//! Rows 4 and 6: launching a `local_mp` program of N nodes until every node answered a call,
//! stopping it until every process is gone, and the memory of an idle node process. Baselines:
//! spawning N processes of a trivial binary and waiting for them; killing N sleeping processes;
//! the memory of an idle tokio server (the raw limit's server: one thread). Launches and their
//! baselines run on every vCPU, as a launch's processes do (the caller is pinned otherwise).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lp::{LaunchOptions, LaunchType};
use lp_bench::bench::{make_program, Params};

use crate::baseline::Server;
use crate::report::{Pair, Report, Row};

/// (launch until all answered, stop until all gone, mean RSS per node process in KiB); the
/// node processes forked by the fork server, or each spawned from the binary.
pub(crate) async fn once(nodes: u32, fork: bool) -> (Duration, Duration, f64) {
    let program = make_program(Params { nodes: nodes - 1 });
    let idle = program.idle.refs();
    let server = program.server.id();
    let options = LaunchOptions::new()
        .binary(crate::calls::node_binary())
        .fork_server(fork);
    let start = Instant::now();
    let running = lp::launch_with(program, LaunchType::TestMp, options)
        .await
        .expect("launch");
    let handles = running.handles(&idle);
    let pids = lp::join_all(handles.iter().map(|p| p.pid())).await;
    let pids: Vec<u32> = pids.into_iter().map(|p| p.expect("answers")).collect();
    running.handle(server).pid().await.expect("answers");
    let launched = start.elapsed();
    let rss = pids.iter().map(|pid| rss_kib(*pid)).sum::<f64>() / pids.len().max(1) as f64;
    let stop = Instant::now();
    running.stop().await.expect("clean stop");
    (launched, stop.elapsed(), rss)
}

fn rss_kib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Spawning `n` processes of `true` until all exited.
fn spawn_baseline(n: u32) -> Duration {
    let start = Instant::now();
    let mut children: Vec<_> = (0..n)
        .map(|_| Command::new("true").spawn().expect("spawn true"))
        .collect();
    for child in &mut children {
        let _ = child.wait();
    }
    start.elapsed()
}

/// SIGKILL to `n` sleeping processes until all are reaped.
fn kill_baseline(n: u32) -> Duration {
    let mut children: Vec<_> = (0..n)
        .map(|_| {
            Command::new("sleep")
                .arg("60")
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn sleep")
        })
        .collect();
    let start = Instant::now();
    for child in &mut children {
        let _ = child.kill();
    }
    for child in &mut children {
        let _ = child.wait();
    }
    start.elapsed()
}

fn median<T: PartialOrd + Copy>(mut xs: Vec<T>) -> T {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    xs[xs.len() / 2]
}

/// The `launch` subcommand: launches and stops `nodes` nodes `runs` times, forked and/or
/// spawned (`forks`: whether each way forks), each beside its baselines (spawning and reaping,
/// killing and reaping as many trivial processes), and prints the figures, for profiling one
/// size alone.
pub async fn profile(nodes: u32, runs: u32, forks: &[bool]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    crate::pin::unpin_this_thread();
    for _ in 0..runs {
        for &fork in forks {
            let how = if fork { "forked" } else { "spawned" };
            let (launch, stop, _) = once(nodes, fork).await;
            let (spawn, kill) = (spawn_baseline(nodes), kill_baseline(nodes));
            println!(
                "{nodes} nodes, {how}: launch {:.0} ms ({:.2}× spawn {:.0} ms), stop {:.0} ms ({:.2}× kill {:.0} ms)",
                ms(launch),
                ms(launch) / ms(spawn),
                ms(spawn),
                ms(stop),
                ms(stop) / ms(kill),
                ms(kill),
            );
        }
    }
}

/// A launch row: the median of `launches` beside that of `spawns` of `n` × `true`.
fn beside_true(
    name: String,
    n: u32,
    launches: Vec<f64>,
    spawns: Vec<f64>,
    target: Option<String>,
) -> Row {
    Row {
        name,
        unit: "ms",
        baseline: format!("spawn and reap {n} × `true`"),
        same: Pair {
            ours: median(launches),
            baseline: median(spawns),
        },
        split: None,
        target,
    }
}

/// Adds rows 4 and 6.
pub async fn rows(report: &mut Report, quick: bool) {
    // 256 and 1,024 nodes: launching N processes must cost N × one process, not N².
    let sizes: &[u32] = if quick {
        &[8, 256, 1024]
    } else {
        &[8, 64, 256, 1024]
    };
    let runs = if quick { 1 } else { 3 };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    crate::pin::unpin_this_thread();
    let mut node_rss = Vec::new();
    for &n in sizes {
        let mut launches = Vec::new();
        let mut stops = Vec::new();
        let mut spawned = Vec::new();
        for _ in 0..runs {
            let (launch, stop, rss) = once(n, true).await;
            launches.push(ms(launch));
            stops.push(ms(stop));
            node_rss.push(rss);
            // Each node spawned from the binary, as before the fork server, for comparison.
            if n >= 256 {
                spawned.push(ms(once(n, false).await.0));
            }
        }
        // The baselines as many times as lp, right after it, their median too.
        let spawns: Vec<f64> = (0..runs).map(|_| ms(spawn_baseline(n))).collect();
        let kills: Vec<f64> = (0..runs).map(|_| ms(kill_baseline(n))).collect();
        let target = (n >= 256).then(|| "≤ 2".to_string());
        if !spawned.is_empty() {
            let name = format!("launch {n} nodes, local_mp, each spawned from the binary");
            report
                .rows
                .push(beside_true(name, n, spawned, spawns.clone(), None));
        }
        let name = format!("launch {n} nodes, local_mp, until all answered");
        report
            .rows
            .push(beside_true(name, n, launches, spawns, target.clone()));
        report.rows.push(Row {
            name: format!("stop {n} nodes, local_mp, until all gone"),
            unit: "ms",
            baseline: format!("SIGKILL and reap {n} × `sleep`"),
            same: Pair {
                ours: median(stops),
                baseline: median(kills),
            },
            split: None,
            target,
        });
    }
    crate::pin::pin_this_thread(0);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("idle.sock").display().to_string();
    let mut idle = Server::Limit.spawn(&path, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let baseline = rss_kib(idle.id());
    let _ = idle.kill();
    let _ = idle.wait();
    report.rows.push(Row {
        name: "memory per idle node process, local_mp".into(),
        unit: "KiB",
        baseline: "an idle tokio Unix-socket server".into(),
        same: Pair {
            ours: median(node_rss),
            baseline,
        },
        split: None,
        target: None,
    });
}
