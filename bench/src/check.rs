//! `lpc check` on a generated large program: 100 groups of 100 replicas (10,000 nodes) plus
//! 1,000 single nodes, with handles between them. Prints the time of parse + Rust model + check
//! (median and minimum of several runs), the same for a program ten times smaller (the ratio
//! shows whether checking is linear), and the process's peak memory.
//!
//! Run: `cargo run --release -p lp-bench --bin check-bench`

use std::path::Path;
use std::time::{Duration, Instant};

const NODES_RS: &str = r#"use lp::Handle;

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

/// Median and minimum time of `runs` checks of a package holding `lp`.
fn measure(lp: &str, runs: usize) -> (Duration, Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("src dir");
    std::fs::write(src.join("lib.rs"), "pub mod nodes;\n").expect("lib.rs");
    std::fs::write(src.join("nodes.rs"), NODES_RS).expect("nodes.rs");
    let file = dir.path().join("big.lp");
    std::fs::write(&file, lp).expect("big.lp");
    let mut times = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let checked =
            lpc::driver::check_package(dir.path(), std::slice::from_ref(&file)).expect("check");
        times.push(start.elapsed());
        assert!(
            checked.package.is_some(),
            "the generated program must check clean"
        );
    }
    times.sort();
    (times[times.len() / 2], times[0])
}

/// Peak resident memory of this process (VmHWM), from /proc.
fn peak_memory() -> String {
    let status = std::fs::read_to_string(Path::new("/proc/self/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .map_or_else(
            || "unknown".to_string(),
            |l| l["VmHWM:".len()..].trim().to_string(),
        )
}

fn main() {
    let big = program(100, 100, 1000);
    let small = program(10, 100, 100);
    let (big_median, big_min) = measure(&big, 7);
    let (small_median, small_min) = measure(&small, 7);
    let (flat_median, flat_min) = measure(&program(100, 1, 10_000), 3);
    println!("| program | declarations | nodes | median | min |");
    println!("| --- | --- | --- | --- | --- |");
    println!("| 100 groups × 100 + 1,000 nodes | 1,100 | 11,000 | {big_median:?} | {big_min:?} |");
    println!("| 10 groups × 100 + 100 nodes | 110 | 1,100 | {small_median:?} | {small_min:?} |");
    println!(
        "| 100 groups × 1 + 10,000 nodes | 10,100 | 10,100 | {flat_median:?} | {flat_min:?} |"
    );
    println!(
        "big / small time ratio: {:.1} (10.0 = linear in declarations)",
        big_median.as_secs_f64() / small_median.as_secs_f64()
    );
    println!("peak memory of the process: {}", peak_memory());
}
