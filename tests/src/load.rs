//! Node types of the load test programs (`tests/load.lp`): servers whose answers are a
//! function of the request and the caller, callers that check every answer, a deliberately
//! slow server, and a store for large values.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt;
use lp::{CallError, Context, Handle};
use serde::{Deserialize, Serialize};

/// The answer to `work(caller, x)`: which server answered, and a function of the request.
pub fn expected(caller: u32, x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(caller)
}

/// Answers `work` with [`expected`] and its own id.
pub struct Server {
    id: u32,
}

impl Server {
    pub fn new(id: u32) -> Self {
        Server { id }
    }

    /// `(this server's id, expected(caller, x))`.
    pub fn work(&self, caller: u32, x: u64) -> (u32, u64) {
        (self.id, expected(caller, x))
    }

    /// The process's resident and peak memory, in KiB, and its open file descriptors.
    pub fn usage(&self) -> Usage {
        Usage::of_this_process()
    }
}

/// What a caller counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Calls started.
    pub sent: u64,
    /// Calls answered correctly.
    pub answered: u64,
    /// Calls that failed with their deadline.
    pub deadline: u64,
    /// Calls that failed otherwise.
    pub failed: u64,
    /// Answers that were not their request's (wrong value or wrong server).
    pub mismatched: u64,
    /// How long the calls took, in milliseconds.
    pub elapsed_ms: u64,
    /// The caller's peak resident memory, in KiB.
    pub peak_rss_kib: u64,
}

/// Collects the callers' counts.
pub struct Tally {
    reports: Mutex<Vec<(u32, Counts)>>,
}

impl Tally {
    pub fn new() -> Self {
        Tally {
            reports: Mutex::new(Vec::new()),
        }
    }

    /// A caller's final counts.
    pub fn report(&self, caller: u32, counts: Counts) {
        self.lock().push((caller, counts));
    }

