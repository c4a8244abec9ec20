//! `local_mp` / `test_mp`: every node its own process, forked from the program binary.
//!
//! The launcher makes a private directory and a secret (each child gets only the keys it
//! needs: see [`Keyring`]), listens on a control socket for its children's reports (ready,
//! stop, failed), has its fork server ([`fork_server`]) start each child in its own process
//! group with `PR_SET_PDEATHSIG` (children die with the fork server, which dies with the
//! launcher), forwards each output line with a `[label] ` prefix, and on stop orders every
//! child to stop over its link, waits the grace period, then SIGKILLs.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustix::process::{Pid, Signal};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::UnixListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::child::vars;
use super::control::{self, LinkEvent, Order, Report};
use super::fork_server::{self, ForkServer};
use super::parent::Parent;
use super::{tmux, LaunchOptions, LaunchType, Terminal};
use crate::courier::client::Net;
use crate::dashboard::board::Board;
use crate::error::LaunchError;
use crate::log::{write_whole, Stream};
use crate::program::{ErasedNode, Layout, Restart};
use crate::supervise::{NodeOutcome, Restarts, Supervisor};
use crate::transport::frame::Secret;
use crate::transport::keys::Keyring;
use crate::transport::unix::{self, UnixDialer};

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
    /// How long children get between the stop order and SIGKILL.
    grace: Duration,
    /// The tmux session showing the node logs (`--lp_terminal tmux`), closed at the end.
    tmux: Mutex<Option<tmux::Session>>,
    /// Set once [`shutdown`](MpState::shutdown) is over.
    shut_down: std::sync::atomic::AtomicBool,
    /// What forks the children, closed once they are gone.
    fork_server: Option<Arc<ForkServer>>,
    /// The thread the children are started from, kept until they are gone.
    parent: Arc<Parent>,
}

struct Shared {
    /// Children by node id: pid, label, and whether it has exited (so we never signal a
    /// reaped pid).
    children: Mutex<HashMap<usize, ChildInfo>>,
    /// What each failed child reported over the control socket.
    reported: Mutex<HashMap<usize, String>>,
    /// How nodes said they failed, by id, until their process's fate is known (a restart
    /// replaces the node).
    last_words: Mutex<HashMap<usize, NodeOutcome>>,
    /// The nodes whose process reported ready (once each, restarts aside), for the progress
    /// line.
    ready: Mutex<HashSet<usize>>,
    /// How many nodes there are.
    total: usize,
    /// The node ids of each unit, by unit index.
    members: Vec<Vec<usize>>,
    /// Node labels by id.
    labels: Vec<String>,
    /// What the dashboard shows of each node.
    board: Arc<Board>,
    /// The units whose current process reported ready.
    up: Mutex<HashSet<usize>>,
    /// Each unit's control link (its connection's number, its orders), by unit index, while
    /// it is connected.
    links: Mutex<HashMap<usize, (u64, mpsc::UnboundedSender<Order>)>>,
}

struct ChildInfo {
    pid: i32,
    label: String,
    exited: bool,
    /// How its last process exited, once it has.
    status: Option<std::process::ExitStatus>,
}

impl Shared {
    fn new(layout: &Layout, units: &[Unit], total: usize, board: Arc<Board>) -> Self {
        Shared {
            children: Mutex::new(HashMap::new()),
            reported: Mutex::new(HashMap::new()),
            last_words: Mutex::new(HashMap::new()),
            ready: Mutex::new(HashSet::new()),
            total,
            members: units
                .iter()
                .map(|u| u.members.iter().map(|(id, _)| *id).collect())
                .collect(),
            labels: layout.labels.clone(),
            board,
            up: Mutex::new(HashSet::new()),
            links: Mutex::new(HashMap::new()),
        }
    }

