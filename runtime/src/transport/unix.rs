//! Unix-socket plumbing for `local_mp`/`test_mp`: the private directory, connecting with the
//! hello handshake and retries, and the server side of the handshake.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::UnixStream;
use tokio_util::sync::CancellationToken;

pub(crate) use super::conn::{accept_hello, FrameReader, FrameWriter};
use super::frame::{self, Secret, ToClient, ToServer};

/// How long either side waits for the other's half of the handshake.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Splits a stream into framed halves.
pub(crate) fn framed(stream: UnixStream) -> (FrameReader, FrameWriter) {
    super::conn::framed(stream)
}

/// Creates a fresh directory only this user can enter (mode 0700) for a launch's sockets,
/// `lp-<launcher pid>-<random>` in the temp directory. Directories that launchers killed with
/// SIGKILL left behind (their pid is gone) are removed first.
pub(crate) fn make_private_dir() -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::temp_dir();
    remove_stale_dirs(&base);
    let tag = Secret::random()?.to_hex();
    let dir = base.join(format!("lp-{}-{}", std::process::id(), &tag[..12]));
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
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
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
        // SAFETY: kill with signal 0 sends nothing; it only checks that the pid exists.
        let gone = pid > 0
            && unsafe { libc::kill(pid, 0) } != 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
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

/// Connects to `path`, retrying while the socket does not exist or refuses (the node is not
/// up yet) until `wait` has passed or `stop` is cancelled, then does the hello handshake.
pub(crate) async fn connect(
    path: &Path,
    secret: &Secret,
    wait: Duration,
    stop: &CancellationToken,
) -> Result<(FrameReader, FrameWriter), String> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut backoff = Duration::from_millis(2);
    let stream = loop {
        match UnixStream::connect(path).await {
            Ok(stream) => break stream,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) =>
            {
                let now = tokio::time::Instant::now();
                if now >= deadline {
                    return Err(format!("not up after {wait:?} ({e})"));
                }
                let nap = backoff.min(deadline - now);
                tokio::select! {
                    _ = tokio::time::sleep(nap) => {}
                    _ = stop.cancelled() => return Err("the program is stopping".into()),
                }
                backoff = (backoff * 2).min(Duration::from_millis(100));
            }
            Err(e) => return Err(format!("cannot connect: {e}")),
        }
    };
    let (mut reader, mut writer) = framed(stream);
    super::conn::client_hello(&mut reader, &mut writer, secret).await?;
    Ok((reader, writer))
}

/// Reads one length-delimited frame from a blocking stream, refusing oversized ones before
/// allocating.
fn read_frame_blocking(stream: &mut std::os::unix::net::UnixStream) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > frame::MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body)?;
    Ok(body)
}

/// Sends one control message to the launcher, synchronously (used from `Context::stop`, which
/// is not async), and waits until the launcher has read it (it closes the connection then), so
/// a child may exit right after. Errors are returned for the caller to log.
pub(crate) fn send_control_blocking(
    path: &Path,
    secret: &Secret,
    message: frame::Control,
) -> io::Result<()> {
    use std::io::Write;
    let mut stream = std::os::unix::net::UnixStream::connect(path)?;
    stream.set_write_timeout(Some(HANDSHAKE_TIMEOUT))?;
    stream.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    let to_io = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
    let nonce =
        match frame::decode::<ToClient>(&read_frame_blocking(&mut stream)?).map_err(to_io)? {
            ToClient::Challenge { nonce, .. } => nonce,
            _ => return Err(to_io("the launcher did not send a challenge".into())),
        };
    for msg in [
        ToServer::Hello {
            protocol: frame::PROTOCOL,
            proof: secret.proof(&nonce),
        },
        ToServer::Control(message),
    ] {
        let bytes = frame::encode(&msg).map_err(to_io)?;
        let len = u32::try_from(bytes.len()).map_err(|e| to_io(e.to_string()))?;
        stream.write_all(&len.to_be_bytes())?;
        stream.write_all(&bytes)?;
    }
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut sink = Vec::new();
    std::io::Read::read_to_end(&mut stream, &mut sink)?;
    Ok(())
}
