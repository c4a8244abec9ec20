//! Node types of the `faults` test program (`tests/faults.lp`), which the fault matrix
//! (`tests/tests/fault_matrix.rs`) and the chaos soak (`tests/tests/chaos.rs`) run and break.
//!
//! Every node says what it does on its output, one line at a time, so a test that reads the
//! output knows each process's pid, the caller's progress, and every method that ran.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lp::{CallError, CallResultExt, Context, Handle};

/// A courier the test breaks (kills, floods, sends garbage to), and the caller calls.
pub struct Victim {
    name: String,
    /// How many calls of `ping` ran: every one is printed, so a call that ran without
    /// authentication would show.
    pings: AtomicU64,
}

impl Victim {
    /// A victim named `name`; `construct` says how its constructor behaves: `ok`, `panic`
    /// (panics), `fail` (returns an error) or `hang` (never returns).
    pub fn new(name: String, construct: String) -> lp::Result<Self> {
        match construct.as_str() {
            "panic" => panic!("{name}: the constructor exploded"),
            "fail" => lp::bail!("{name}: the constructor gave up"),
            "hang" => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            _ => {}
        }
        println!("{name} up: pid {}", std::process::id());
        Ok(Victim {
            name,
            pings: AtomicU64::new(0),
        })
    }

    /// Counts a call; the pid of its process.
    pub fn ping(&self) -> u32 {
        let n = self.pings.fetch_add(1, Ordering::Relaxed) + 1;
        if n == 1 || n.is_multiple_of(1000) {
            println!("{}: ping #{n} ran", self.name);
        }
        std::process::id()
    }

    /// Counts a call, quietly: how many ran so far, this one included. An atomic add never
    /// waits, so it runs where its call is served.
    #[lp::nonblocking]
    pub fn tick(&self) -> u64 {
        self.pings.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Panics.
    pub fn boom(&self) -> u32 {
        panic!("{}: the method exploded", self.name)
    }

    /// Never answers.
    pub async fn hang(&self) -> u32 {
        std::future::pending().await
    }

    /// Prints a long line (over a pipe's atomic write size) `count` times on each of its
    /// log, stdout and stderr, as fast as it can (whole lines or not?).
    pub fn chatter(&self, count: u32) -> u32 {
        let line = chatter_line(&self.name);
        for _ in 0..count {
            lp::tracing::info!("{line}");
            println!("{line}");
            eprintln!("{line}");
        }
        count
    }
}

/// A worker that returns after a while, or when stopped: the members of a `process` block
/// that ends with its first finished node.
pub struct Relay {
    name: String,
    after: Duration,
}

impl Relay {
    /// `name` returns after `after`, or at the stop.
    pub fn new(name: String, after: Duration) -> Self {
        Relay { name, after }
    }
}

impl lp::Run for Relay {
    async fn run(&self, ctx: Context) -> lp::Result<()> {
        println!("{} up: pid {}", self.name, std::process::id());
        match ctx.wait_for_stop_timeout(self.after).await {
            true => println!("{}: stopped", self.name),
            false => println!("{}: finished", self.name),
        }
        Ok(())
    }
}

/// Calls the victims as its mode says.
pub struct Caller {
    victim: Handle<Victim>,
    phoenixes: Vec<Handle<Victim>>,
    mode: String,
    target: String,
}

impl Caller {
    pub fn new(
        victim: Handle<Victim>,
        phoenixes: Vec<Handle<Victim>>,
        mode: String,
        target: String,
    ) -> Self {
        Caller {
            victim,
            phoenixes,
            mode,
            target,
        }
    }

    /// What it calls: the victim, or the phoenixes in turn.
    fn targets(&self) -> Vec<Handle<Victim>> {
        match self.target.as_str() {
            "phoenix" => self.phoenixes.clone(),
            _ => vec![self.victim.clone()],
        }
    }

    /// Pings its targets until the stop; with `tolerant`, a failed call (a target killed
    /// mid-call) is counted, not fatal. Prints its progress.
    async fn calls(&self, ctx: &Context, tolerant: bool) -> lp::Result<()> {
        let targets = self.targets();
        let (mut ok, mut failed) = (0u64, 0u64);
        for i in 0.. {
            if ctx.is_stopping() {
                break;
            }
            let target = &targets[i % targets.len()];
            match target.ping().await.ok_if_stopping() {
                Ok(Some(_)) => ok += 1,
                Ok(None) => break,
                Err(e) if tolerant && is_typed(&e) => {
                    failed += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            // Every 500th success, so a test can wait for a count of successes.
            if ok % 500 == 0 {
                println!("caller: {ok} calls ok, {failed} failed");
            }
        }
        println!("caller: {ok} calls ok, {failed} failed; stopping");
        Ok(())
    }
}

/// Whether a call failed the way a killed peer makes it fail (never a protocol error).
fn is_typed(e: &CallError) -> bool {
    matches!(
        e,
        CallError::Unavailable { .. } | CallError::DeadlineExceeded { .. }
    )
}

impl lp::Run for Caller {
    async fn run(&self, ctx: Context) -> lp::Result<()> {
        println!("caller up: pid {}", std::process::id());
        match self.mode.as_str() {
            "calls" => self.calls(&ctx, false).await,
            "chaos" => self.calls(&ctx, true).await,
            "hang" => {
                self.victim.hang().await.ok_if_stopping()?;
                Ok(())
            }
            "hang_deadline" => {
                let victim = Handle::with_deadline(&self.victim, Duration::from_millis(300));
                victim.hang().await?;
                Ok(())
            }
            "panic_method" => {
                self.victim.boom().await?;
                Ok(())
            }
            "panic_run" => panic!("caller: the run exploded"),
            "stop" => {
                self.victim.ping().await?;
                ctx.stop();
                Ok(())
            }
            "chatter" => {
                let calls = (0..4).map(|_| self.victim.chatter(200));
                lp::try_join_all(calls).await.ok_if_stopping()?;
                ctx.stop();
                Ok(())
            }
            "stop_later" => {
                // Until the test creates the file `FAULTS_MARKER` names.
                let marker = std::env::var("FAULTS_MARKER").unwrap_or_default();
                while !std::path::Path::new(&marker).exists() {
                    if ctx.wait_for_stop_timeout(Duration::from_millis(50)).await {
                        return Ok(());
                    }
                }
                ctx.stop();
                Ok(())
            }
            "ignore_stop" => loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
            },
            _ => {
                ctx.wait_for_stop().await;
                Ok(())
            }
        }
    }
}

/// The successful calls the caller reported last, from the program's output.
pub fn calls_ok(output: &str) -> u64 {
    output
        .lines()
        .filter_map(|l| l.split_once("caller: ").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .next_back()
        .unwrap_or(0)
}

/// The line `chatter` prints: 5 KiB, more than a pipe writes atomically.
pub fn chatter_line(name: &str) -> String {
    format!("{name}: {}", "chatter ".repeat(640))
}

/// Every node label of the `faults` program (`tests/faults.lp`), in id order.
pub const LABELS: [&str; 6] = [
    "victim",
    "phoenix/0",
    "phoenix/1",
    "sprinter",
    "stayer",
    "caller",
];
