//! A run that stops making progress ends, naming the phase it stalled in, instead of hanging
//! (CI's smoke run included): every call measured, and every phase begun, is progress.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Calls and phases so far.
static PROGRESS: AtomicU64 = AtomicU64::new(0);

/// What the run is measuring.
static PHASE: Mutex<&str> = Mutex::new("starting");

/// Notes progress: a call measured.
pub fn progress() {
    PROGRESS.fetch_add(1, Ordering::Relaxed);
}

/// Notes that the run begins measuring `name`.
pub fn phase(name: &'static str) {
    *PHASE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = name;
    progress();
}

/// How long a run may go without progress: `LP_BENCH_STALL_SECS`, else 120 s.
pub fn limit() -> Duration {
    let secs = std::env::var("LP_BENCH_STALL_SECS").ok();
    Duration::from_secs(secs.and_then(|s| s.parse().ok()).unwrap_or(120))
}

/// Ends the process (exit status 3, and so its node processes) when `limit` passes without
/// progress, saying in which phase.
pub fn start(limit: Duration) {
    let watch = move || {
        let mut last = (PROGRESS.load(Ordering::Relaxed), std::time::Instant::now());
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let now = PROGRESS.load(Ordering::Relaxed);
            if now != last.0 {
                last = (now, std::time::Instant::now());
            } else if last.1.elapsed() > limit {
                let phase = *PHASE
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                eprintln!(
                    "lp-bench: no progress for {limit:?} while measuring {phase}: a stall \
                     (see bench/README.md); stopping"
                );
                std::process::exit(3);
            }
        }
    };
    let _ = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(watch);
}