    /// Every report so far.
    pub fn reports(&self) -> Vec<(u32, Counts)> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u32, Counts)>> {
        self.reports.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for Tally {
    fn default() -> Self {
        Tally::new()
    }
}

/// Makes `calls` calls round-robin over the servers, `in_flight` at a time, checks each answer,
/// and reports its counts to the tally (unless the program stops first).
pub struct Caller {
    id: u32,
    servers: Vec<Handle<Server>>,
    tally: Handle<Tally>,
    calls: u64,
    in_flight: u32,
}

impl Caller {
    pub fn new(
        id: u32,
        servers: Vec<Handle<Server>>,
        tally: Handle<Tally>,
        calls: u64,
        in_flight: u32,
    ) -> Self {
        Caller {
            id,
            servers,
            tally,
            calls,
            in_flight,
        }
    }
}

impl lp::Run for Caller {
    async fn run(&self, ctx: Context) -> lp::Result<()> {
        let start = Instant::now();
        let mut counts = Counts::default();
        let n = self.servers.len() as u64;
        lp::ensure!(n > 0, "no servers to call");
        let stop = ctx.stop_token();
        let mut calls = futures::stream::iter(0..self.calls)
            .take_while(|_| std::future::ready(!stop.is_cancelled()))
            .map(|x| {
                let server = &self.servers[(x % n) as usize];
                async move { (x, server.work(self.id, x).await) }
            })
            .buffer_unordered(self.in_flight.max(1) as usize);
        while let Some((x, answer)) = calls.next().await {
            counts.sent += 1;
            match answer {
                Ok((server, y)) if y == expected(self.id, x) && u64::from(server) == x % n => {
                    counts.answered += 1
                }
                Ok(_) => counts.mismatched += 1,
                Err(CallError::DeadlineExceeded { .. }) => counts.deadline += 1,
                Err(_) => counts.failed += 1,
            }
        }
        if stop.is_cancelled() {
            // Stopped before the end (a soak run): no one waits for the counts.
            return Ok(());
        }
        counts.elapsed_ms = start.elapsed().as_millis() as u64;
        counts.peak_rss_kib = Usage::of_this_process().peak_rss_kib;
        self.tally.report(self.id, counts).await?;
        ctx.wait_for_stop().await;
        Ok(())
    }
}

/// Answers one call at a time, each taking `per_call`.
pub struct Slow {
    per_call: Duration,
    one_at_a_time: tokio::sync::Mutex<()>,
    done: AtomicU64,
}

impl Slow {
    pub fn new(per_call: Duration) -> Self {
        Slow {
            per_call,
            one_at_a_time: tokio::sync::Mutex::new(()),
            done: AtomicU64::new(0),
        }
    }

    /// `x + 1`, after waiting its turn and `per_call`.
    pub async fn work(&self, x: u64) -> u64 {
        let _turn = self.one_at_a_time.lock().await;
        tokio::time::sleep(self.per_call).await;
        self.done.fetch_add(1, Ordering::Relaxed);
        x + 1
    }

    /// How many calls it ran to the end.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// The process's memory and descriptors.
    pub fn usage(&self) -> Usage {
        Usage::of_this_process()
    }
}

/// Starts `in_flight` calls at once, each with `deadline`, and reports how they ended.
pub struct Flood {
    slow: Handle<Slow>,
    tally: Handle<Tally>,
    in_flight: u32,
    deadline: Duration,
}

impl Flood {
    pub fn new(
        slow: Handle<Slow>,
        tally: Handle<Tally>,
        in_flight: u32,
        deadline: Duration,
    ) -> Self {
        Flood {
            slow,
            tally,
            in_flight,
            deadline,
        }
    }
}

impl lp::Run for Flood {
    async fn run(&self, ctx: Context) -> lp::Result<()> {
        let start = Instant::now();
        let slow = Handle::with_deadline(&self.slow, self.deadline);
        // One task per call, as a caller with this many calls in flight would write it (one
        // task polling 100,000 futures is throttled by tokio's cooperative budget).
        let mut calls = tokio::task::JoinSet::new();
        for x in 0..u64::from(self.in_flight) {
            let slow = slow.clone();
            calls.spawn(async move { (x, slow.work(x).await) });
        }
        let answers = calls.join_all().await;
        let mut counts = Counts {
            sent: answers.len() as u64,
            ..Counts::default()
        };
        for (x, answer) in answers {
            match answer {
                Ok(y) if y == x + 1 => counts.answered += 1,
                Ok(_) => counts.mismatched += 1,
                Err(CallError::DeadlineExceeded { .. }) => counts.deadline += 1,
                Err(_) => counts.failed += 1,
            }
        }
        counts.elapsed_ms = start.elapsed().as_millis() as u64;
        counts.peak_rss_kib = Usage::of_this_process().peak_rss_kib;
        self.tally.report(0, counts).await?;
        ctx.wait_for_stop().await;
        Ok(())
    }
}

/// Holds nothing; checksums and makes large values.
pub struct Store;

impl Store {
    pub fn new() -> Self {
        Store
    }

    /// The checksum of `data`.
    pub fn checksum(&self, data: Vec<u8>) -> u64 {
        checksum(&data)
    }

    /// `len` pseudo-random bytes from `seed`.
    pub fn make(&self, len: u64, seed: u64) -> Vec<u8> {
        bytes(len as usize, seed)
    }

    /// The id of its process.
    pub fn pid(&self) -> u32 {
        std::process::id()
    }

    /// The process's memory and descriptors.
    pub fn usage(&self) -> Usage {
        Usage::of_this_process()
    }
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

/// FNV-1a over `data`.
pub fn checksum(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `len` pseudo-random bytes (xorshift) from `seed`.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A process's memory and open file descriptors, from `/proc/self`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Resident memory now (`VmRSS`), KiB.
    pub rss_kib: u64,
    /// Peak resident memory (`VmHWM`), KiB.
    pub peak_rss_kib: u64,
    /// Open file descriptors.
    pub fds: u64,
}

impl Usage {
    /// This process's usage.
    pub fn of_this_process() -> Usage {
        Usage::of("self")
    }

    /// The usage of process `pid` (`"self"` for this one); zeros where `/proc` cannot be read.
    pub fn of(pid: &str) -> Usage {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .unwrap_or(0)
        };
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64);
        Usage {
            rss_kib: field("VmRSS:"),
            peak_rss_kib: field("VmHWM:"),
            fds,
        }
    }
}
