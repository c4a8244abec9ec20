//! `local_mp` / `test_mp`: every node its own process, spawned from the program binary.
//!
//! The launcher makes a private directory and a secret, listens on a control socket for its
//! children's reports (ready, stop, failed), spawns each child in its own process group with
//! `PR_SET_PDEATHSIG` (children die with the launcher), forwards each output line with a
//! `[label] ` prefix, and on stop sends SIGTERM, waits the grace period, then SIGKILLs.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::UnixListener;
use tokio_util::task::TaskTracker;

use super::child::vars;
use super::{LaunchOptions, Terminal};
use crate::courier::client::Net;
use crate::error::LaunchError;
use crate::program::{ErasedNode, Layout};
use crate::supervise::Supervisor;
use crate::transport::frame::{self, Control, Secret, ToServer};
use crate::transport::unix;

/// A running multi-process program.
pub(crate) struct MpState {
    /// The launch's private directory, removed at the end.
    dir: PathBuf,
    /// What the launcher knows about its children, shared with its tasks.
    shared: Arc<Shared>,
    /// One task per child waiting for it to exit; `wait` means "every child exited".
    exited: TaskTracker,
    /// The output forwarding tasks, drained before returning so no line is lost.
    forwarders: TaskTracker,
    /// The control socket's accept loop, ended with the launch.
    control: tokio::task::AbortHandle,
    /// How long children get between SIGTERM and SIGKILL.
    grace: Duration,
}

struct Shared {
    /// Children by node id: pid, label, and whether it has exited (so we never signal a
    /// reaped pid).
    children: Mutex<HashMap<usize, ChildInfo>>,
    /// What each failed child reported over the control socket.
    reported: Mutex<HashMap<usize, String>>,
    /// How many children reported ready, for the progress line.
    ready: AtomicUsize,
    /// How many children there are.
    total: usize,
    /// Node labels by id.
    labels: Vec<String>,
}

struct ChildInfo {
    pid: i32,
    label: String,
    exited: bool,
}

impl Shared {
    fn lock_children(&self) -> std::sync::MutexGuard<'_, HashMap<usize, ChildInfo>> {
        self.children.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `signal` to every child still running (to its process group when `group`).
    fn signal_live(&self, signal: i32, group: bool) -> Vec<String> {
        let children = self.lock_children();
        let mut signalled = Vec::new();
        for child in children.values().filter(|c| !c.exited) {
            let target = if group { -child.pid } else { child.pid };
            // SAFETY: kill(2) has no memory-safety preconditions; the pid is a child we have
            // not reaped yet (`exited` is set before reaping is observed), so it is ours.
            unsafe { libc::kill(target, signal) };
            signalled.push(child.label.clone());
        }
        signalled.sort();
        signalled
    }
}

