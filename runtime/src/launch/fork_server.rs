//! The fork server of `local_mp`/`test_mp`: one process of the program binary, started before
//! the first node, that forks every node process at the launcher's request.
//!
//! Spawning each node from the launcher costs it an exec of the program binary (the dynamic
//! loader relocating a binary of many megabytes, glibc probing the CPU), and the spawn copies
//! the launcher's descriptor table, which holds three descriptors per node already spawned: so
//! spawning N nodes cost N² in all. The fork server is exec'd once, holds a handful of
//! descriptors, and forks a child that carries on as if freshly exec'd: it sets the
//! environment and standard streams the launcher sent, its own process group, and runs the
//! node ([`super::child::main`]).
//!
//! The launcher sends a request per process on a `SOCK_SEQPACKET` socket: the environment, and
//! the child's standard input, output and error as descriptors; the answer is the pid, or an
//! errno. The fork server reaps its children and writes `(pid, wait status)` for each on a
//! pipe, which the launcher reads as the children's exit statuses. It dies with the launcher
//! (`PR_SET_PDEATHSIG`), its children with it; it exits once the launcher closed its end and
//! its last child is gone.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitCode, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use tokio::io::AsyncReadExt;
use tokio::sync::oneshot;

use super::child::vars;

/// Set in the fork server's environment.
pub(crate) const VAR: &str = "LP_FORK_SERVER";

/// The largest request: a process's environment (the params' JSON among it). A larger one is
/// spawned without the fork server.
const MAX_REQUEST: usize = 128 << 10;

/// One exit record: the pid and the wait status, native-endian.
const RECORD: usize = 8;

/// What the fork server sends once ready to fork.
const READY: [u8; 4] = *b"lpfs";

/// How long the fork server gets to answer (its start, or a fork).
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

/// The launcher's end of its fork server.
pub(crate) struct ForkServer {
    /// The request socket, one request and its answer at a time; closed at the end.
    requests: Mutex<Option<OwnedFd>>,
    /// The fork server's process, reaped when the launch ends.
    process: Mutex<Option<tokio::process::Child>>,
    /// What the launcher knows of each child's exit.
    exits: Arc<Mutex<Exits>>,
}

/// Children's exits, as the fork server reports them.
#[derive(Default)]
struct Exits {
    /// Who waits for which pid's exit, or the exit that came before the wait.
    by_pid: HashMap<i32, Exit>,
    /// Set when the fork server is gone: no exit will be reported any more.
    gone: bool,
}

enum Exit {
    Waiting(oneshot::Sender<ExitStatus>),
    Came(ExitStatus),
}

