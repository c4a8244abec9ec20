//! The launcher's end of its fork server: the process, its request socket, and the exits it
//! reports.

use std::collections::HashMap;
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustix::net::{RecvFlags, SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
use tokio::io::AsyncReadExt;
use tokio::sync::oneshot;

use super::{Request, ANSWER_WITHIN, READY, RECORD, VAR};
use crate::launch::child::vars;
use crate::launch::parent::Parent;

/// The launcher's end of its fork server.
pub(crate) struct ForkServer {
    /// The request socket, one request and its answer at a time; closed at the end.
    requests: Mutex<Option<OwnedFd>>,
    /// The fork server's process, reaped on the launch's parent thread (which started it)
    /// when the launch ends.
    process: Mutex<Option<std::process::Child>>,
    /// The launch's parent thread.
    parent: Arc<Parent>,
    /// What the launcher knows of each child's exit.
    exits: Arc<Mutex<Exits>>,
}

/// Children's exits, as the fork server reports them.
#[derive(Default)]
struct Exits {
    /// Who waits for which pid's exit, or the exit that came before the wait.
    by_pid: HashMap<i32, ExitSlot>,
    /// Set when the fork server is gone: no exit will be reported any more.
    gone: bool,
}

/// A child's exit: awaited, or come first.
enum ExitSlot {
    Waiting(oneshot::Sender<ExitStatus>),
    Came(ExitStatus),
}

impl ForkServer {
    /// Starts the fork server from `binary` on the launch's `parent` thread (the fork server
    /// dies with it), and waits until it is ready.
    pub(crate) async fn start(binary: &Path, parent: Arc<Parent>) -> std::io::Result<Self> {
        let binary = binary.to_owned();
        let (process, requests, exits_in) = parent
            .run(move || {
                let (mut process, requests, exits_in) = spawn(&binary)?;
                match wait_ready(&requests) {
                    Ok(()) => Ok((process, requests, exits_in)),
                    Err(e) => {
                        end(&mut process);
                        Err(e)
                    }
                }
            })
            .await??;
        let exits = Arc::new(Mutex::new(Exits::default()));
        let pipe = tokio::net::unix::pipe::Receiver::from_owned_fd(exits_in)?;
        tokio::spawn(read_exits(pipe, exits.clone()));
        Ok(ForkServer {
            requests: Mutex::new(Some(requests)),
            process: Mutex::new(Some(process)),
            parent,
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
        let pid = {
            let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(requests) = requests.as_ref() else {
                return Err(std::io::Error::other("the launch is over"));
            };
            ask(requests, request, stdio)?
        };
        let (tx, rx) = oneshot::channel();
        let mut exits = self.exits.lock().unwrap_or_else(PoisonError::into_inner);
        match exits.by_pid.remove(&pid) {
            Some(ExitSlot::Came(status)) => {
                let _ = tx.send(status);
            }
            _ if exits.gone => {}
            _ => {
                exits.by_pid.insert(pid, ExitSlot::Waiting(tx));
            }
        }
        Ok((pid.unsigned_abs(), rx))
    }

    /// Closes the request socket and waits for the fork server to exit (it does once its last
    /// child is gone), killed (and what it forked) after [`ANSWER_WITHIN`].
    pub(crate) async fn close(&self) {
        if let Some(mut process) = self.take() {
            let _ = self.parent.run(move || end(&mut process)).await;
        }
    }

    /// Closes the request socket; the process, unless already taken.
    fn take(&self) -> Option<std::process::Child> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.process
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Drop for ForkServer {
    /// Not closed: the fork server is still reaped, on the parent thread, without waiting here.
    fn drop(&mut self) {
        if let Some(mut process) = self.take() {
            self.parent.post(move || end(&mut process));
        }
    }
}

/// Spawns the fork server from `binary`: the process, the request socket, and the read end of
/// the exit records.
fn spawn(binary: &Path) -> std::io::Result<(std::process::Child, OwnedFd, OwnedFd)> {
    use rustix::net::{socketpair, AddressFamily, SocketFlags, SocketType};
    let (ours, theirs) = socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?;
    let (exits_in, exits_out) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let process = std::process::Command::new(binary)
        .env(VAR, "1")
        // What makes the binary's `main` take the child's path (see `child::is_child`).
        .env(vars::NODE_ID, "")
        .env(vars::LAUNCHER_PID, std::process::id().to_string())
        .stdin(Stdio::from(theirs))
        .stdout(Stdio::from(exits_out))
        .spawn()?;
    // A fork server that hangs must not hang the launch.
    rustix::net::sockopt::set_socket_timeout(
        &ours,
        rustix::net::sockopt::Timeout::Recv,
        Some(ANSWER_WITHIN),
    )?;
    Ok((process, ours, exits_in))
}

/// Waits for the fork server to say it is ready, or why not, before the first request.
fn wait_ready(requests: &OwnedFd) -> std::io::Result<()> {
    let mut ready = [0u8; 512];
    let got = rustix::net::recv(requests, &mut ready, RecvFlags::empty())?.0;
    let said = &ready[..got.min(ready.len())];
    if said == READY {
        return Ok(());
    }
    let why = String::from_utf8_lossy(said).into_owned();
    Err(std::io::Error::other(match why.is_empty() {
        true => "it exited at start".to_string(),
        false => why,
    }))
}

/// Sends one request with its streams and reads the answer: the child's pid.
fn ask(requests: &OwnedFd, request: &Request, stdio: [OwnedFd; 3]) -> std::io::Result<i32> {
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
    match pid > 0 {
        true => Ok(pid),
        false => Err(std::io::Error::from_raw_os_error(-pid)),
    }
}

/// Waits for the fork server to exit, up to [`ANSWER_WITHIN`], then kills it; reaps it.
fn end(process: &mut std::process::Child) {
    if !exits_by(process, Instant::now() + ANSWER_WITHIN) {
        let _ = process.kill();
    }
    let _ = process.wait();
}

/// Whether `process` exits by `deadline`: watched through a pidfd, or polled where there is
/// none (Linux before 5.3).
fn exits_by(process: &mut std::process::Child, deadline: Instant) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let pidfd = rustix::process::Pid::from_raw(process.id() as i32).and_then(|pid| {
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
    });
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match &pidfd {
            Some(pidfd) => {
                let left = Timespec {
                    tv_sec: left.as_secs() as _,
                    tv_nsec: left.subsec_nanos() as _,
                };
                match poll(&mut [PollFd::new(pidfd, PollFlags::IN)], Some(&left)) {
                    Err(rustix::io::Errno::INTR) => continue,
                    polled => return polled.is_ok_and(|ready| ready > 0),
                }
            }
            None => {
                if !matches!(process.try_wait(), Ok(None)) {
                    return true;
                }
                if left.is_zero() {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
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
            Some(ExitSlot::Waiting(tx)) => {
                let _ = tx.send(status);
            }
            _ => {
                exits.by_pid.insert(pid, ExitSlot::Came(status));
            }
        }
    }
    // Gone: its children died with it, and whoever waits learns it (a closed channel).
    let mut exits = exits.lock().unwrap_or_else(PoisonError::into_inner);
    exits.gone = true;
    exits.by_pid.clear();
}