pub(crate) async fn start(
    layout: &Layout,
    nodes: Vec<ErasedNode>,
    options: &LaunchOptions,
    supervisor: &Arc<Supervisor>,
) -> Result<(Net, MpState), LaunchError> {
    let binary = match &options.binary {
        Some(binary) => binary.clone(),
        None => std::env::current_exe()
            .map_err(|e| LaunchError::launcher("cannot find the program binary", e))?,
    };
    let dir = unix::make_private_dir()
        .map_err(|e| LaunchError::launcher("cannot create the launch directory", e))?;
    let secret =
        Secret::random().map_err(|e| LaunchError::launcher("cannot read /dev/urandom", e))?;
    let control_path = unix::control_socket(&dir);
    let listener = UnixListener::bind(&control_path)
        .map_err(|e| LaunchError::launcher("cannot bind the control socket", e))?;
    let shared = Arc::new(Shared {
        children: Mutex::new(HashMap::new()),
        reported: Mutex::new(HashMap::new()),
        ready: AtomicUsize::new(0),
        total: nodes.len(),
        labels: layout.labels.clone(),
    });
    let control = tokio::spawn(control_loop(
        listener,
        secret.clone(),
        shared.clone(),
        supervisor.clone(),
    ))
    .abort_handle();
    let net = Net::unix(
        layout.labels.clone(),
        dir.clone(),
        secret.clone(),
        supervisor.stop.clone(),
        options.ready_timeout,
    );
    let state = MpState {
        dir: dir.clone(),
        shared: shared.clone(),
        exited: TaskTracker::new(),
        forwarders: TaskTracker::new(),
        control,
        grace: options.termination_notice,
    };
    let launcher_pid = std::process::id() as i32;
    for unit in units(layout, nodes) {
        let ids: Vec<String> = unit.nodes.iter().map(|n| n.id.to_string()).collect();
        let runs: Vec<&str> = unit
            .nodes
            .iter()
            .map(|n| if n.has_run { "1" } else { "0" })
            .collect();
        let mut cmd = tokio::process::Command::new(&binary);
        cmd.envs(
            unit.nodes
                .iter()
                .flat_map(|n| n.env.iter().map(|(k, v)| (k, v))),
        )
        .env(vars::NODE_ID, ids.join(","))
        .env(vars::RUN_ENABLED, runs.join(","))
        .env(vars::PARAMS, &layout.params_json)
        .env(vars::PROGRAM, layout.program)
        .env(vars::DIR, &dir)
        .env(vars::SECRET, secret.to_hex())
        .env(vars::LAUNCHER, &control_path)
        .env(
            vars::READY_TIMEOUT_MS,
            options.ready_timeout.as_millis().to_string(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
        // SAFETY: the closure runs in the forked child before exec and only makes
        // async-signal-safe calls (prctl, getppid); it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The launcher may have died between fork and prctl.
                if libc::getppid() != launcher_pid {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                supervisor.stop.cancel();
                state.shutdown(supervisor).await;
                return Err(LaunchError::launcher(
                    &format!("cannot spawn `{}` for `{}`", binary.display(), unit.label),
                    e,
                ));
            }
        };
        let pid = child.id().map_or(0, |p| p as i32);
        let key = unit.nodes.first().map_or(0, |n| n.id);
        shared.lock_children().insert(
            key,
            ChildInfo {
                pid,
                label: unit.label.clone(),
                exited: false,
            },
        );
        let sink = match Sink::open(&options.terminal, &unit.label) {
            Ok(sink) => sink,
            Err(e) => {
                supervisor.stop.cancel();
                state.shutdown(supervisor).await;
                return Err(LaunchError::launcher(
                    &format!("cannot open the log file of `{}`", unit.label),
                    e,
                ));
            }
        };
        if let Some(out) = child.stdout.take() {
            state.forwarders.spawn(forward(out, sink.clone(), false));
        }
        if let Some(err) = child.stderr.take() {
            state.forwarders.spawn(forward(err, sink, true));
        }
        let shared = shared.clone();
        let supervisor = supervisor.clone();
        let members: Vec<(usize, String)> =
            unit.nodes.into_iter().map(|n| (n.id, n.label)).collect();
        let label = unit.label;
        state.exited.spawn(async move {
            let status = child.wait().await;
            if let Some(info) = shared.lock_children().get_mut(&key) {
                info.exited = true;
            }
            if matches!(&status, Ok(s) if s.success()) {
                return;
            }
            // Give the child's own failure report a moment to land on the control socket.
            tokio::time::sleep(Duration::from_millis(100)).await;
            let reported = {
                let mut reported = shared
                    .reported
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                members
                    .iter()
                    .find_map(|(id, node)| reported.remove(id).map(|error| (node.clone(), error)))
            };
            match (reported, status) {
                (Some((node, error)), _) => supervisor.fail(&node, error),
                (None, _) if supervisor.stop.is_cancelled() => {}
                (None, Ok(status)) => supervisor.fail(&label, describe(status)),
                (None, Err(e)) => supervisor.fail(&label, format!("cannot wait for it: {e}")),
            }
        });
    }
    state.exited.close();
    state.forwarders.close();
    Ok((net, state))
}

/// What one child process runs: a node, or the nodes of a `process` block.
struct Unit {
    /// The node's label, or the `process` block's name.
    label: String,
    nodes: Vec<ErasedNode>,
}

/// Groups nodes into processes: one per node, except that the nodes of a `process` block share
/// one.
fn units(layout: &Layout, nodes: Vec<ErasedNode>) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    let mut blocks: HashMap<&'static str, usize> = HashMap::new();
    for node in nodes {
        match layout.processes.get(node.id).copied().flatten() {
            Some(block) => match blocks.get(block) {
                Some(&i) => units[i].nodes.push(node),
                None => {
                    blocks.insert(block, units.len());
                    units.push(Unit {
                        label: block.to_string(),
                        nodes: vec![node],
                    });
                }
            },
            None => units.push(Unit {
                label: node.label.clone(),
                nodes: vec![node],
            }),
        }
    }
    units
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("its process exited with status {code}"),
        (None, Some(signal)) => format!("its process was killed by signal {signal}"),
        _ => format!("its process ended: {status}"),
    }
}

