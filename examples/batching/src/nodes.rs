//! The server with a batched handler, and its clients.

use std::sync::Mutex;
use std::time::Duration;

use lp::{CallResultExt, Context, Handle};
use serde::{Deserialize, Serialize};

/// How the server's batches came out.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Calls answered.
    pub calls: u64,
    /// Batches run.
    pub batches: u64,
    /// The largest batch.
    pub largest: u64,
}

/// Answers `compute` a batch at a time (`batch compute { … }` in `batching.lp`).
pub struct Server {
    stats: Mutex<Stats>,
}

impl Server {
    pub fn new() -> Self {
        Server {
            stats: Mutex::new(Stats::default()),
        }
    }

    /// One batch of requests: each caller sent one `x` and gets back `x + 1`.
    pub fn compute(&self, xs: Vec<u64>) -> Vec<u64> {
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.calls += xs.len() as u64;
        stats.batches += 1;
        stats.largest = stats.largest.max(xs.len() as u64);
        xs.into_iter().map(|x| x + 1).collect()
    }

    /// How the batches came out so far.
    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

/// Calls `compute` `calls` times, checking each answer. Client 0 then waits for every client's
/// calls, prints the batch statistics, and stops the program.
pub struct Client {
    server: Handle<Server>,
    calls: u32,
    clients: u32,
}

impl Client {
    pub fn new(server: Handle<Server>, calls: u32, clients: u32) -> Self {
        Client {
            server,
            calls,
            clients,
        }
    }
}

impl lp::Run for Client {
    async fn run(&self, ctx: Context) -> lp::Result<()> {
        let first = ctx.replica().unwrap_or(0) as u64 * 1_000_000;
        for x in first..first + u64::from(self.calls) {
            let Some(y) = self.server.compute(x).await.ok_if_stopping()? else {
                return Ok(()); // the program is stopping
            };
            lp::ensure!(y == x + 1, "compute({x}) answered {y}");
        }
        if ctx.replica() != Some(0) {
            return Ok(());
        }
        let expected = u64::from(self.calls) * u64::from(self.clients);
        loop {
            let Some(stats) = self.server.stats().await.ok_if_stopping()? else {
                return Ok(());
            };
            if stats.calls >= expected {
                println!(
                    "{} calls answered in {} batches (largest {})",
                    stats.calls, stats.batches, stats.largest
                );
                ctx.stop();
                return Ok(());
            }
            if ctx.wait_for_stop_timeout(Duration::from_millis(10)).await {
                return Ok(());
            }
        }
    }
}