    fn lock_children(&self) -> std::sync::MutexGuard<'_, HashMap<usize, ChildInfo>> {
        self.children.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_up(&self) -> std::sync::MutexGuard<'_, HashSet<usize>> {
        self.up.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_links(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<usize, (u64, mpsc::UnboundedSender<Order>)>> {
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells every connected child the program stops.
    fn order_stop(&self, failure: Option<(String, String)>) {
        for (_, orders) in self.lock_links().values() {
            let _ = orders.send(Order::Stop {
                failure: failure.clone(),
            });
        }
    }

    /// SIGKILLs every child still running, with whatever it spawned (its process group).
    fn kill_live(&self) -> Vec<String> {
        let children = self.lock_children();
        let mut signalled = Vec::new();
        // The pids are children not reaped yet (`exited` is set before reaping is observed),
        // so they are ours.
        for child in children.values().filter(|c| !c.exited) {
            if let Some(pid) = Pid::from_raw(child.pid) {
                let _ = rustix::process::kill_process_group(pid, Signal::KILL);
            }
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
    (launch_type, board): (LaunchType, Arc<Board>),
) -> Result<(Net, MpState), LaunchError> {
    let binary = program_binary(options)?;
    let parent = Arc::new(
        Parent::start()
            .map_err(|e| LaunchError::launcher("cannot start the launch's thread", e))?,
    );
    let fork_server = match options.fork_server {
        false => None,
        true => Some(ForkServer::start(&binary, parent.clone()).await),
    };
    let fork_server = match fork_server {
        None => None,
        Some(Ok(server)) => Some(Arc::new(server)),
        Some(Err(e)) => {
            tracing::warn!(target: "lp", "cannot start the fork server ({e}): each node's process is spawned from the binary");
            None
        }
    };
    let dir = unix::make_private_dir()
        .map_err(|e| LaunchError::launcher("cannot create the launch directory", e))?;
    board.publish_in(dir.clone());
    let secret =
        Secret::random().map_err(|e| LaunchError::launcher("cannot read /dev/urandom", e))?;
    let keys = Keyring::launch(&secret, layout.labels.len());
    let control_path = unix::control_socket(&dir);
    let listener = UnixListener::bind(&control_path)
        .map_err(|e| LaunchError::launcher("cannot bind the control socket", e))?;
    let net = Net::sockets(
        layout.labels.clone(),
        restartable(layout, &nodes),
        Arc::new(UnixDialer::new(dir.clone())),
        keys.clone(),
        supervisor.stop.clone(),
        options.ready_timeout,
    );
    net.set_deadlines(crate::program::deadlines(layout.labels.len(), &nodes));
    let total = nodes.len();
    let units = units(layout, nodes);
    super::limits::check(units.len())
        .map_err(|e| LaunchError::launcher("the launch is too large for this machine", e))?;
    let shared = Arc::new(Shared::new(layout, &units, total, board));
    let control = tokio::spawn(control_loop(
        listener,
        keys.member().clone(),
        (units.len(), layout.program.to_string()),
        shared.clone(),
        supervisor.clone(),
    ))
    .abort_handle();
    let state = MpState {
        dir: dir.clone(),
        shared: shared.clone(),
        exited: TaskTracker::new(),
        forwarders: TaskTracker::new(),
        control,
        grace: options.termination_notice,
        tmux: Mutex::new(None),
        shut_down: std::sync::atomic::AtomicBool::new(false),
        fork_server: fork_server.clone(),
        parent: parent.clone(),
    };
    let spawner = Arc::new(Spawner {
        binary,
        dir,
        keys,
        control_path,
        params_json: layout.params_json.clone(),
        program: layout.program,
        ready_timeout: options.ready_timeout,
        grace: options.termination_notice,
        terminal: options.terminal.clone(),
        launcher_pid: std::process::id(),
        forwarders: state.forwarders.clone(),
        launch_type,
        metrics: options.dashboard.is_some(),
        fork_server,
        parent,
        workers: worker_share(units.len()),
    });
    let tmux = match &options.terminal {
        Terminal::Tmux(dir) => open_tmux(dir, layout.program, &units).map(|session| {
            *state.lock_tmux() = Some(session);
        }),
        _ => Ok(()),
    };
    let spawned = match tmux {
        Ok(()) => spawn_all(units, &spawner, &state, &shared, supervisor).await,
        Err(e) => Err(e),
    };
    if let Err(e) = spawned {
        supervisor.stop.cancel();
        state.shutdown(supervisor).await;
        return Err(e);
    }
    state.exited.close();
    state.forwarders.close();
    Ok((net, state))
}

/// The binary every node process runs: the one the options name, else this one.
fn program_binary(options: &LaunchOptions) -> Result<PathBuf, LaunchError> {
    match &options.binary {
        Some(binary) => Ok(binary.clone()),
        None => std::env::current_exe()
            .map_err(|e| LaunchError::launcher("cannot find the program binary", e)),
    }
}

/// `--lp_terminal tmux`: a session with a window following each unit's log file.
fn open_tmux(dir: &Path, program: &str, units: &[Unit]) -> Result<tmux::Session, LaunchError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        LaunchError::launcher(
            format!("cannot create the log directory {}", dir.display()),
            e,
        )
    })?;
    let logs: Vec<PathBuf> = units.iter().map(|u| log_file(dir, &u.label)).collect();
    let windows: Vec<(String, &Path)> = units
        .iter()
        .zip(&logs)
        .map(|(u, log)| (u.label.clone(), log.as_path()))
        .collect();
    tmux::Session::open(program, &windows)
        .map_err(|e| LaunchError::launcher("cannot open the tmux session", e))
}

/// Spawns every unit's process, each watched (and restarted under its policy). It yields after
/// each spawn, so the control loop answers the children spawned so far while the rest are
/// spawned (on a current-thread runtime it would otherwise wait for the last spawn, and the
/// first children's handshakes could time out in a large launch).
async fn spawn_all(
    units: Vec<Unit>,
    spawner: &Arc<Spawner>,
    state: &MpState,
    shared: &Arc<Shared>,
    supervisor: &Arc<Supervisor>,
) -> Result<(), LaunchError> {
    for unit in units {
        let child = spawner.spawn(&unit, shared).await?;
        state.exited.spawn(watch(
            child,
            unit,
            spawner.clone(),
            shared.clone(),
            supervisor.clone(),
        ));
        tokio::task::yield_now().await;
    }
    Ok(())
}

/// Which nodes may come back after their process died (they have a restart policy), by id:
/// callers keep waiting for those rather than failing fast.
pub(crate) fn restartable(layout: &Layout, nodes: &[ErasedNode]) -> Vec<bool> {
    let mut restartable = vec![false; layout.labels.len()];
    for node in nodes {
        if let Some(slot) = restartable.get_mut(node.id) {
            *slot = node.settings.restart.is_some();
        }
    }
    restartable
}

/// Waits for a unit's process to exit; a failure stops the program, unless the unit's restart
/// policy spawns it again.
async fn watch(
    mut child: Process,
    unit: Unit,
    spawner: Arc<Spawner>,
    shared: Arc<Shared>,
    supervisor: Arc<Supervisor>,
) {
    let key = unit.key();
    let mut restarts = Restarts::new(unit.restart);
    loop {
        tokio::spawn(ready_or_fail(
            &unit,
            child.pid,
            spawner.ready_timeout,
            shared.clone(),
            supervisor.clone(),
        ));
        let status = child.wait().await;
        if let Some(info) = shared.lock_children().get_mut(&key) {
            info.exited = true;
            info.status = status.as_ref().ok().copied();
        }
        shared.lock_up().remove(&unit.index);
        if matches!(&status, Ok(s) if s.success()) {
            settle(&unit, &shared, &supervisor, NodeOutcome::Finished);
            return;
        }
        // Give the child's own failure report a moment to land on the control socket.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let reported = {
            let mut reported = shared
                .reported
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            unit.members
                .iter()
                .find_map(|(id, node)| reported.remove(id).map(|error| (node.clone(), error)))
        };
        let (node, error) = match (reported, status) {
            (Some(failure), _) => failure,
            (None, status) if supervisor.stop.is_cancelled() => {
                let killed = status.as_ref().is_ok_and(|s| s.signal().is_some());
                let outcome = match killed {
                    true => NodeOutcome::Killed,
                    false => NodeOutcome::Failed(status.map_or_else(|e| e.to_string(), describe)),
                };
                settle(&unit, &shared, &supervisor, outcome);
                return;
            }
            (None, Ok(status)) => (unit.label.clone(), describe(status)),
            (None, Err(e)) => (unit.label.clone(), format!("cannot wait for it: {e}")),
        };
        unit.ids().for_each(|id| shared.board.restarting(id));
        if !restarts.next(&node, &error, &supervisor.stop).await {
            supervisor.fail(&node, error.clone());
            settle(&unit, &shared, &supervisor, NodeOutcome::Failed(error));
            return;
        }
        renew(&unit, &shared);
        child = match spawner.spawn(&unit, &shared).await {
            Ok(child) => child,
            Err(e) => {
                supervisor.fail(&node, format!("cannot restart it: {e}"));
                return;
            }
        };
    }
}

