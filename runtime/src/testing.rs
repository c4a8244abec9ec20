//! Helpers for tests of lp programs.

use std::path::Path;
use std::time::Duration;

/// How a program binary run by [`run_binary`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryOutput {
    /// Its exit code (`None` when a signal ended it).
    pub code: Option<i32>,
    /// Everything it printed: its stdout, then its stderr.
    pub output: String,
}

/// Runs a program binary (e.g. `env!("CARGO_BIN_EXE_my_program")`) with `args` — a launch type,
/// params — and returns how it ended.
///
/// # Panics
///
/// When it cannot be started, or does not finish within `limit` (it is killed first), so that a
/// hung program fails its test instead of hanging it.
///
/// ```no_run
/// # async fn example() {
/// let run = lp::testing::run_binary(
///     "target/debug/consumer_producers",
///     &["--lp_launch_type", "local_mp", "--num_producers", "2"],
///     std::time::Duration::from_secs(60),
/// )
/// .await;
/// assert_eq!(run.code, Some(0), "{}", run.output);
/// # }
/// ```
pub async fn run_binary(binary: impl AsRef<Path>, args: &[&str], limit: Duration) -> BinaryOutput {
    let binary = binary.as_ref();
    let mut command = tokio::process::Command::new(binary);
    command.args(args).kill_on_drop(true);
    let out = tokio::time::timeout(limit, command.output())
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} {args:?} did not finish within {limit:?}",
                binary.display()
            )
        })
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    BinaryOutput {
        code: out.status.code(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
