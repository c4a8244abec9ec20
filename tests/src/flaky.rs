//! Node types of the `restarts` test program (`tests/restarts.lp`).

use std::io::Write;
use std::time::{Duration, Instant};

use lp::Context;

/// A courier that knows which process and which construction it is.
pub struct Flaky {
    built: Instant,
}

impl Flaky {
    pub fn new() -> Self {
        Flaky {
            built: Instant::now(),
        }
    }

    /// The id of the process it runs in.
    pub fn pid(&self) -> u32 {
        std::process::id()
    }

    /// How long ago this object was constructed, in milliseconds.
    pub fn age_ms(&self) -> u64 {
        self.built.elapsed().as_millis() as u64
    }

    /// Answers after `ms` milliseconds (a call to be in flight when the node dies).
    pub async fn slow(&self, ms: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        ms
    }
}

impl Default for Flaky {
    fn default() -> Self {
        Flaky::new()
    }
}

/// Appends one line per attempt to `attempts_file`; the first `failures` attempts fail.
pub struct Crasher {
    attempts_file: String,
    failures: u32,
}

impl Crasher {
    pub fn new(attempts_file: String, failures: u32) -> Self {
        Crasher {
            attempts_file,
            failures,
        }
    }
}

impl lp::BlockingRun for Crasher {
    fn run(&self, ctx: Context) -> lp::Result<()> {
        if self.attempts_file.is_empty() {
            return Ok(());
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.attempts_file)?;
        writeln!(file, "attempt")?;
        let attempt = std::fs::read_to_string(&self.attempts_file)?
            .lines()
            .count();
        lp::ensure!(
            attempt > self.failures as usize,
            "attempt {attempt} of `{}` fails on purpose",
            ctx.label()
        );
        Ok(())
    }
}
