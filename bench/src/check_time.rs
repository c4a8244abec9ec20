//! Row 5: `lpc check` and code generation on a generated program of 10,000 nodes (100 groups
//! of 100 replicas plus single hub nodes, with handles between them), and the process's peak
//! memory. There is no peer to compare with: the figure is set against the issue's target.

use std::time::{Duration, Instant};

use crate::report::{Pair, Report, Row};

/// The node types of the generated programs (also the language server rows').
pub(crate) const NODES_RS: &str = r#"use lp::Handle;

pub struct Worker {
    hub: Handle<Hub>,
    index: u64,
}

impl Worker {
    pub fn new(hub: Handle<Hub>, index: u64) -> Self {
        Worker { hub, index }
    }

    pub fn index(&self) -> u64 {
        self.index
    }
}

pub struct Hub {
    workers: Vec<Handle<Worker>>,
}

impl Hub {
    pub fn new(workers: Vec<Handle<Worker>>) -> Self {
        Hub { workers }
    }

    pub fn size(&self) -> u64 {
        self.workers.len() as u64
    }
}
"#;

/// A program of `groups` groups of `replicas` replicas and `hubs` single nodes.
fn program(groups: usize, replicas: usize, hubs: usize) -> String {
    let mut text = String::from("use crate::nodes::{Hub, Worker};\n\nprogram big {\n");
    for g in 0..groups {
        text.push_str(&format!(
            "    group g{g}[{replicas}] = courier Worker::new(hub: hub{}, index: replica * 2 + {g});\n",
            g % hubs.max(1)
        ));
    }
    for h in 0..hubs {
        text.push_str(&format!(
            "    node hub{h} = courier Hub::new(workers: g{});\n",
            h % groups.max(1)
        ));
    }
    text.push_str("}\n");
    text
}

/// Median times of `runs` checks and code generations of a package holding `lp`.
fn measure(lp: &str, runs: usize) -> (Duration, Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("src dir");
    std::fs::write(src.join("lib.rs"), "pub mod nodes;\n").expect("lib.rs");
    std::fs::write(src.join("nodes.rs"), NODES_RS).expect("nodes.rs");
    let file = dir.path().join("big.lp");
    std::fs::write(&file, lp).expect("big.lp");
    let files = std::slice::from_ref(&file);
    let (mut checks, mut generations) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let checked = lpc_build::driver::check_package(dir.path(), files).expect("check");
        checks.push(start.elapsed());
        assert!(
            checked.package.is_some(),
            "the generated program must check clean"
        );
        let start = Instant::now();
        let code = checked
            .generate(files, &lpc_build::codegen::Runtime::default())
            .expect("generated code");
        generations.push(start.elapsed());
        assert!(!code.is_empty());
    }
    checks.sort();
    generations.sort();
    (checks[runs / 2], generations[runs / 2])
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Adds row 5.
pub fn rows(report: &mut Report, quick: bool) {
    let runs = if quick { 3 } else { 7 };
    let (check, generate) = measure(&program(100, 100, 1000), runs);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let target = |name: &str, ours: f64, limit: f64, unit: &'static str, goal: &str| Row {
        name: name.to_string(),
        unit,
        baseline: format!("the target, {limit} {unit}"),
        same: Pair {
            ours,
            baseline: limit,
        },
        split: None,
        target: Some(goal.to_string()),
    };
    report.rows.push(target(
        "`lpc check`, 11,000 nodes (1,100 declarations)",
        ms(check),
        1000.0,
        "ms",
        "≤ 1",
    ));
    report.rows.push(target(
        "code generation, 11,000 nodes",
        ms(generate),
        1000.0,
        "ms",
        "",
    ));
    report.rows.push(target(
        "peak memory of check + generation",
        peak_memory_mib(),
        1024.0,
        "MiB",
        "",
    ));
}