/// Where one child's output lines go.
#[derive(Clone)]
enum Sink {
    /// The launcher's stdout/stderr, each line after this prefix (`[label] `, maybe coloured).
    Terminal(Arc<str>),
    /// The child's log file.
    File(Arc<Mutex<std::fs::File>>),
}

impl Sink {
    fn open(terminal: &Terminal, label: &str) -> std::io::Result<Sink> {
        match terminal {
            Terminal::CurrentTerminal => {
                let prefix = if std::io::stdout().is_terminal() {
                    // One of six ANSI colours, chosen by the label, so a node keeps its colour.
                    let colour = 31 + label.bytes().map(usize::from).sum::<usize>() % 6;
                    format!("\x1b[{colour}m[{label}]\x1b[0m ")
                } else {
                    format!("[{label}] ")
                };
                Ok(Sink::Terminal(prefix.into()))
            }
            Terminal::OutputToFiles(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(format!("{}.log", label.replace('/', "_")));
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                Ok(Sink::File(Arc::new(Mutex::new(file))))
            }
        }
    }

    fn write_line(&self, text: &str, is_stderr: bool) {
        match self {
            Sink::Terminal(prefix) if is_stderr => {
                let _ = writeln!(std::io::stderr().lock(), "{prefix}{text}");
            }
            Sink::Terminal(prefix) => {
                let _ = writeln!(std::io::stdout().lock(), "{prefix}{text}");
            }
            Sink::File(file) => {
                let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = writeln!(file, "{text}");
            }
        }
    }
}

/// Copies a child's output, line by line, to its sink.
async fn forward(stream: impl AsyncRead + Unpin, sink: Sink, is_stderr: bool) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                sink.write_line(text.trim_end_matches(['\n', '\r']), is_stderr);
            }
        }
    }
}

/// Accepts the children's reports until the launch ends.
async fn control_loop(
    listener: UnixListener,
    secret: Secret,
    shared: Arc<Shared>,
    supervisor: Arc<Supervisor>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (secret, shared, supervisor) = (secret.clone(), shared.clone(), supervisor.clone());
        tokio::spawn(async move {
            let (mut reader, mut writer) = unix::framed(stream);
            if !unix::accept_hello(&mut reader, &mut writer, &secret).await {
                return;
            }
            while let Some(Ok(bytes)) = reader.next().await {
                let Ok(ToServer::Control(message)) = frame::decode::<ToServer>(&bytes) else {
                    return;
                };
                handle_control(message, &shared, &supervisor);
            }
        });
    }
}

fn handle_control(message: Control, shared: &Shared, supervisor: &Supervisor) {
    let label = |id: usize| shared.labels.get(id).cloned().unwrap_or_default();
    match message {
        Control::Ready { .. } => {
            let ready = shared.ready.fetch_add(1, Ordering::Relaxed) + 1;
            let total = shared.total;
            let terminal = std::io::stderr().is_terminal();
            if ready == total {
                let end = if terminal { "\r\x1b[K" } else { "" };
                eprintln!("{end}lp: launched {ready}/{total} nodes");
            } else if terminal {
                eprint!("\r\x1b[Klp: {ready}/{total} nodes ready");
            }
        }
        Control::Stop { node } => {
            if !supervisor.stop.is_cancelled() {
                eprintln!(
                    "lp: node `{}` called stop(): stopping every node",
                    label(node)
                );
            }
            supervisor.stop.cancel();
        }
        Control::Failed { node, error } => {
            shared
                .reported
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(node, error);
        }
    }
}

impl MpState {
    /// Resolves when the program stops by itself: a stop request, a failure, or every child
    /// exited.
    pub(crate) async fn finished(&self, stop: &tokio_util::sync::CancellationToken) {
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = self.exited.wait() => {}
        }
    }

    /// SIGTERM to every child, the grace period, SIGKILL to what is left; then drains the
    /// output and removes the directory.
    pub(crate) async fn shutdown(&self, supervisor: &Supervisor) {
        self.shared.signal_live(libc::SIGTERM, false);
        if tokio::time::timeout(self.grace, self.exited.wait())
            .await
            .is_err()
        {
            let killed = self.shared.signal_live(libc::SIGKILL, true);
            if let Some(first) = killed.first() {
                supervisor.fail(
                    first,
                    format!(
                        "did not stop within the {:?} grace period; killed",
                        self.grace
                    ),
                );
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), self.exited.wait()).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), self.forwarders.wait()).await;
        self.control.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for MpState {
    fn drop(&mut self) {
        // A launch dropped without stop (e.g. a failing test): leave no process behind.
        self.shared.signal_live(libc::SIGKILL, true);
        self.control.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
