//! The node types of the basic examples.

use std::time::Duration;

/// Says hello once (a `worker`: it only runs).
pub struct Greeter {
    name: String,
}

impl Greeter {
    /// A greeter of `name`.
    pub fn new(name: String) -> Self {
        Greeter { name }
    }
}

impl lp::BlockingRun for Greeter {
    fn run(&self, _ctx: lp::Context) -> lp::Result<()> {
        lp::tracing::info!("Hello {}!", self.name);
        Ok(())
    }
}

/// Works every `period` until the program stops (Launchpad's `wait_for_stop(timeout)` loop).
pub struct Ticker {
    period: Duration,
}

impl Ticker {
    /// A ticker that works every `period`.
    pub fn new(period: Duration) -> Self {
        Ticker { period }
    }
}

impl lp::Run for Ticker {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        let mut ticks = 0u32;
        while !ctx.wait_for_stop_timeout(self.period).await {
            ticks += 1;
        }
        lp::tracing::info!("stopped after {ticks} ticks");
        Ok(())
    }
}

/// Stops the whole program after a while.
pub struct Stopper {
    after: Duration,
}

impl Stopper {
    /// A stopper that waits `after`.
    pub fn new(after: Duration) -> Self {
        Stopper { after }
    }
}

impl lp::Run for Stopper {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        ctx.wait_for_stop_timeout(self.after).await;
        lp::tracing::info!("stopping the program");
        ctx.stop();
        Ok(())
    }
}