impl ForkServer {
    /// Starts the fork server from `binary`, a child of the launcher's thread (it dies with
    /// it).
    pub(crate) fn start(binary: &Path) -> std::io::Result<Self> {
        use rustix::net::{socketpair, AddressFamily, SocketFlags, SocketType};
        let (ours, theirs) = socketpair(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC,
            None,
        )?;
        let (exits_in, exits_out) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
        let process = tokio::process::Command::new(binary)
            .env(VAR, "1")
            // What makes the binary's `main` take the child's path (see `child::is_child`).
            .env(vars::NODE_ID, "")
            .env(vars::LAUNCHER_PID, std::process::id().to_string())
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::from(exits_out))
            .kill_on_drop(true)
            .spawn()?;
        // A fork server that hangs must not hang the launch.
        rustix::net::sockopt::set_socket_timeout(
            &ours,
            rustix::net::sockopt::Timeout::Recv,
            Some(ANSWER_WITHIN),
        )?;
        // It says it is ready, or why not, before the first request.
        let mut ready = [0u8; 512];
        let got = rustix::net::recv(&ours, &mut ready, RecvFlags::empty())?.0;
        if ready[..got.min(ready.len())] != READY {
            let why = String::from_utf8_lossy(&ready[..got.min(ready.len())]).into_owned();
            return Err(std::io::Error::other(match why.is_empty() {
                true => "it exited at start".to_string(),
                false => why,
            }));
        }
        let exits = Arc::new(Mutex::new(Exits::default()));
        let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(exits_in)?;
        tokio::spawn(read_exits(pipe, exits.clone()));
        Ok(ForkServer {
            requests: Mutex::new(Some(ours)),
            process: Mutex::new(Some(process)),
            exits,
        })
    }

    /// Forks a process from `request`, with `stdio` (input, output, error) as its standard
    /// streams; its pid, and its exit status to come (a closed channel: the fork server is
    /// gone, and the process with it).
    pub(crate) fn fork(
        &self,
        request: &Request,
        stdio: [OwnedFd; 3],
    ) -> std::io::Result<(u32, oneshot::Receiver<ExitStatus>)> {
        let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(requests) = requests.as_ref() else {
            return Err(std::io::Error::other("the launch is over"));
        };
        {
            let fds: Vec<BorrowedFd<'_>> = stdio.iter().map(AsFd::as_fd).collect();
            let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
            let mut control = SendAncillaryBuffer::new(&mut space);
            control.push(SendAncillaryMessage::ScmRights(&fds));
            rustix::net::sendmsg(
                requests,
                &[IoSlice::new(&request.0)],
                &mut control,
                SendFlags::NOSIGNAL,
            )?;
        }
        drop(stdio);
        let mut answer = [0u8; 4];
        let pid = match rustix::net::recv(requests, &mut answer, RecvFlags::empty())?.0 {
            4 => i32::from_ne_bytes(answer),
            _ => return Err(std::io::Error::other("the fork server is gone")),
        };
        if pid <= 0 {
            return Err(std::io::Error::from_raw_os_error(-pid));
        }
        let (tx, rx) = oneshot::channel();
        let mut exits = self.exits.lock().unwrap_or_else(PoisonError::into_inner);
        match exits.by_pid.remove(&pid) {
            Some(Exit::Came(status)) => {
                let _ = tx.send(status);
            }
            _ if exits.gone => {}
            _ => {
                exits.by_pid.insert(pid, Exit::Waiting(tx));
            }
        }
        Ok((pid.unsigned_abs(), rx))
    }

    /// Closes the request socket and waits for the fork server to exit (it does once its last
    /// child is gone), killing it (and what it forked) after [`ANSWER_WITHIN`].
    pub(crate) async fn close(&self) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let process = self
            .process
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut process) = process {
            if tokio::time::timeout(ANSWER_WITHIN, process.wait())
                .await
                .is_err()
            {
                let _ = process.kill().await;
            }
        }
    }
}

/// A request to fork a process: its environment, encoded.
pub(crate) struct Request(Vec<u8>);

impl Request {
    /// The request for a process with `env` set; `None` when it is too large for one message
    /// (spawn that process without the fork server).
    pub(crate) fn new(env: &[(OsString, OsString)]) -> Option<Self> {
        let bytes = encode(env);
        (bytes.len() <= MAX_REQUEST).then_some(Request(bytes))
    }
}

/// Reads the exit records until the fork server is gone, handing each to its waiter.
async fn read_exits(mut pipe: tokio::net::unix::pipe::Receiver, exits: Arc<Mutex<Exits>>) {
    let mut record = [0u8; RECORD];
    while pipe.read_exact(&mut record).await.is_ok() {
        let pid = i32::from_ne_bytes([record[0], record[1], record[2], record[3]]);
        let status = ExitStatus::from_raw(i32::from_ne_bytes([
            record[4], record[5], record[6], record[7],
        ]));
        let mut exits = exits.lock().unwrap_or_else(PoisonError::into_inner);
        match exits.by_pid.remove(&pid) {
            Some(Exit::Waiting(tx)) => {
                let _ = tx.send(status);
            }
            _ => {
                exits.by_pid.insert(pid, Exit::Came(status));
            }
        }
    }
    // Gone: its children died with it, and whoever waits learns it (a closed channel).
    let mut exits = exits.lock().unwrap_or_else(PoisonError::into_inner);
    exits.gone = true;
    exits.by_pid.clear();
}

/// A request: the count of variables, then each name and value, length-prefixed.
fn encode(env: &[(OsString, OsString)]) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::new();
    out.extend_from_slice(&(env.len() as u32).to_ne_bytes());
    for (name, value) in env {
        for part in [name, value] {
            out.extend_from_slice(&(part.len() as u32).to_ne_bytes());
            out.extend_from_slice(part.as_bytes());
        }
    }
    out
}