/// `unit`'s process is restarted: its nodes are new, and what the old ones said is moot.
fn renew(unit: &Unit, shared: &Shared) {
    let mut last_words = shared
        .last_words
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    for id in unit.ids() {
        last_words.remove(&id);
        shared.board.restarted(id);
    }
}

/// Records how each node of `unit`, whose process ended for good, ended: what it said (a
/// failure), or else `otherwise`; a node already recorded (it returned) keeps its outcome.
fn settle(unit: &Unit, shared: &Shared, supervisor: &Supervisor, otherwise: NodeOutcome) {
    let mut last_words = shared
        .last_words
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    for (id, _) in &unit.members {
        let said = last_words.remove(id);
        if supervisor.outcome_of(*id).is_none() {
            supervisor.ended(*id, said.unwrap_or_else(|| otherwise.clone()));
        }
    }
}

/// Fails the program when the process `pid` of `unit` has not reported ready within
/// `timeout`: a constructor that never returns must not leave the program running silently.
fn ready_or_fail(
    unit: &Unit,
    pid: u32,
    timeout: Duration,
    shared: Arc<Shared>,
    supervisor: Arc<Supervisor>,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let (index, key, label) = (unit.index, unit.key(), unit.label.clone());
    async move {
        tokio::time::sleep(timeout).await;
        let same_process = shared
            .lock_children()
            .get(&key)
            .is_some_and(|c| !c.exited && c.pid as u32 == pid);
        if same_process && !shared.lock_up().contains(&index) && !supervisor.stop.is_cancelled() {
            supervisor.fail(
                &label,
                format!("not up after {timeout:?}: its constructor has not returned"),
            );
        }
    }
}

