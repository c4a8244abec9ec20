//! The fork server's process: it forks a child per request, reaps them, and reports each exit
//! on a pipe; each child returns from [`serve_if_asked`] as a node process.

use std::ffi::OsString;
use std::io::IoSliceMut;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};
use std::process::ExitCode;

use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendFlags};

use super::{decode, MAX_REQUEST, READY, RECORD, VAR};
use crate::launch::child::vars;

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
    crate::launch::child::follow_launcher().map_err(std::io::Error::other)?;
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
