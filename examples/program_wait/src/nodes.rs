//! The node types of `program_wait`: one per way of waiting for the program to stop, and the
//! node that stops it.

use std::time::Duration;

/// Waits for the stop and nothing else: the simplest `run`.
#[derive(Debug, Default)]
pub struct Waiter;

impl Waiter {
    /// A waiter.
    pub fn new() -> Self {
        Waiter
    }
}

// ANCHOR: wait_for_stop
impl lp::Run for Waiter {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        ctx.wait_for_stop().await;
        lp::tracing::info!("stopped");
        Ok(())
    }
}
// ANCHOR_END: wait_for_stop

/// Works every `period` until the program stops (Launchpad's `wait_for_stop(timeout)` loop).
#[derive(Debug)]
pub struct Ticker {
    period: Duration,
}

impl Ticker {
    /// A ticker that works every `period`.
    pub fn new(period: Duration) -> Self {
        Ticker { period }
    }
}

// ANCHOR: wait_for_stop_timeout
impl lp::Run for Ticker {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        let mut ticks = 0u32;
        // `true` once the program is stopping; `false` after each `period`.
        while !ctx.wait_for_stop_timeout(self.period).await {
            ticks += 1;
        }
        lp::tracing::info!("stopped after {ticks} ticks");
        Ok(())
    }
}
// ANCHOR_END: wait_for_stop_timeout

/// A synchronous loop: `run` is called on a blocking thread and polls for the stop.
#[derive(Debug)]
pub struct Poller {
    period: Duration,
}

impl Poller {
    /// A poller that checks every `period`.
    pub fn new(period: Duration) -> Self {
        Poller { period }
    }
}

// ANCHOR: is_stopping
impl lp::BlockingRun for Poller {
    fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        let mut polls = 0u32;
        while !ctx.is_stopping() {
            std::thread::sleep(self.period);
            polls += 1;
        }
        lp::tracing::info!("stopped after {polls} polls");
        Ok(())
    }
}
// ANCHOR_END: is_stopping

/// Runs tasks of its own and hands each the program's stop token.
#[derive(Debug)]
pub struct Spawner {
    num_tasks: u32,
}

impl Spawner {
    /// A spawner of `num_tasks` tasks.
    pub fn new(num_tasks: u32) -> Self {
        Spawner { num_tasks }
    }
}

// ANCHOR: stop_token
impl lp::Run for Spawner {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..self.num_tasks {
            let stop = ctx.stop_token();
            tasks.spawn(async move {
                let mut rounds = 0u32;
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return rounds,
                        () = tokio::time::sleep(Duration::from_millis(20)) => rounds += 1,
                    }
                }
            });
        }
        let mut stopped = 0;
        while let Some(task) = tasks.join_next().await {
            task?;
            stopped += 1;
        }
        lp::tracing::info!("stopped with {stopped} tasks");
        Ok(())
    }
}
// ANCHOR_END: stop_token

/// Stops the whole program after a while.
#[derive(Debug)]
pub struct Stopper {
    after: Duration,
}

impl Stopper {
    /// A stopper that waits `after`.
    pub fn new(after: Duration) -> Self {
        Stopper { after }
    }
}

// ANCHOR: stop
impl lp::Run for Stopper {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        // Returns early if something else stops the program first (Ctrl-C).
        if !ctx.wait_for_stop_timeout(self.after).await {
            lp::tracing::info!("stopping the program");
            ctx.stop();
        }
        Ok(())
    }
}
// ANCHOR_END: stop