/// Each of `processes` node processes' share of this machine's vCPUs, as the worker threads of
/// its runtime; at least one. They share the vCPUs: with a worker per vCPU each, 256 nodes on 2
/// vCPUs would start 512 workers, and each costs the node's start, stop and memory.
fn worker_share(processes: usize) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    cpus.div_ceil(processes.max(1))
}

/// How the launcher starts (and restarts) its children.
struct Spawner {
    binary: PathBuf,
    /// The launch's private directory.
    dir: PathBuf,
    /// Every key of the launch: each child gets those of its nodes and of the nodes they call.
    keys: Keyring,
    /// The launcher's control socket.
    control_path: PathBuf,
    params_json: String,
    program: &'static str,
    ready_timeout: Duration,
    /// How long a child's runs get to return after the stop.
    grace: Duration,
    /// Where children's output goes.
    terminal: Terminal,
    /// The launcher's pid, which children follow (`LP_LAUNCHER_PID`).
    launcher_pid: u32,
    /// The output forwarding tasks.
    forwarders: TaskTracker,
    /// `local_mp` or `test_mp`.
    launch_type: LaunchType,
    /// Whether children count calls and publish their counters (for the dashboard).
    metrics: bool,
    /// What forks the children, when it started.
    fork_server: Option<Arc<ForkServer>>,
    /// The thread children are spawned from (without the fork server).
    parent: Arc<Parent>,
    /// The worker threads of each child's runtime (see [`worker_share`]).
    workers: usize,
}

impl Spawner {
    /// An anonymous file (the child's standard input) holding the keys `unit`'s process needs: the member key, its nodes' and those of the
    /// nodes they hold handles to.
    fn keys_file(&self, unit: &Unit) -> Result<std::os::fd::OwnedFd, LaunchError> {
        let failed = |e: rustix::io::Errno| {
            LaunchError::launcher(
                format!("cannot pass its keys to `{}`", unit.label),
                std::io::Error::from(e),
            )
        };
        let file =
            rustix::fs::memfd_create("lp-keys", rustix::fs::MemfdFlags::CLOEXEC).map_err(failed)?;
        let text = self.keys.narrowed(unit.keys.iter().copied()).to_text();
        let mut rest = text.as_bytes();
        while !rest.is_empty() {
            match rustix::io::write(&file, rest) {
                Ok(n) => rest = &rest[n..],
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(failed(e)),
            }
        }
        // The child reads from the start: it shares this open file, and its offset.
        rustix::fs::seek(&file, rustix::fs::SeekFrom::Start(0)).map_err(failed)?;
        Ok(file)
    }

