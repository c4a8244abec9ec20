//! Under load, with real processes over Unix sockets (`test_mp`), each run bounded in time and
//! count: nothing lost (every call answered or failed, counted exactly), nothing mismatched
//! (every answer is its own request's), nothing leaked (descriptors and memory return to their
//! baseline after connection churn and restarts), large values intact. Figures are printed
//! (`cargo test -p lp-tests --test load -- --nocapture`), never asserted as speeds.

use std::time::{Duration, Instant};

use lp::{CallError, Handle, LaunchOptions, LaunchType, Running};
use lp_tests::load::{bytes, checksum, Counts, Tally, Usage};

/// Waits (bounded by `limit`) until the tally has `n` reports.
async fn reports(tally: &Handle<Tally>, n: usize, limit: Duration) -> Vec<Counts> {
    let start = Instant::now();
    loop {
        let reports = tally.reports().await.expect("tally answers");
        if reports.len() >= n {
            return reports.into_iter().map(|(_, c)| c).collect();
        }
        assert!(
            start.elapsed() < limit,
            "only {} of {n} callers reported within {limit:?}",
            reports.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn total(counts: &[Counts]) -> Counts {
    counts.iter().fold(Counts::default(), |t, c| Counts {
        sent: t.sent + c.sent,
        answered: t.answered + c.answered,
        deadline: t.deadline + c.deadline,
        failed: t.failed + c.failed,
        mismatched: t.mismatched + c.mismatched,
        elapsed_ms: t.elapsed_ms.max(c.elapsed_ms),
        peak_rss_kib: t.peak_rss_kib.max(c.peak_rss_kib),
    })
}

async fn launch<P: lp::Program>(program: P, binary: &str) -> Running {
    let options = LaunchOptions::new().binary(binary);
    lp::launch_with(program, LaunchType::TestMp, options)
        .await
        .expect("launch")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_calls_every_answer_its_own() {
    use lp_tests::correlation::{make_program, Params};
    let params = Params::default();
    let expected = params.calls * u64::from(params.num_callers);
    let program = make_program(params);
    let (tally, servers) = (program.tally.id(), program.servers.refs());
    let running = launch(program, env!("CARGO_BIN_EXE_correlation")).await;
    let counts = reports(&running.handle(tally), 8, Duration::from_secs(600)).await;
    let t = total(&counts);
    let mut server_peak = 0;
    for server in running.handles(&servers) {
        server_peak = server_peak.max(server.usage().await.expect("usage").peak_rss_kib);
    }
    println!(
        "correlation: {} calls in {} ms ({:.0} calls/s) from 8 callers x 256 in flight to 4 \
         servers; peak RSS caller {} KiB, server {} KiB",
        t.sent,
        t.elapsed_ms,
        t.sent as f64 * 1000.0 / t.elapsed_ms.max(1) as f64,
        t.peak_rss_kib,
        server_peak
    );
    assert_eq!(t.sent, expected, "every call was made: {counts:?}");
    assert_eq!(
        t.mismatched, 0,
        "no answer went to the wrong call: {counts:?}"
    );
    assert_eq!((t.failed, t.deadline), (0, 0), "no call failed: {counts:?}");
    assert_eq!(t.answered, expected, "every call was answered: {counts:?}");
    running.stop().await.expect("clean stop");
}

/// The server's bound: it holds at most 1024 calls per connection (a semaphore; further frames
/// stay in the socket, whose full buffer blocks the caller's writer, whose bounded outbox of
/// 1024 frames makes callers wait), so 100,000 calls offered take no more memory than 1024.
const SERVER_BOUND_KIB: u64 = 64 * 1024;

/// The caller's bound: what its own 100,000 open calls (one task each) take, about 2 KiB each
/// in a debug build, plus the runtime's bounded queues.
const CALLER_BOUND_KIB: u64 = 384 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_at_a_slow_server_is_bounded_and_fails_by_deadline() {
    use lp_tests::backpressure::{make_program, Params};
    let params = Params::default();
    let flood = u64::from(params.in_flight);
    let program = make_program(params);
    let (tally, slow) = (program.tally.id(), program.slow.id());
    let running = launch(program, env!("CARGO_BIN_EXE_backpressure")).await;
    let counts = reports(&running.handle(tally), 1, Duration::from_secs(120)).await;
    let t = total(&counts);
    let slow = running.handle(slow);
    let server = slow.usage().await.expect("usage");
    // What the server still runs after the flood ended: calls past their deadline are dropped.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let done = slow.done().await.expect("done");
    println!(
        "backpressure: {flood} calls at a 10 ms/call server with a 3 s deadline: {} answered, \
         {} past the deadline, in {} ms; peak RSS caller {} KiB, server {} KiB; server ran {done}",
        t.answered, t.deadline, t.elapsed_ms, t.peak_rss_kib, server.peak_rss_kib
    );
    assert_eq!(t.sent, flood);
    assert_eq!(
        t.answered + t.deadline,
        flood,
        "every call was answered or failed with its deadline, none dropped: {t:?}"
    );
    assert_eq!((t.failed, t.mismatched), (0, 0), "{t:?}");
    assert!(
        t.answered >= 1 && t.answered <= 1_000,
        "one call per 10 ms: {t:?}"
    );
    assert!(
        t.deadline > 0,
        "calls past the deadline fail with DeadlineExceeded: {t:?}"
    );
    assert!(
        server.peak_rss_kib < SERVER_BOUND_KIB,
        "server peak {} KiB: over the {SERVER_BOUND_KIB} KiB bound",
        server.peak_rss_kib
    );
    assert!(
        t.peak_rss_kib < CALLER_BOUND_KIB,
        "caller peak {} KiB: over the {CALLER_BOUND_KIB} KiB bound",
        t.peak_rss_kib
    );
    assert!(
        done < 1_000,
        "calls past their deadline are dropped by the server, not run: it ran {done}"
    );
    let stopping = Instant::now();
    running.stop().await.expect("clean stop");
    println!("backpressure: stopped in {:?}", stopping.elapsed());
}

/// 64 MiB.
const LARGE: u64 = 64 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_values_pass_intact_and_oversized_ones_fail_clearly() {
    use lp_tests::blobs::{make_program, Params};
    let program = make_program(Params::default());
    let store = program.store.id();
    let running = launch(program, env!("CARGO_BIN_EXE_blobs")).await;
    let store = running.handle(store);
    let data = bytes(LARGE as usize, 7);
    let sum = checksum(&data);
    assert_eq!(store.checksum(data).await.expect("64 MiB argument"), sum);
    let made = store.make(LARGE, 7).await.expect("64 MiB result");
    assert_eq!(made.len() as u64, LARGE);
    assert_eq!(checksum(&made), sum, "the result arrived intact");
    drop(made);

    // Over the 128 MiB frame limit: refused on the caller's side, the connection still good.
    let err = store
        .checksum(vec![0u8; 129 << 20])
        .await
        .expect_err("over the frame limit");
    assert!(
        matches!(&err, CallError::Protocol(m) if m.contains("frame limit")),
        "a clear error: {err}"
    );
    let err = store
        .make(129 << 20, 1)
        .await
        .expect_err("result over the limit");
    assert!(
        matches!(&err, CallError::Protocol(m) if m.contains("frame limit")),
        "a clear error for a result over the limit too: {err}"
    );
    assert_eq!(
        store.checksum(vec![1, 2, 3]).await.expect("still usable"),
        checksum(&[1, 2, 3])
    );
    running.stop().await.expect("clean stop");
}

/// Calls `pid` on the store until it answers (after a restart), bounded.
async fn pid_after_restart(store: &Handle<lp_tests::load::Store>, old: u32) -> u32 {
    for _ in 0..100 {
        if let Ok(pid) = store.pid().await {
            if pid != old {
                return pid;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the store did not come back after its process was killed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_churn_and_restarts_leak_nothing() {
    use lp_tests::blobs::{make_program, Params};
    let program = make_program(Params::default());
    let store_ref = program.store.id();
    let running = launch(program, env!("CARGO_BIN_EXE_blobs")).await;
    let store = running.handle(store_ref);
    // Restart the node a few times under its restart policy.
    let mut pid = store.pid().await.expect("pid");
    for _ in 0..3 {
        let killed = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        pid = pid_after_restart(&store, pid).await;
    }
    // Warm up, then take the baseline of the node and of this (the calling) process.
    for _ in 0..100 {
        running
            .detached_handle(store_ref)
            .pid()
            .await
            .expect("call");
    }
    let node_before = Usage::of(&pid.to_string());
    let caller_before = Usage::of_this_process();
    for i in 0..10_000 {
        let handle = running.detached_handle(store_ref);
        assert_eq!(
            handle.pid().await.expect("call on a new connection"),
            pid,
            "call {i}"
        );
    }
    // Closed connections are closed on both sides within a moment.
    let mut node_after = Usage::of(&pid.to_string());
    for _ in 0..50 {
        if node_after.fds <= node_before.fds {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        node_after = Usage::of(&pid.to_string());
    }
    let caller_after = Usage::of_this_process();
    println!(
        "churn: 10000 connections after 3 restarts: node fds {} -> {}, RSS {} -> {} KiB; \
         caller fds {} -> {}",
        node_before.fds,
        node_after.fds,
        node_before.rss_kib,
        node_after.rss_kib,
        caller_before.fds,
        caller_after.fds
    );
    assert!(
        node_after.fds <= node_before.fds,
        "the node's descriptors return to their baseline: {node_before:?} -> {node_after:?}"
    );
    assert!(
        caller_after.fds <= caller_before.fds + 2,
        "the caller's descriptors return to their baseline: {caller_before:?} -> {caller_after:?}"
    );
    assert!(
        node_after.rss_kib < node_before.rss_kib + 8 * 1024,
        "the node's memory returns near its baseline: {node_before:?} -> {node_after:?}"
    );
    running.stop().await.expect("clean stop");
}
