//! Unix sockets for `local_mp`/`test_mp`: the private directory the sockets live in, and
//! dialing them.

use std::io;
use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use tokio::net::UnixStream;

use super::conn::{Dial, DialError, ReadHalf, Socket, WriteHalf};
use super::frame::Secret;

/// Creates a fresh directory only this user can enter (mode 0700) for a launch's sockets,
/// `lp-<launcher pid>-<random>` in [`lp_dirs::base`]. Directories that launchers killed with
/// SIGKILL left behind (their pid is gone) are removed first.
pub(crate) fn make_private_dir() -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = lp_dirs::base();
    remove_stale_dirs(&base);
    let tag = Secret::random()?.to_hex();
    let dir = base.join(lp_dirs::dir_name(std::process::id(), &tag));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

/// Removes this user's launch directories in `base` whose launcher process no longer exists.
/// A pid in use again by another process keeps its directory (it might be a launcher).
fn remove_stale_dirs(base: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    let me = rustix::process::geteuid().as_raw();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(lp_dirs::launcher_pid)
            .and_then(|pid| i32::try_from(pid).ok())
        else {
            continue;
        };
        let ours = entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == me);
        // Signal 0 sends nothing; it only checks that the pid exists.
        let gone = rustix::process::Pid::from_raw(pid).is_some_and(|pid| {
            rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH)
        });
        if ours && gone {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Where node `id` serves inside a launch directory.
pub(crate) fn node_socket(dir: &Path, id: usize) -> PathBuf {
    dir.join(format!("{id}.sock"))
}

/// Where the launcher listens for its children's reports.
pub(crate) fn control_socket(dir: &Path) -> PathBuf {
    dir.join("launcher.sock")
}

/// Dials the nodes of a launch directory: node `id` at `<dir>/<id>.sock`.
pub(crate) struct UnixDialer {
    dir: PathBuf,
}

impl UnixDialer {
    pub(crate) fn new(dir: PathBuf) -> Self {
        UnixDialer { dir }
    }
}

impl Dial for UnixDialer {
    fn dial(&self, target: usize) -> BoxFuture<'_, Result<(ReadHalf, WriteHalf), DialError>> {
        Box::pin(dial(node_socket(&self.dir, target)))
    }
}

/// Dials one socket, whatever the target (the launcher's control socket).
pub(crate) struct UnixPath(pub(crate) PathBuf);

impl Dial for UnixPath {
    fn dial(&self, _: usize) -> BoxFuture<'_, Result<(ReadHalf, WriteHalf), DialError>> {
        Box::pin(dial(self.0.clone()))
    }
}

/// Connects to a socket: not there yet, refusing, or going away (a process exiting resets
/// the connections queued on its listener) is worth retrying.
async fn dial(path: PathBuf) -> Result<(ReadHalf, WriteHalf), DialError> {
    match UnixStream::connect(&path).await {
        Ok(stream) => Ok(stream.halves()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound
                    | io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
            ) =>
        {
            Err(DialError::NotYet(e.to_string()))
        }
        Err(e) => Err(DialError::Fatal(format!("{}: {e}", path.display()))),
    }
}