    /// The environment of `unit`'s process.
    fn env(&self, unit: &Unit) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> =
            unit.env.iter().map(|(k, v)| (k.into(), v.into())).collect();
        // Paths as they are (not necessarily UTF-8).
        let ours: [(&str, OsString); 12] = [
            (vars::NODE_ID, unit.ids.clone().into()),
            (vars::RUN_ENABLED, unit.runs.clone().into()),
            (vars::PARAMS, self.params_json.clone().into()),
            (vars::PROGRAM, self.program.into()),
            (vars::DIR, self.dir.clone().into()),
            (vars::LAUNCHER, self.control_path.clone().into()),
            (vars::LAUNCH_TYPE, self.launch_type.to_string().into()),
            (
                vars::READY_TIMEOUT_MS,
                self.ready_timeout.as_millis().to_string().into(),
            ),
            (vars::UNIT, unit.index.to_string().into()),
            (vars::GRACE_MS, self.grace.as_millis().to_string().into()),
            (vars::LAUNCHER_PID, self.launcher_pid.to_string().into()),
            (vars::WORKERS, self.workers.to_string().into()),
        ];
        env.extend(ours.into_iter().map(|(k, v)| (k.into(), v)));
        if self.metrics {
            env.push((crate::metrics::ENV.into(), "1".into()));
        }
        env
    }

    /// Starts `unit`'s process: forked by the fork server, or else spawned from the binary.
    async fn start(&self, unit: &Unit) -> Result<(Process, [OwnedFd; 2]), LaunchError> {
        let failed = |e: std::io::Error| {
            LaunchError::launcher(
                format!(
                    "cannot spawn `{}` for `{}`",
                    self.binary.display(),
                    unit.label
                ),
                e,
            )
        };
        let env = self.env(unit);
        let pipe = || rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC);
        let ((out, out_end), (err, err_end)) = (
            pipe().map_err(|e| failed(e.into()))?,
            pipe().map_err(|e| failed(e.into()))?,
        );
        // The keys go through a file only the child inherits, never the environment.
        let stdio = [self.keys_file(unit)?, out_end, err_end];
        let forked = self
            .fork_server
            .as_ref()
            .zip(fork_server::Request::new(&env));
        let process = match forked {
            Some((server, request)) => {
                let (pid, exit) = server.fork(&request, stdio).map_err(failed)?;
                Process {
                    pid,
                    exit: Exit::Forked(exit),
                }
            }
            None => {
                let [input, output, error] = stdio;
                let mut cmd = tokio::process::Command::new(&self.binary);
                cmd.envs(env)
                    .stdin(Stdio::from(input))
                    .stdout(Stdio::from(output))
                    .stderr(Stdio::from(error))
                    .process_group(0);
                // No hook runs between fork and exec (the child follows the launcher itself,
                // see `child::follow_launcher`): so the standard library spawns with
                // `posix_spawn`, which does not copy the launcher's page tables as `fork` does.
                // From the launch's thread, which the child dies with.
                let child = self
                    .parent
                    .run(move || cmd.spawn())
                    .await
                    .and_then(|spawned| spawned)
                    .map_err(failed)?;
                Process {
                    pid: child.id().unwrap_or(0),
                    exit: Exit::Spawned(child),
                }
            }
        };
        Ok((process, [out, err]))
    }

    /// Starts `unit`'s process, records it, and forwards its output.
    async fn spawn(&self, unit: &Unit, shared: &Shared) -> Result<Process, LaunchError> {
        let (process, [out, err]) = self.start(unit).await?;
        let pid = process.pid as i32;
        shared.lock_children().insert(
            unit.key(),
            ChildInfo {
                pid,
                label: unit.label.clone(),
                exited: false,
                status: None,
            },
        );
        let ids: Vec<usize> = unit.ids().collect();
        shared.board.spawned(&ids, pid.unsigned_abs(), &unit.label);
        let sink = Sink::open(&self.terminal, &unit.label).map_err(|e| {
            LaunchError::launcher(format!("cannot open the log file of `{}`", unit.label), e)
        })?;
        let label: Arc<str> = unit.label.as_str().into();
        let receiver = |fd: OwnedFd| tokio::net::unix::pipe::Receiver::from_owned_fd(fd);
        let (out, err) = match (receiver(out), receiver(err)) {
            (Ok(out), Ok(err)) => (out, err),
            (Err(e), _) | (_, Err(e)) => {
                return Err(LaunchError::launcher(
                    format!("cannot read the output of `{}`", unit.label),
                    e,
                ))
            }
        };
        self.forwarders
            .spawn(forward(out, sink.clone(), false, label.clone()));
        self.forwarders.spawn(forward(err, sink, true, label));
        Ok(process)
    }
}

