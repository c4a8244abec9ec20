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

/// The names of the `LP_` variables this process was started with: its first environment,
/// which `/proc/self/environ` keeps for the process's life even after lp removes a variable.
fn started_with() -> Vec<String> {
    let environ = std::fs::read("/proc/self/environ").unwrap_or_default();
    environ
        .split(|&b| b == 0)
        .filter_map(|var| std::str::from_utf8(var).ok()?.split_once('='))
        .map(|(name, _)| name.to_string())
        .filter(|name| name.starts_with("LP_"))
        .collect()
}

impl lp::Run for Probe {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        let mode = std::env::var("FLAKY_MODE").unwrap_or_default();
        lp::tracing::info!(
            "worker {} up in process {} (mode: {mode})",
            self.index,
            std::process::id()
        );
        lp::tracing::info!(
            "worker {} was started with {}",
            self.index,
            started_with().join(" ")
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
