//! A chaos soak: the `faults` program under `local_mp`, its caller calling the two restartable
//! `phoenix` nodes in turn while the test kills their processes (SIGKILL) at random moments.
//! Checked: calls keep succeeding between kills (nothing hangs), the caller sees only typed
//! errors (any other fails the program, and the test), the launcher's and the caller's
//! descriptors and memory stay flat after a warm-up, and a SIGTERM at the end stops everything
//! cleanly with no process left.
//!
//! Bounded: `LP_CHAOS_SECS` seconds of chaos (30 by default), e.g.
//! `LP_CHAOS_SECS=300 cargo test -p lp-tests --test chaos -- --nocapture`. The schedule of
//! kills comes from a seed, printed, and taken from `LP_CHAOS_SEED` when set.

use std::time::{Duration, Instant};

use lp_tests::fault_nodes::calls_ok;
use lp_tests::launched::{alive, open_fds, rss_kib, send, Launched};
use rustix::process::Signal;

/// The phoenix processes alive now.
fn phoenixes(output: &str) -> Vec<u32> {
    output
        .lines()
        .filter_map(|l| l.split_once("phoenix up: pid ").map(|(_, pid)| pid.trim()))
        .filter_map(|pid| pid.parse().ok())
        .filter(|&pid| alive(pid))
        .collect()
}

/// A small deterministic generator (xorshift64*), so a seed replays the same schedule.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Descriptors and memory of a process.
#[derive(Debug, Clone, Copy)]
struct Footprint {
    fds: usize,
    rss_kib: u64,
}

fn footprint(pid: u32) -> Footprint {
    Footprint {
        fds: open_fds(pid),
        rss_kib: rss_kib(pid),
    }
}

/// Panics unless `now` is within a small bound of `warm`.
fn flat(who: &str, warm: Footprint, now: Footprint) {
    assert!(
        now.fds <= warm.fds + 8,
        "{who}: descriptors grew from {} to {}",
        warm.fds,
        now.fds
    );
    assert!(
        now.rss_kib <= warm.rss_kib + (warm.rss_kib / 2).max(8 << 10),
        "{who}: memory grew from {} KiB to {} KiB",
        warm.rss_kib,
        now.rss_kib
    );
}

#[test]
fn random_kills_of_restartable_nodes() {
    let secs: u64 = std::env::var("LP_CHAOS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("LP_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    println!("chaos for {secs} s, seed {seed} (LP_CHAOS_SEED={seed} replays the kills)");
    let mut rng = Rng(seed);
    let mut run = Launched::start(
        "faults",
        &[
            "--lp_launch_type",
            "local_mp",
            "--lp_termination_notice_secs",
            "3",
            "--mode",
            "chaos",
            "--target",
            "phoenix",
        ],
        &[],
    );
    run.wait_for("caller: 500 calls ok", Duration::from_secs(60));
    let (launcher, caller) = (run.pid(), run.pid_of("caller"));
    let mut kills = 0u32;
    let mut warm = None;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        let before = calls_ok(&run.output());
        std::thread::sleep(Duration::from_millis(100 + rng.below(600)));
        let alive = phoenixes(&run.output());
        if !alive.is_empty() {
            send(alive[rng.below(alive.len() as u64) as usize], Signal::KILL);
            kills += 1;
        }
        // Calls go on: within 10 s of a kill, more succeed (the other phoenix answers, the
        // killed one comes back).
        let waiting = Instant::now();
        while calls_ok(&run.output()) <= before {
            assert!(
                waiting.elapsed() < Duration::from_secs(10),
                "no call succeeded for 10 s after kill {kills}:\n{}",
                run.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        run.note_processes();
        // After a quarter of the time, the footprint to compare with.
        if warm.is_none() && start.elapsed() >= Duration::from_secs(secs) / 4 {
            warm = Some((footprint(launcher), footprint(caller)));
        }
    }
    let (warm_launcher, warm_caller) = warm.expect("a warm-up sample");
    flat("the launcher", warm_launcher, footprint(launcher));
    flat("the caller", warm_caller, footprint(caller));
    let output = run.output();
    println!(
        "{kills} kills, {} calls ok, last line: {}",
        calls_ok(&output),
        output
            .lines()
            .rev()
            .find(|l| l.contains("caller: "))
            .unwrap_or("")
    );
    assert!(kills >= 5, "only {kills} kills in {secs} s");
    run.signal(Signal::TERM);
    // The bound counts from the launch: the chaos, then a minute to stop.
    let ended = run.wait(Duration::from_secs(secs + 60));
    assert_eq!(ended.code, Some(0), "{}", ended.output);
    assert!(ended.orphans.is_empty(), "orphans {:?}", ended.orphans);
}
