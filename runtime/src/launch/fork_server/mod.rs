//! The fork server of `local_mp`/`test_mp`: one process of the program binary, started before
//! the first node, that forks every node process at the launcher's request.
//!
//! Spawning each node from the launcher costs it an exec of the program binary (the dynamic
//! loader relocating a binary of many megabytes, glibc probing the CPU), and the spawn copies
//! the launcher's descriptor table, which holds three descriptors per node already spawned: so
//! spawning N nodes cost N² in all. The fork server is exec'd once, holds a handful of
//! descriptors, and forks a child that carries on as if freshly exec'd: it sets the
//! environment and standard streams the launcher sent, its own process group, and runs the
//! node (`child::main`).
//!
//! The launcher sends a request per process on a `SOCK_SEQPACKET` socket: the environment, and
//! the child's standard input, output and error as descriptors; the answer is the pid, or an
//! errno. The fork server reaps its children and writes `(pid, wait status)` for each on a
//! pipe, which the launcher reads as the children's exit statuses. It dies with the launcher
//! (`PR_SET_PDEATHSIG`), its children with it; it exits once the launcher closed its end and
//! its last child is gone.
//!
//! [`launcher`] is the launcher's end: the launch's parent thread (`super::parent`) starts the
//! fork server (which dies with that thread) and reaps it; the launcher sends each request and
//! reads its answer. [`server`] is the fork server's process.

mod launcher;
mod server;

use std::ffi::OsString;

pub(crate) use launcher::ForkServer;
pub(crate) use server::{serve_if_asked, Role};

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
