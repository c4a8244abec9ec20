//! The external tools a launch may run (tmux, kubectl, sbatch), and why one failed.

use std::process::{Command, ExitStatus, Stdio};

/// Why an external tool did not do its job.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ToolError {
    /// It could not be started (not installed, not on `PATH`).
    #[error("cannot run `{tool}` (is it installed and on PATH?)")]
    Spawn {
        /// The tool.
        tool: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Talking to it (its input or output, waiting for it) failed.
    #[error("cannot {doing} `{tool}`")]
    Io {
        /// The tool.
        tool: &'static str,
        /// What was being done, e.g. "wait for".
        doing: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It ran and failed.
    #[error("`{tool} {what}` failed ({status}){}", said(.stderr))]
    Failed {
        /// The tool.
        tool: &'static str,
        /// Its subcommand or first argument.
        what: String,
        /// How it ended.
        status: ExitStatus,
        /// What it said on stderr, trimmed (empty when not captured).
        stderr: String,
    },
}

fn said(stderr: &str) -> String {
    match stderr.is_empty() {
        true => String::new(),
        false => format!(": {stderr}"),
    }
}

/// Runs `tool` with `args` (stdin closed, output captured) and checks that it succeeded.
pub(crate) fn run(tool: &'static str, args: &[&str]) -> Result<(), ToolError> {
    let output = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ToolError::Spawn { tool, source })?;
    check(
        tool,
        args.first().copied().unwrap_or_default(),
        output.status,
        &output.stderr,
    )
}

/// `Ok` when `status` is a success, else the failure with what the tool said.
pub(crate) fn check(
    tool: &'static str,
    what: &str,
    status: ExitStatus,
    stderr: &[u8],
) -> Result<(), ToolError> {
    match status.success() {
        true => Ok(()),
        false => Err(ToolError::Failed {
            tool,
            what: what.to_string(),
            status,
            stderr: String::from_utf8_lossy(stderr).trim().to_string(),
        }),
    }
}