/// A child process, and how to learn its exit.
struct Process {
    pid: u32,
    exit: Exit,
}

enum Exit {
    /// The launcher's own child.
    Spawned(tokio::process::Child),
    /// The fork server's: it reports the exit.
    Forked(tokio::sync::oneshot::Receiver<std::process::ExitStatus>),
}

impl Process {
    /// Waits for the process to exit.
    async fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        match &mut self.exit {
            Exit::Spawned(child) => child.wait().await,
            Exit::Forked(exit) => exit
                .await
                .map_err(|_| std::io::Error::other("the fork server is gone")),
        }
    }
}

/// What one child process runs: a node, or the nodes of a `process` block.
struct Unit {
    /// Its index among the launch's units (`LP_UNIT`).
    index: usize,
    /// The node's label, or the `process` block's name.
    label: String,
    /// The ids and labels of its nodes.
    members: Vec<(usize, String)>,
    /// `LP_NODE_ID`: the ids, comma-separated.
    ids: String,
    /// `LP_RUN_ENABLED`: whether each node runs, comma-separated.
    runs: String,
    /// The environment its nodes' blocks ask for.
    env: Vec<(String, String)>,
    /// Its restart policy: its nodes' when they all have one (the first node's), else none.
    restart: Option<Restart>,
    /// The nodes whose keys its process gets (see [`super::key_ids`]).
    keys: Vec<usize>,
}

impl Unit {
    fn new(index: usize, label: String, nodes: &[ErasedNode]) -> Self {
        let join =
            |f: &dyn Fn(&ErasedNode) -> String| nodes.iter().map(f).collect::<Vec<_>>().join(",");
        let restart = match nodes.iter().all(|n| n.settings.restart.is_some()) {
            true => nodes.first().and_then(|n| n.settings.restart),
            false => None,
        };
        Unit {
            index,
            label,
            members: nodes.iter().map(|n| (n.id, n.label.clone())).collect(),
            ids: join(&|n| n.id.to_string()),
            runs: join(&|n| if n.has_run { "1" } else { "0" }.to_string()),
            env: nodes
                .iter()
                .flat_map(|n| n.settings.env.iter().cloned())
                .collect(),
            restart,
            keys: super::key_ids(nodes),
        }
    }

    /// Its nodes' ids.
    fn ids(&self) -> impl Iterator<Item = usize> + '_ {
        self.members.iter().map(|(id, _)| *id)
    }

    /// The key of its process in the launcher's table: its first node's id.
    fn key(&self) -> usize {
        self.members.first().map_or(0, |(id, _)| *id)
    }
}

/// Groups nodes into processes: one per node, except that the nodes of a `process` block share
/// one.
fn units(layout: &Layout, nodes: Vec<ErasedNode>) -> Vec<Unit> {
    crate::program::by_process(layout, nodes)
        .into_iter()
        .enumerate()
        .map(|(index, (label, nodes))| Unit::new(index, label, &nodes))
        .collect()
}

fn describe(status: std::process::ExitStatus) -> String {
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
            Terminal::OutputToFiles(dir) | Terminal::Tmux(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = log_file(dir, label);
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
            Sink::Terminal(prefix) => {
                let stream = match is_stderr {
                    true => Stream::Stderr,
                    false => Stream::Stdout,
                };
                write_whole(stream, format!("{prefix}{text}\n").as_bytes());
            }
            Sink::File(file) => {
                let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = writeln!(file, "{text}");
            }
        }
    }
}