/// The variables of a request; `None` when it is malformed.
fn decode(bytes: &[u8]) -> Option<Vec<(OsString, OsString)>> {
    use std::os::unix::ffi::OsStrExt;
    /// The next length-prefixed part of `rest`.
    fn part<'a>(rest: &mut &'a [u8], len: Option<usize>) -> Option<&'a [u8]> {
        let len = match len {
            Some(len) => len,
            None => u32::from_ne_bytes(part(rest, Some(4))?.try_into().ok()?) as usize,
        };
        let head = rest.get(..len)?;
        *rest = &rest[len..];
        Some(head)
    }
    let mut rest = bytes;
    let n = u32::from_ne_bytes(part(&mut rest, Some(4))?.try_into().ok()?) as usize;
    let mut env = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let name = std::ffi::OsStr::from_bytes(part(&mut rest, None)?).to_owned();
        let value = std::ffi::OsStr::from_bytes(part(&mut rest, None)?).to_owned();
        env.push((name, value));
    }
    Some(env)
}

/// What this process is, after [`serve_if_asked`].
pub(crate) enum Role {
    /// Not a fork server, or a child it forked (with its environment and streams set): run
    /// the node.
    Node,
    /// The fork server, done: exit with this status.
    Done(ExitCode),
}

/// Serves as the fork server when this process was started as one; returns in each child it
/// forks, and in the fork server when it is done.
pub(crate) fn serve_if_asked() -> Role {
    if std::env::var_os(VAR).is_none() {
        return Role::Node;
    }
    // SAFETY: the descriptors the launcher gave this process as its standard input and
    // output; nothing else here uses them.
    let (requests, records) = unsafe { (OwnedFd::from_raw_fd(0), OwnedFd::from_raw_fd(1)) };
    let served = ready().and_then(|(signals, unblocked)| {
        rustix::net::send(&requests, &READY, SendFlags::NOSIGNAL)?;
        serve(requests.as_fd(), records, signals, &unblocked)
    });
    match served {
        Ok(role) => {
            if let Role::Node = role {
                // Standard input becomes the child's own.
                let _ = requests.into_raw_fd();
            }
            role
        }
        Err(e) => {
            // The launcher reads why in place of the ready message (or never, when it is
            // gone).
            let _ = rustix::net::send(&requests, e.to_string().as_bytes(), SendFlags::NOSIGNAL);
            Role::Done(ExitCode::FAILURE)
        }
    }
}

/// Makes this process the fork server: it dies with the launcher, has one thread, and reads
/// SIGCHLD from a descriptor; with the signal mask to restore in children.
fn ready() -> std::io::Result<(OwnedFd, libc::sigset_t)> {
    super::child::follow_launcher().map_err(std::io::Error::other)?;
    // A forked child has the forking thread alone: one started before `main` (a library's
    // constructor) would be missing in every node, holding whatever lock it held.
    let threads = std::fs::read_dir("/proc/self/task")?.count();
    if threads != 1 {
        return Err(std::io::Error::other(format!(
            "the binary runs {threads} threads before `main`"
        )));
    }
    child_signals()
}

/// The fork server's loop: requests on `requests`, exit records on `records`; returns in each
/// forked child, and once the launcher closed its end and the last child is gone.
fn serve(
    requests: BorrowedFd<'_>,
    records: OwnedFd,
    signals: OwnedFd,
    unblocked: &libc::sigset_t,
) -> std::io::Result<Role> {
    use rustix::event::{poll, PollFd, PollFlags};
    let me = std::process::id() as i32;
    let (mut open, mut live) = (true, 0usize);
    let mut buffer = vec![0u8; MAX_REQUEST];
    while open || live > 0 {
        let mut fds = vec![PollFd::new(&signals, PollFlags::IN)];
        if open {
            fds.push(PollFd::new(&requests, PollFlags::IN));
        }
        match poll(&mut fds, None) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        let (exited, asked) = (
            !fds[0].revents().is_empty(),
            fds.get(1).is_some_and(|f| !f.revents().is_empty()),
        );
        drop(fds);
        if exited {
            live -= reap(&signals, &records).min(live);
        }
        if !asked {
            continue;
        }
        let Some((env, stdio)) = receive(requests, &mut buffer)? else {
            open = false;
            continue;
        };
        // SAFETY: this process has one thread: the child may run anything.
        match unsafe { libc::fork() } {
            0 => {
                drop(signals);
                // Standard output becomes the child's own.
                let _ = records.into_raw_fd();
                become_child(env, stdio, me, unblocked)?;
                return Ok(Role::Node);
            }
            -1 => answer(
                requests,
                -std::io::Error::last_os_error().raw_os_error().unwrap_or(1),
            ),
            pid => {
                live += 1;
                answer(requests, pid);
            }
        }
    }
    Ok(Role::Done(ExitCode::SUCCESS))
}

