//! Node types of the `cluster_probe` test program (`tests/cluster.lp`), for the cluster launch tests.

use std::time::Duration;

/// Works until the program stops; worker 0 stops it after `after`, unless worker `fail` fails
/// first.
pub struct Probe {
    index: u64,
    after: Duration,
    fail: i64,
}

impl Probe {
    /// Worker `index`.
    pub fn new(index: u64, after: Duration, fail: i64) -> Self {
        Probe { index, after, fail }
    }
}

impl lp::Run for Probe {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        let mode = std::env::var("FLAKY_MODE").unwrap_or_default();
        lp::tracing::info!(
            "worker {} up in process {} (mode: {mode})",
            self.index,
            std::process::id()
        );
        if ctx.wait_for_stop_timeout(self.after).await {
            lp::tracing::info!("worker {} stopped", self.index);
            return Ok(());
        }
        if i64::try_from(self.index).ok() == Some(self.fail) {
            lp::tracing::info!("worker {} fails", self.index);
            return Err(lp::Error::msg(format!(
                "injected failure in worker {}",
                self.index
            )));
        }
        if self.index == 0 && self.fail < 0 {
            lp::tracing::info!("worker 0 stops the program");
            ctx.stop();
            return Ok(());
        }
        ctx.wait_for_stop().await;
        lp::tracing::info!("worker {} stopped", self.index);
        Ok(())
    }
}