/// The log file of the process labelled `label` under `dir`.
fn log_file(dir: &Path, label: &str) -> PathBuf {
    dir.join(format!("{}.log", label.replace('/', "_")))
}

/// Copies a child's output, line by line, to its sink (and keeps the last lines of `label`
/// for the dashboard).
async fn forward(stream: impl AsyncRead + Unpin, sink: Sink, is_stderr: bool, label: Arc<str>) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                crate::dashboard::logs::push(&label, text);
                sink.write_line(text, is_stderr);
            }
        }
    }
}

/// Follows the children's control links until the launch ends.
async fn control_loop(
    listener: UnixListener,
    member: Secret,
    (units, program): (usize, String),
    shared: Arc<Shared>,
    supervisor: Arc<Supervisor>,
) {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    // The accept loop ends with this one (which is aborted when the launch ends).
    let accepting = CancellationToken::new();
    let _accepting = accepting.clone().drop_guard();
    tokio::spawn(control::accept(
        listener, member, units, program, events_tx, accepting,
    ));
    while let Some(event) = events.recv().await {
        match event {
            LinkEvent::Joined {
                unit, conn, orders, ..
            } => {
                if supervisor.stop.is_cancelled() {
                    let _ = orders.send(Order::Stop { failure: None });
                }
                shared.lock_links().insert(unit, (conn, orders));
            }
            LinkEvent::Said { unit, report, .. } => {
                handle_report(unit, report, &shared, &supervisor)
            }
            // The child's exit is what counts (see `watch`).
            LinkEvent::Closed { unit, conn } => {
                let mut links = shared.lock_links();
                // Unless the unit's restarted process linked already.
                if links
                    .get(&unit)
                    .is_some_and(|(current, _)| *current == conn)
                {
                    links.remove(&unit);
                }
            }
            LinkEvent::Refused(why) => {
                tracing::warn!(target: "lp", "refused a control connection: {why}");
            }
        }
    }
}

fn handle_report(unit: usize, report: Report, shared: &Shared, supervisor: &Supervisor) {
    let label = |id: usize| shared.labels.get(id).cloned().unwrap_or_default();
    match report {
        // Its children write their counters to files in the launch directory.
        Report::Join { .. } | Report::Done | Report::Stats { .. } => {}
        Report::Ready { .. } => {
            shared.lock_up().insert(unit);
            shared
                .board
                .up(shared.members.get(unit).map_or(&[], Vec::as_slice));
            // No barrier locally: each child runs as soon as it serves.
            if let Some((_, orders)) = shared.lock_links().get(&unit) {
                let _ = orders.send(Order::Start { book: Vec::new() });
            }
            progress(unit, shared);
        }
        Report::Stop { node } => {
            if !supervisor.stop.is_cancelled() {
                let who = node.map_or_else(
                    || format!("process {unit}"),
                    |n| format!("node `{}`", label(n)),
                );
                tracing::info!(target: "lp", "{who} called stop(): stopping every node");
            }
            supervisor.stop.cancel();
        }
        Report::Failed { node, error } => {
            shared
                .reported
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(node, error);
        }
        Report::Overran { node, error } => {
            supervisor.ended(node, NodeOutcome::Killed);
            supervisor.fail_always(&label(node), error);
        }
        Report::Ended {
            node,
            outcome: NodeOutcome::Finished,
        } => supervisor.ended(node, NodeOutcome::Finished),
        Report::Ended { node, outcome } => {
            shared
                .last_words
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(node, outcome);
        }
    }
}

/// Shows launch progress: a line once every node is ready (and a live count on a terminal).
fn progress(unit: usize, shared: &Shared) {
    let ready = {
        let mut ready = shared.ready.lock().unwrap_or_else(PoisonError::into_inner);
        let before = ready.len();
        ready.extend(shared.members.get(unit).into_iter().flatten().copied());
        if ready.len() == before {
            return;
        }
        ready.len()
    };
    let total = shared.total;
    let terminal = std::io::stderr().is_terminal();
    if ready == total {
        if terminal {
            eprint!("\r\x1b[K");
        }
        tracing::info!(target: "lp", "launched {ready}/{total} nodes");
    } else if terminal {
        eprint!("\r\x1b[Klp: {ready}/{total} nodes ready");
    }
}

