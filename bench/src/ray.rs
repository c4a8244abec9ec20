//! Ray, the peer Launchpad's users know: an actor's synchronous method against a courier's,
//! call p50 and calls/s with 256 in flight under both placements, and 32 actors against 32
//! nodes launched until each answered. `bench/ray_bench.py` measures Ray, run by the Python of
//! the repo's `.venv-bench` (`scripts/setup-bench` installs Ray there) or of `LP_BENCH_PYTHON`;
//! without Ray the rows are skipped with a note.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lp::LaunchType;
use serde::Deserialize;

use crate::calls::{self, Effort};
use crate::measure::{latency, throughput};
use crate::pin::{self, pin_process, Placement};
use crate::report::{Pair, Report, Row};

/// Calls open at once in the throughput rows.
const IN_FLIGHT: usize = 256;

/// Actors, and nodes, launched in the launch row.
const ACTORS: u32 = 32;

/// How long the Ray script may take (its cluster starts in about 5 s, 32 actors in 10–20 s).
const DEADLINE: Duration = Duration::from_secs(300);

/// What `ray_bench.py` prints.
#[derive(Debug, Deserialize)]
struct Figures {
    version: String,
    init_ms: f64,
    /// One per placement asked for, in order.
    placements: Vec<Placed>,
    launch_ms: f64,
}

/// Ray's figures under one placement.
#[derive(Debug, Deserialize)]
struct Placed {
    p50_us: f64,
    rate: f64,
}

/// The Python to run Ray with: `LP_BENCH_PYTHON`, or the repo's `.venv-bench`.
fn python() -> PathBuf {
    match std::env::var_os("LP_BENCH_PYTHON") {
        Some(python) => python.into(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-bench/bin/python"),
    }
}

/// Whether `python` can import Ray.
fn has_ray(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import ray"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs `ray_bench.py`, or says why it failed (the tail of what it wrote).
fn run_ray(python: &Path, placements: &[Placement], effort: Effort) -> Result<Figures, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("ray_bench.py");
    let mut command = Command::new(python);
    command.arg(&script);
    for placement in placements {
        command.arg(format!("--placement=0:{}", placement.callee_cpu()));
    }
    // Ray's calls take about a millisecond: a tenth of lp's count keeps it to seconds.
    let calls = (effort.calls / 10).max(100);
    let mut child = command
        .args(["--calls", &calls.to_string()])
        .args(["--in-flight", &IN_FLIGHT.to_string()])
        .args(["--window", &effort.window.as_secs_f64().to_string()])
        .args(["--actors", &ACTORS.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let start = Instant::now();
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} did not finish in {DEADLINE:?}",
                script.display()
            ));
        }
        // Waiting for Ray is progress: its own deadline bounds it.
        crate::watchdog::progress();
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Ray's daemons write their warnings to the driver's output too: the figures are the last
    // line.
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).map_err(|e| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        format!(
            "{} failed ({}; {e}): {}",
            script.display(),
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        )
    })
}

/// lp's figures beside Ray's under one placement: (sync call p50 µs, calls/s).
async fn lp_figures(placement: Placement, effort: Effort) -> (f64, f64) {
    let (running, work) = calls::launch(LaunchType::TestMp).await;
    pin_process(work.pid().await.expect("pid"), placement.callee_cpu());
    let n = effort.calls;
    let p50 = latency(n, n / 10, |x| calls::call_sync(&work, x)).await.p50;
    let rate = throughput(1, IN_FLIGHT, effort.window, |x| calls::call_sync(&work, x)).await;
    running.stop().await.expect("stop");
    (p50, rate)
}

/// Adds the Ray rows, or a note of why they are skipped.
pub async fn rows(report: &mut Report, effort: Effort) {
    let python = python();
    if !has_ray(&python) {
        report.skipped.push(format!(
            "Ray: not installed ({} cannot import it; `scripts/setup-bench` installs it into .venv-bench)",
            python.display()
        ));
        return;
    }
    let mut placements = vec![Placement::Same];
    if pin::cpus() > 1 {
        placements.push(Placement::Split);
    }
    let ray = match run_ray(&python, &placements, effort) {
        Ok(ray) => ray,
        Err(why) => {
            report.skipped.push(format!("Ray: {why}"));
            return;
        }
    };
    let mut lp = Vec::new();
    for &placement in &placements {
        lp.push(lp_figures(placement, effort).await);
    }
    // On every vCPU, as Ray's script unpins itself and as the launch rows run.
    pin::unpin_this_thread();
    let (launched, _, _) = crate::launch_stop::once(ACTORS, true).await;
    pin::pin_this_thread(0);
    let baseline = |what: &str| format!("Ray {} actor, {what}", ray.version);
    let pairs = |get: &dyn Fn(usize) -> (f64, f64)| {
        let mut pairs = (0..lp.len()).map(|i| {
            let (ours, baseline) = get(i);
            Pair { ours, baseline }
        });
        (pairs.next().expect("the same-vCPU figures"), pairs.next())
    };
    let (same, split) = pairs(&|i| (lp[i].0, ray.placements[i].p50_us));
    report.rows.push(Row {
        name: "call p50, local_mp, sync method".into(),
        unit: "µs",
        baseline: baseline("synchronous method"),
        same,
        split,
        target: None,
    });
    let (same, split) = pairs(&|i| (lp[i].1, ray.placements[i].rate));
    report.rows.push(Row {
        name: format!("calls/s, local_mp, sync method, {IN_FLIGHT} in flight"),
        unit: "calls/s",
        baseline: baseline(&format!("synchronous method, {IN_FLIGHT} in flight")),
        same,
        split,
        target: None,
    });
    report.rows.push(Row {
        name: format!("launch {ACTORS} nodes, local_mp, until all answered"),
        unit: "ms",
        baseline: format!(
            "Ray {}, {ACTORS} actors until all answered (its cluster up: it took {:.0} ms)",
            ray.version, ray.init_ms
        ),
        same: Pair {
            ours: launched.as_secs_f64() * 1000.0,
            baseline: ray.launch_ms,
        },
        split: None,
        target: None,
    });
}
