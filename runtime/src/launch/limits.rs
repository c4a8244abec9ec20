//! What the machine lets a `local_mp` launch spawn, checked before the first process starts:
//! a launch too large for the descriptor or process limits fails at once, naming the limit and
//! how to raise it, instead of halfway, with children that cannot start their threads.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors the launcher holds whatever the launch: its runtime, its standard streams, the
/// control socket, handles' connections of a test.
const FDS_BASE: u64 = 32;
/// Descriptors the launcher holds per child process: its stdout and stderr pipes, its control
/// connection, and a connection of the launcher's handles to it.
const FDS_PER_PROCESS: u64 = 4;
/// Threads a child process starts at least: its main thread, tokio's workers, the signal
/// driver; synchronous methods add blocking threads as they run.
const THREADS_PER_PROCESS: u64 = 4;

/// A limit a launch would exceed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{processes} node processes need about {need} {what}, and this process may have {limit} \
     (`{shell}`): raise the limit (`{shell} {need}`), or put nodes together in `process` blocks"
)]
pub(crate) struct TooLarge {
    /// How many processes the launch has.
    pub(crate) processes: usize,
    /// What runs out, e.g. "open files".
    pub(crate) what: &'static str,
    /// About how many of them the launch needs.
    pub(crate) need: u64,
    /// The limit.
    pub(crate) limit: u64,
    /// The shell command that shows and raises it.
    pub(crate) shell: &'static str,
}

/// The limits a launch of `processes` processes meets: the soft descriptor limit is raised to
/// the hard one when the soft one is too low (as Go's runtime does for every program).
pub(crate) fn check(processes: usize) -> Result<(), TooLarge> {
    let count = processes as u64;
    let fds = FDS_BASE + FDS_PER_PROCESS * count;
    let files = getrlimit(Resource::Nofile);
    let open_files = raise(files, fds, |raised| {
        setrlimit(Resource::Nofile, raised).is_ok()
    });
    within(processes, "open files", fds, open_files, "ulimit -n")?;
    // Root is not held to RLIMIT_NPROC.
    if !rustix::process::getuid().is_root() {
        let threads = THREADS_PER_PROCESS * count;
        let own = getrlimit(Resource::Nproc).current;
        within(processes, "threads", threads, own, "ulimit -u")?;
    }
    Ok(())
}

/// The soft limit `have` after raising it to the hard one when it is under `need` and the hard
/// one is not (`set` applies the raised limit and says whether it took; `None`: unlimited).
fn raise(have: Rlimit, need: u64, set: impl FnOnce(Rlimit) -> bool) -> Option<u64> {
    match (have.current, have.maximum) {
        (Some(soft), hard) if soft < need && hard.is_none_or(|hard| hard >= need) => {
            let raised = Rlimit {
                current: hard,
                maximum: hard,
            };
            match set(raised) {
                true => hard,
                false => Some(soft),
            }
        }
        (soft, _) => soft,
    }
}

/// `Err` when `need` is over `limit` (`None`: unlimited).
fn within(
    processes: usize,
    what: &'static str,
    need: u64,
    limit: Option<u64>,
    shell: &'static str,
) -> Result<(), TooLarge> {
    match limit {
        Some(limit) if need > limit => Err(TooLarge {
            processes,
            what,
            need,
            limit,
            shell,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(current: Option<u64>, maximum: Option<u64>) -> Rlimit {
        Rlimit { current, maximum }
    }

    #[test]
    fn a_soft_limit_is_raised_when_the_hard_one_allows() {
        assert_eq!(
            raise(limit(Some(64), Some(4096)), 500, |_| true),
            Some(4096)
        );
        assert_eq!(raise(limit(Some(64), None), 500, |_| true), None);
        // Not raised: enough already, the hard limit too low, or the raise refused.
        assert_eq!(
            raise(limit(Some(1024), Some(4096)), 500, |_| true),
            Some(1024)
        );
        assert_eq!(raise(limit(Some(64), Some(100)), 500, |_| true), Some(64));
        assert_eq!(raise(limit(Some(64), Some(4096)), 500, |_| false), Some(64));
        assert_eq!(raise(limit(None, None), 500, |_| true), None);
    }

    #[test]
    fn a_launch_over_a_limit_is_refused_saying_how_to_raise_it() {
        assert!(within(10, "open files", 62, Some(64), "ulimit -n").is_ok());
        assert!(within(10, "open files", 62, None, "ulimit -n").is_ok());
        let refused = within(1000, "open files", 3032, Some(1024), "ulimit -n").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "1000 node processes need about 3032 open files, and this process may have 1024 \
             (`ulimit -n`): raise the limit (`ulimit -n 3032`), or put nodes together in \
             `process` blocks"
        );
    }
}