/// Blocks SIGCHLD and reads it from a descriptor instead; with the mask to restore in children.
fn child_signals() -> std::io::Result<(OwnedFd, libc::sigset_t)> {
    // SAFETY: plain libc calls on sets this function owns.
    unsafe {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(set.as_mut_ptr());
        let mut set = set.assume_init();
        libc::sigaddset(&mut set, libc::SIGCHLD);
        let mut old = MaybeUninit::<libc::sigset_t>::uninit();
        if libc::sigprocmask(libc::SIG_BLOCK, &set, old.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fd), old.assume_init()))
    }
}

/// Drains the signal descriptor and reaps every exited child, writing its record; how many.
fn reap(signals: &OwnedFd, records: &OwnedFd) -> usize {
    let mut info = [0u8; 128];
    while rustix::io::read(signals, &mut info).is_ok() {}
    let mut reaped = 0;
    // No child left to wait for (`ECHILD`) ends it as well as none exited yet.
    while let Ok(Some((pid, status))) = rustix::process::wait(rustix::process::WaitOptions::NOHANG)
    {
        let mut record = [0u8; RECORD];
        record[..4].copy_from_slice(&pid.as_raw_nonzero().get().to_ne_bytes());
        record[4..].copy_from_slice(&status.as_raw().to_ne_bytes());
        // A launcher gone is no reason to stop reaping.
        let _ = rustix::io::write(records, &record);
        reaped += 1;
    }
    reaped
}

/// The next request; `None` once the launcher closed its end.
#[allow(clippy::type_complexity)]
fn receive(
    requests: BorrowedFd<'_>,
    buffer: &mut [u8],
) -> std::io::Result<Option<(Vec<(OsString, OsString)>, Vec<OwnedFd>)>> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = loop {
        match rustix::net::recvmsg(
            requests,
            &mut [IoSliceMut::new(buffer)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        ) {
            Err(rustix::io::Errno::INTR) => continue,
            got => break got?,
        }
    };
    let fds: Vec<OwnedFd> = control
        .drain()
        .flat_map(|message| match message {
            RecvAncillaryMessage::ScmRights(fds) => fds.collect(),
            _ => Vec::new(),
        })
        .collect();
    if got.bytes == 0 && fds.is_empty() {
        return Ok(None);
    }
    match decode(&buffer[..got.bytes.min(buffer.len())]) {
        Some(env) if fds.len() == 3 => Ok(Some((env, fds))),
        _ => Err(std::io::Error::other("a malformed request")),
    }
}

/// Answers a request: the pid, or a negative errno.
fn answer(requests: BorrowedFd<'_>, value: i32) {
    let _ = rustix::net::send(requests, &value.to_ne_bytes(), SendFlags::NOSIGNAL);
}

/// In a forked child: the signal mask, process group, standard streams and environment a
/// spawned child starts with.
fn become_child(
    env: Vec<(OsString, OsString)>,
    stdio: Vec<OwnedFd>,
    server: i32,
    unblocked: &libc::sigset_t,
) -> std::io::Result<()> {
    // SAFETY: restores the mask this process started with.
    if unsafe { libc::sigprocmask(libc::SIG_SETMASK, unblocked, std::ptr::null_mut()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    rustix::process::setpgid(None, None)?;
    let [input, output, error] = <[OwnedFd; 3]>::try_from(stdio)
        .map_err(|_| std::io::Error::other("a request without three streams"))?;
    rustix::stdio::dup2_stdin(&input)?;
    rustix::stdio::dup2_stdout(&output)?;
    rustix::stdio::dup2_stderr(&error)?;
    std::env::remove_var(VAR);
    for (name, value) in env {
        std::env::set_var(name, value);
    }
    // The child follows its parent, this fork server (which follows the launcher).
    std::env::set_var(vars::LAUNCHER_PID, server.to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};
    use std::ffi::OsString;

    #[test]
    fn requests_round_trip_and_malformed_ones_are_refused() {
        let env: Vec<(OsString, OsString)> = vec![
            ("LP_NODE_ID".into(), "3".into()),
            ("EMPTY".into(), "".into()),
            ("PARAMS".into(), "{\"n\": 1}".into()),
        ];
        let bytes = encode(&env);
        assert_eq!(decode(&bytes), Some(env));
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(decode(&[]), None);
    }
}
