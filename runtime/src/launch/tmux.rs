//! `--lp_terminal tmux`: one tmux window per node process, each following that process's log
//! file (the launcher still owns and supervises the processes; tmux only shows their output).
//! The session is `lp-<program>-<launcher pid>`, on the user's tmux server; it is closed when
//! the launch ends, and the log files stay.

use std::path::Path;

use super::tool::{self, ToolError};

/// A tmux session showing a launch's node logs.
pub(crate) struct Session {
    name: String,
}

impl Session {
    /// The session name of this launcher's launch of `program`.
    pub(crate) fn name(program: &str) -> String {
        format!("lp-{program}-{}", std::process::id())
    }

    /// Opens the session with one window per `(label, log file)`.
    pub(crate) fn open(program: &str, windows: &[(String, &Path)]) -> Result<Session, ToolError> {
        let name = Session::name(program);
        let mut first = true;
        for (label, log) in windows {
            let follow = format!("tail -n +1 -F {}", shell_quote(&log.display().to_string()));
            let args: Vec<&str> = if first {
                vec!["new-session", "-d", "-s", &name, "-n", label, &follow]
            } else {
                vec!["new-window", "-d", "-t", &name, "-n", label, &follow]
            };
            tool::run("tmux", &args)?;
            first = false;
        }
        tracing::info!(target: "lp", "node output in tmux: `tmux attach -t {name}`");
        Ok(Session { name })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = tool::run("tmux", &["kill-session", "-t", &self.name]);
    }
}

/// `s` as one word for the shell tmux runs a window's command with.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
