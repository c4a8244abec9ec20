//! Unix sockets for `local_mp`/`test_mp`: the private directory the sockets live in, and
//! dialing them.

use std::io;
use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use tokio::net::UnixStream;

use super::conn::{Dial, DialError, ReadHalf, Socket, WriteHalf};
use super::frame::Secret;

/// Creates a fresh directory only this user can enter (mode 0700) for a launch's sockets,
/// `lp-<launcher pid>-<random>` in [`launch_base`]. Directories that launchers killed with
/// SIGKILL left behind (their pid is gone) are removed first.
pub(crate) fn make_private_dir() -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = launch_base();
    remove_stale_dirs(&base);
    let tag = Secret::random()?.to_hex();
    let dir = base.join(format!("lp-{}-{}", std::process::id(), &tag[..12]));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    Ok(dir)
}

/// Where launches make their private directories: `$XDG_RUNTIME_DIR` (the user's own
/// directory for sockets, in memory), else `$TMPDIR` (the user's choice), else `/dev/shm` (in
/// memory), else the temp directory. In memory, binding a node's socket creates no inode on
/// disk: on ext4, each costs a scan past recently deleted inodes, which grows with every launch
/// (a 256-node launch took a third longer in `/tmp` than in `/dev/shm`). `lpc top` looks in the
/// same places.
pub(crate) fn launch_base() -> PathBuf {
    let set = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
    };
    let usable = |dir: &PathBuf| {
        dir.is_dir()
            && rustix::fs::access(
                dir,
                rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
            )
            .is_ok()
    };
    set("XDG_RUNTIME_DIR")
        .filter(usable)
        .or_else(|| set("TMPDIR"))
        .or_else(|| Some(PathBuf::from("/dev/shm")).filter(usable))
        .unwrap_or_else(std::env::temp_dir)
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
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("lp-"))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, tag)| (tag.len() == 12).then_some(pid))
            .and_then(|pid| pid.parse::<i32>().ok())
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