/// How long past the grace period a child gets to say which of its nodes overstayed it (past
/// its own [`RUN_MARGIN`](crate::supervise::RUN_MARGIN)).
const REPORT_MARGIN: Duration = Duration::from_millis(750);

impl MpState {
    /// Writes where the launch's dashboard is into its private directory, for `lpc top`
    /// (only this user may read it: the URL holds the token).
    pub(crate) fn publish_dashboard(&self, url: &str) {
        use std::os::unix::fs::OpenOptionsExt;
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(self.dir.join(lp_dirs::DASHBOARD_URL_FILE))
            .and_then(|mut file| file.write_all(url.as_bytes()));
        if let Err(e) = written {
            tracing::debug!(target: "lp", "cannot write the dashboard's address: {e}");
        }
    }

    /// How the process of node `id` exited, once it has (its last process, after restarts).
    pub(crate) fn exit_status(&self, id: usize) -> Option<std::process::ExitStatus> {
        let unit = self.shared.members.iter().find(|m| m.contains(&id))?;
        let key = *unit.first()?;
        self.shared.lock_children().get(&key)?.status
    }

    /// SIGKILLs every child still running, at once; their labels.
    pub(crate) fn kill(&self) -> Vec<String> {
        self.shared.kill_live()
    }

    fn lock_tmux(&self) -> std::sync::MutexGuard<'_, Option<tmux::Session>> {
        self.tmux.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Resolves when the program stops by itself: a stop request, a failure, or every child
    /// exited.
    pub(crate) async fn finished(&self, stop: &tokio_util::sync::CancellationToken) {
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = self.exited.wait() => {}
        }
    }

    /// Orders every child to stop (over its control link), gives them the grace period (and a
    /// moment to report a node that overstayed it themselves), SIGKILLs what is left; then
    /// drains the output and removes the directory. A grace period of zero kills at once, and
    /// that is no failure.
    pub(crate) async fn shutdown(&self, supervisor: &Supervisor) {
        let failure = supervisor.outcome().err().and_then(|e| match e {
            LaunchError::NodeFailed { node, error, .. } => Some((node, error)),
            _ => None,
        });
        self.shared.order_stop(failure);
        let ended = !self.grace.is_zero()
            && tokio::time::timeout(self.grace + REPORT_MARGIN, self.exited.wait())
                .await
                .is_ok();
        if !ended {
            let killed = self.kill();
            if let (Some(first), false) = (killed.first(), self.grace.is_zero()) {
                supervisor.fail_always(
                    first,
                    format!(
                        "did not stop within the {:?} grace period; killed",
                        self.grace
                    ),
                );
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), self.exited.wait()).await;
        }
        if let Some(server) = &self.fork_server {
            server.close().await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), self.forwarders.wait()).await;
        self.lock_tmux().take();
        self.control.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
        self.shut_down
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for MpState {
    /// A launch dropped without a stop (a test that ends early, a panic): the program stops as
    /// with [`shutdown`](MpState::shutdown) — the order, the grace period, then SIGKILL — in
    /// the background; nothing outlives it (a child also dies with the launch's parent thread).
    fn drop(&mut self) {
        if self.shut_down.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        self.shared.order_stop(None);
        let (shared, dir, grace) = (self.shared.clone(), self.dir.clone(), self.grace);
        let control = self.control.clone();
        // Kept until the children are gone, then dropped: the fork server exits once its
        // last child is gone (or is killed 10 s later); the children die with the parent
        // thread.
        let fork_server = self.fork_server.take();
        let parent = self.parent.clone();
        let _ = std::thread::Builder::new()
            .name("lp-stop".into())
            .spawn(move || {
                let deadline = std::time::Instant::now() + grace + REPORT_MARGIN;
                while std::time::Instant::now() < deadline
                    && shared.lock_children().values().any(|c| !c.exited)
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                shared.kill_live();
                drop(fork_server);
                drop(parent);
                control.abort();
                let _ = std::fs::remove_dir_all(&dir);
            });
    }
}
