//! Launching a program: the launch types, their options, the running program, and the `main`
//! every program binary runs.

pub(crate) mod child;
pub(crate) mod cluster;
pub(crate) mod control;
pub(crate) mod env;
mod fork_server;
pub(crate) mod host;
mod limits;
mod local_mp;
mod local_mt;
mod parent;
mod tmux;
pub(crate) mod tool;

#[cfg(feature = "sim")]
pub(crate) use local_mp::restartable;

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::courier::client::{Net, DEFAULT_READY_TIMEOUT};
use crate::courier::{Courier, Serve};
use crate::dashboard::board::Board;
use crate::dashboard::Dashboard;
use crate::error::LaunchError;
use crate::flags::{self, FlagValues};
use crate::handle::Handle;
use crate::program::{GroupRef, NodeRef, Program};
use crate::supervise::Supervisor;

/// How a program is launched (`--lp_launch_type`, also `--launch-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LaunchType {
    /// Every node in this process, as tasks and threads; calls skip the network.
    LocalMt,
    /// Every node its own OS process, spawned from the program binary; calls over Unix sockets.
    LocalMp,
    /// As `LocalMt`, for tests: [`launch`] returns with handles.
    TestMt,
    /// As `LocalMp`, for tests: [`launch`] returns with handles (set
    /// [`LaunchOptions::binary`] to the program binary).
    TestMp,
    /// On Kubernetes: `--lp_launch_type k8s` on the program binary writes (and applies) the
    /// manifests; what a node's [`Context::launch_type`](crate::Context::launch_type) says
    /// in its pod.
    K8s,
    /// On Slurm: `--lp_launch_type slurm` on the program binary writes (and submits) the batch
    /// script; what a node's [`Context::launch_type`](crate::Context::launch_type) says in
    /// its task.
    Slurm,
    /// Every node on a simulated host, all on one thread, under a simulated network and clock
    /// drawn from `seed` (`lp::sim`, with lp's `sim` feature): `--lp_launch_type sim
    /// --lp_seed N` on the program binary, `lp::sim::Sim::run` in a test.
    Sim {
        /// The seed of the run.
        seed: u64,
    },
}

/// A launch type name that is none of [`LaunchType`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown launch type `{0}`; expected `local_mt`, `local_mp`, `test_mt`, `test_mp`, `k8s`, `slurm` or `sim`"
)]
pub struct UnknownLaunchType(pub String);

impl FromStr for LaunchType {
    type Err = UnknownLaunchType;

    fn from_str(s: &str) -> Result<Self, UnknownLaunchType> {
        match s {
            "local_mt" => Ok(LaunchType::LocalMt),
            "local_mp" => Ok(LaunchType::LocalMp),
            "test_mt" => Ok(LaunchType::TestMt),
            "test_mp" => Ok(LaunchType::TestMp),
            "k8s" => Ok(LaunchType::K8s),
            "slurm" => Ok(LaunchType::Slurm),
            "sim" => Ok(LaunchType::Sim { seed: 0 }),
            _ => Err(UnknownLaunchType(s.to_string())),
        }
    }
}

impl std::fmt::Display for LaunchType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LaunchType::LocalMt => "local_mt",
            LaunchType::LocalMp => "local_mp",
            LaunchType::TestMt => "test_mt",
            LaunchType::TestMp => "test_mp",
            LaunchType::K8s => "k8s",
            LaunchType::Slurm => "slurm",
            LaunchType::Sim { .. } => "sim",
        })
    }
}

/// Settings of a launch; every setter documents its default.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// The program binary the multi-process launchers spawn per node.
    binary: Option<PathBuf>,
    /// How long nodes get between the stop request and SIGKILL.
    termination_notice: Duration,
    /// How long a call waits for a node that is not up yet.
    ready_timeout: Duration,
    /// Where the `local_mp`/`test_mp` children's output goes.
    terminal: Terminal,
    /// Where the dashboard is served, if anywhere.
    dashboard: Option<std::net::SocketAddr>,
    /// Whether `local_mp`/`test_mp` fork node processes from a fork server.
    fork_server: bool,
}

/// Where node output goes under `local_mp`/`test_mp` (`--lp_terminal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Terminal {
    /// Every line on the launcher's terminal, prefixed `[label] ` (coloured on a terminal).
    CurrentTerminal,
    /// One file per node, `DIR/<label>.log` (`/` in a label becomes `_`), lines unprefixed.
    OutputToFiles(PathBuf),
    /// Those files, each followed in its own window of a tmux session
    /// `lp-<program>-<launcher pid>`, closed when the launch ends.
    Tmux(PathBuf),
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions::new()
    }
}

impl LaunchOptions {
    /// The defaults.
    pub fn new() -> Self {
        let ready_timeout = std::env::var("LP_READY_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .unwrap_or(DEFAULT_READY_TIMEOUT);
        LaunchOptions {
            binary: None,
            termination_notice: Duration::from_secs(10),
            ready_timeout,
            terminal: Terminal::CurrentTerminal,
            dashboard: None,
            fork_server: true,
        }
    }

    /// Serves the launch's live dashboard (a web page, a JSON API, `/metrics`) on `addr`
    /// (port 0: a free port), or nowhere with `None` (default: nowhere; a program binary
    /// serves it on `127.0.0.1:0` unless `--lp_dashboard off`).
    /// [`Running::dashboard_url`] says where, token included.
    pub fn dashboard(mut self, addr: Option<std::net::SocketAddr>) -> Self {
        self.dashboard = addr;
        self
    }

    /// Where node output goes under `local_mp`/`test_mp` (default: the current terminal).
    pub fn terminal(mut self, terminal: Terminal) -> Self {
        self.terminal = terminal;
        self
    }

    /// The program binary spawned once per node by `local_mp`/`test_mp` (default: the current
    /// executable, which is right for `local_mp`; a test sets
    /// `env!("CARGO_BIN_EXE_<name>")`).
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// How long nodes get to stop after a stop request before they are killed (default 10 s,
    /// the `--lp_termination_notice_secs` flag).
    pub fn termination_notice(mut self, notice: Duration) -> Self {
        self.termination_notice = notice;
        self
    }

    /// How long a call to a node that is not up yet waits for it (default 30 s, or the
    /// `LP_READY_TIMEOUT_SECS` environment variable).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Whether `local_mp`/`test_mp` fork node processes from a fork server, the binary started
    /// once (default), or spawn each from the binary (for comparing the two). A binary that
    /// starts threads before `main` is never forked.
    pub fn fork_server(mut self, fork: bool) -> Self {
        self.fork_server = fork;
        self
    }
}

/// The runtime `block_on` falls back to on threads outside any runtime.
static RUNTIME: OnceLock<tokio::runtime::Handle> = OnceLock::new();

pub(crate) fn fallback_runtime() -> Option<&'static tokio::runtime::Handle> {
    RUNTIME.get()
}

/// Launches `program` with default options. See [`launch_with`].
pub async fn launch<P: Program>(
    program: P,
    launch_type: LaunchType,
) -> Result<Running, LaunchError> {
    launch_with(program, launch_type, LaunchOptions::new()).await
}

/// Launches `program`: returns once every node is started (built, for in-process nodes;
/// spawned, for processes), with a [`Running`] to get handles from and to stop it.
///
/// Must be called inside a tokio runtime. Installs the `[label] ` log formatter unless a
/// tracing subscriber is already installed.
pub async fn launch_with<P: Program>(
    program: P,
    launch_type: LaunchType,
    options: LaunchOptions,
) -> Result<Running, LaunchError> {
    crate::log::init(true);
    let _ = RUNTIME.set(tokio::runtime::Handle::current());
    let (layout, nodes) = program.into_parts();
    if !layout.errors.is_empty() {
        return Err(LaunchError::Layout(layout.errors));
    }
    let supervisor = Arc::new(Supervisor::new(CancellationToken::new()));
    if let LaunchType::K8s | LaunchType::Slurm | LaunchType::Sim { .. } = launch_type {
        return Err(LaunchError::NotHere(launch_type));
    }
    let board = Arc::new(Board::new(&layout, &nodes, launch_type, supervisor.clone()));
    let dashboard = serve_dashboard(&options, &board).await?;
    let (net, backend) = match launch_type {
        LaunchType::LocalMp | LaunchType::TestMp => {
            let (net, state) =
                local_mp::start(&layout, nodes, &options, &supervisor, (launch_type, board))
                    .await?;
            (net, Backend::Mp(state))
        }
        _ => {
            let (net, state) =
                local_mt::start(&layout, nodes, &options, &supervisor, (launch_type, board))
                    .await?;
            (net, Backend::Mt(state))
        }
    };
    if let (Some(dashboard), Backend::Mp(state)) = (&dashboard, &backend) {
        state.publish_dashboard(&dashboard.url);
    }
    Ok(Running {
        net,
        supervisor,
        backend,
        outcome: tokio::sync::OnceCell::new(),
        dashboard,
    })
}

/// Serves the dashboard when `options` ask for it, saying where; turns on the call
/// counters and the log rings it shows.
async fn serve_dashboard(
    options: &LaunchOptions,
    board: &Arc<Board>,
) -> Result<Option<Dashboard>, LaunchError> {
    let Some(addr) = options.dashboard else {
        return Ok(None);
    };
    let dashboard = crate::dashboard::serve(addr, board.clone())
        .await
        .map_err(|e| LaunchError::launcher("cannot serve the dashboard", e))?;
    crate::metrics::enable();
    crate::dashboard::logs::keep();
    tracing::info!(target: "lp", "dashboard at {}", dashboard.url);
    Ok(Some(dashboard))
}

/// A launched program.
pub struct Running {
    /// How this process reaches the nodes, for handles.
    net: Net,
    /// The program's stop signal and first failure.
    supervisor: Arc<Supervisor>,
    /// What runs the nodes.
    backend: Backend,
    /// The result of stopping, computed once however many callers stop.
    outcome: tokio::sync::OnceCell<Result<(), LaunchError>>,
    /// The live dashboard, served while this lives (when asked for).
    dashboard: Option<Dashboard>,
}

enum Backend {
    Mt(local_mt::MtState),
    Mp(local_mp::MpState),
}

impl Running {
    /// Where the launch's dashboard is served, its token included
    /// (`http://127.0.0.1:PORT/?token=TOKEN`); `None` unless
    /// [`LaunchOptions::dashboard`] asked for one.
    pub fn dashboard_url(&self) -> Option<&str> {
        self.dashboard.as_ref().map(|d| d.url.as_str())
    }

    /// A typed handle to a node.
    pub fn handle<T: Courier>(&self, node: NodeRef<T>) -> Handle<T> {
        Handle::new(self.net.core(node.id))
    }

    /// A handle to a node typed by a courier trait its type implements
    /// (`running.handle_as::<dyn Source, _>(program.learner.id())`).
    pub fn handle_as<I: ?Sized + Courier, T: Serve<I>>(&self, node: NodeRef<T>) -> Handle<I> {
        Handle::new(self.net.core(node.id))
    }

    /// A handle to a node over a connection of its own. Handles normally share one connection
    /// per node in a process; this one opens another on its first call and closes it when the
    /// handle (and its clones) are dropped — to isolate a caller's traffic, or to test
    /// connection churn.
    pub fn detached_handle<T: Courier>(&self, node: NodeRef<T>) -> Handle<T> {
        Handle::new(self.net.detached().core(node.id))
    }

    /// Typed handles to every replica of a group.
    pub fn handles<T: Courier>(&self, group: &GroupRef<T>) -> Vec<Handle<T>> {
        group
            .ids()
            .map(|id| Handle::new(self.net.core(id)))
            .collect()
    }

    /// Whether the program is stopping (a node called `stop()`, a node failed, or
    /// [`stop`](Self::stop) was called).
    pub fn is_stopping(&self) -> bool {
        self.supervisor.stop.is_cancelled()
    }

    /// Stops every node (grace period, then kill) and waits for them. Returns the first node
    /// failure, if any node failed. Calling it again returns the same result.
    pub async fn stop(&self) -> Result<(), LaunchError> {
        self.outcome
            .get_or_init(|| async {
                self.supervisor.stop.cancel();
                match &self.backend {
                    Backend::Mt(state) => state.shutdown(&self.net, &self.supervisor).await,
                    Backend::Mp(state) => state.shutdown(&self.supervisor).await,
                }
                // What ended with the stop and said nothing else (a courier without a run)
                // finished with it.
                for id in 0..self.net.nodes() {
                    if self.supervisor.outcome_of(id).is_none() {
                        self.supervisor.ended(id, crate::NodeOutcome::Finished);
                    }
                }
                self.supervisor.outcome()
            })
            .await
            .clone()
    }

    /// Kills every node at once, without the grace period (a second Ctrl-C): processes get
    /// SIGKILL; in-process nodes end with this process.
    pub fn kill(&self) {
        self.supervisor.stop.cancel();
        match &self.backend {
            Backend::Mt(_) => local_mt::take_down(&self.net),
            Backend::Mp(state) => drop(state.kill()),
        }
    }

    /// Waits until every node of `nodes` has ended — its `run` returned, it failed, or it
    /// was killed — while the rest of the program keeps running (Launchpad's
    /// `wait(['main'])`): `running.wait_for(program.learner.id())`,
    /// `running.wait_for([program.actor.refs(), program.evaluator.refs()])`. A node without a
    /// `run` ends only with the program. When the program stops first (a node failed, say),
    /// returns what [`stop`](Self::stop) returns.
    pub async fn wait_for(&self, nodes: impl Into<crate::Nodes>) -> Result<(), LaunchError> {
        let ids = nodes.into().0;
        self.supervisor.wait_ended(&ids).await;
        let failed = ids.iter().any(|&id| {
            !matches!(
                self.supervisor.outcome_of(id),
                None | Some(crate::NodeOutcome::Finished)
            )
        });
        match failed || self.supervisor.stop.is_cancelled() {
            true => self.stop().await,
            false => Ok(()),
        }
    }

    /// How `node` ended, once it has: `None` while it runs.
    pub fn outcome<T>(&self, node: NodeRef<T>) -> Option<crate::NodeOutcome> {
        self.supervisor.outcome_of(node.id)
    }

    /// Under `local_mp` and `test_mp`: how the process of `node` exited, once it has (after
    /// restarts, its last process). `None` in-process, and while the process runs.
    pub fn exit_status<T>(&self, node: NodeRef<T>) -> Option<std::process::ExitStatus> {
        match &self.backend {
            Backend::Mt(_) => None,
            Backend::Mp(state) => state.exit_status(node.id),
        }
    }

    /// Waits until the program stops by itself — a node calls `stop()`, a node fails, or
    /// every node has finished — then stops what is left, like [`stop`](Self::stop).
    pub async fn wait(&self) -> Result<(), LaunchError> {
        let stop = self.supervisor.stop.clone();
        match &self.backend {
            Backend::Mt(state) => state.finished(&stop).await,
            Backend::Mp(state) => state.finished(&stop).await,
        }
        self.stop().await
    }
}

/// The `main` of a program binary (called by the generated `main`).
///
/// In a process spawned by the `local_mp`/`test_mp` launcher (`LP_NODE_ID` is set) it runs
/// just that node; in a process started by a cluster engine (`LP_CLUSTER` is set) it runs its
/// unit or the coordinator (see `docs/cluster.md`). With `--lp_launch_type k8s|slurm` it writes
/// the engine's job description (and applies or submits it). Otherwise it parses the flags,
/// launches the program, and waits until it stops by itself or the process gets Ctrl-C/SIGTERM. Exit status: 0 when every node stopped
/// cleanly, 1 when a node failed (its label and error are printed), 2 on a flag error.
pub fn main<P: crate::codegen::Params, G: Program>(
    program_name: &'static str,
    about: &'static str,
    make_program: fn(P) -> G,
) -> ExitCode {
    if child::is_child() {
        return child::main(program_name, make_program);
    }
    if cluster::is_cluster_child() {
        return cluster::unit::main(program_name, about, make_program);
    }
    let param_flags = P::flags();
    let cmd = flags::command(program_name, about, &param_flags);
    let matches = cmd.clone().get_matches();
    let values: FlagValues = flags::values(&matches, &param_flags);
    let params = match P::from_flags(&values) {
        Ok(params) => params,
        Err(e) => cmd
            .clone()
            .error(clap::error::ErrorKind::ValueValidation, e.0)
            .exit(),
    };
    // Every value computed from the flags is checked here, before anything starts: a bad one
    // is a flag error.
    let program = match Parts::of(make_program(params)) {
        Ok(program) => program,
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
            let message = format!(
                "invalid values computed from the flags:\n{}",
                lines.join("\n")
            );
            cmd.clone()
                .error(clap::error::ErrorKind::ValueValidation, message)
                .exit()
        }
    };
    let launch_type_name = matches
        .get_one::<String>(flags::launcher::LAUNCH_TYPE)
        .map_or("local_mt", String::as_str);
    let notice = flags::termination_notice(&matches);
    if let Some(engine) = cluster::Engine::parse(launch_type_name) {
        return cluster::launch_main(engine, &matches, &values, notice, program);
    }
    if launch_type_name == "sim" {
        #[cfg(feature = "sim")]
        return simulate(program, &matches, notice);
        #[cfg(not(feature = "sim"))]
        cmd.clone()
            .error(
                clap::error::ErrorKind::InvalidValue,
                "`--lp_launch_type sim` needs lp's `sim` feature, which this binary was built \
                 without: build it with `--features lp/sim` (or depend on \
                 `lp = { version = \"…\", features = [\"sim\"] }`)",
            )
            .exit();
    }
    let launch_type = launch_type_name.parse().unwrap_or(LaunchType::LocalMt);
    let options = LaunchOptions::new()
        .termination_notice(notice)
        .terminal(terminal(&matches))
        .dashboard(flags::dashboard(&matches));
    crate::log::init(true);
    let runtime = match async_runtime(None) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    run_process(runtime, run_to_the_end(program, launch_type, options))
}

/// Runs `life`, the whole of a process's work, to its exit code as a task on `runtime`'s
/// workers (each step goes on where the I/O driver woke it, never waking this thread), then
/// shuts the runtime down. A panic that escapes `life` is a failure.
pub(crate) fn run_process(
    runtime: tokio::runtime::Runtime,
    life: impl std::future::Future<Output = ExitCode> + Send + 'static,
) -> ExitCode {
    let code = runtime
        .block_on(runtime.spawn(life))
        .unwrap_or(ExitCode::FAILURE);
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

#[cfg(feature = "sim")]
/// `--lp_launch_type sim`: runs the program on simulated hosts from `--lp_seed`, saying the
/// seed first and, when the run fails, the flags that replay it.
fn simulate(program: Parts, matches: &clap::ArgMatches, notice: Duration) -> ExitCode {
    let sim = crate::sim::Sim::new(flags::seed(matches)).termination_notice(notice);
    crate::log::init(true);
    tracing::info!(target: "lp", "sim: seed {}", sim.seed());
    let outcome = sim.run(program);
    match &outcome.result {
        Ok(()) => {
            tracing::info!(target: "lp", "sim: stopped after {:?} of simulated time", outcome.elapsed);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", crate::error::chain(e));
            eprintln!("{outcome}");
            eprintln!("replay this run with `{}`", outcome.reproduce());
            ExitCode::FAILURE
        }
    }
}

/// Where node output goes, from `--lp_terminal` and `--lp_log_dir`.
fn terminal(matches: &clap::ArgMatches) -> Terminal {
    let log_dir = matches
        .get_one::<String>(flags::launcher::LOG_DIR)
        .map_or_else(|| PathBuf::from("lp_logs"), PathBuf::from);
    match matches
        .get_one::<String>(flags::launcher::TERMINAL)
        .map(String::as_str)
    {
        Some("output_to_files") => Terminal::OutputToFiles(log_dir),
        Some("tmux") => Terminal::Tmux(log_dir),
        _ => Terminal::CurrentTerminal,
    }
}

/// Launches `program` and waits until it stops by itself or the process gets Ctrl-C/SIGTERM;
/// the process's exit status.
async fn run_to_the_end<G: Program>(
    program: G,
    launch_type: LaunchType,
    options: LaunchOptions,
) -> ExitCode {
    let running = match launch_with(program, launch_type, options).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("error: {}", crate::error::chain(&e));
            return ExitCode::FAILURE;
        }
    };
    let outcome = tokio::select! {
        outcome = running.wait() => outcome,
        signal = shutdown_signal() => {
            tracing::info!(target: "lp", "{signal}: stopping every node (again to kill them at once)");
            tokio::select! {
                outcome = running.stop() => outcome,
                again = shutdown_signal() => {
                    tracing::info!(target: "lp", "{again} again: killing every node");
                    running.kill();
                    return ExitCode::from(130);
                }
            }
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", crate::error::chain(&e));
            ExitCode::FAILURE
        }
    }
}

impl Drop for Running {
    /// A program dropped without [`stop`](Running::stop) (a test that returns early, a panic)
    /// stops as with `stop()`, in the background: its nodes see the stop and get the grace
    /// period; in `test_mp`, processes still running then are killed.
    fn drop(&mut self) {
        if self.outcome.initialized() {
            return;
        }
        self.supervisor.stop.cancel();
        if let Backend::Mt(_) = &self.backend {
            local_mt::take_down(&self.net);
        }
    }
}

/// A program already split into its layout and nodes, once its layout checked.
struct Parts(crate::program::Layout, Vec<crate::program::ErasedNode>);

impl Parts {
    fn of<G: Program>(program: G) -> Result<Parts, Vec<crate::program::LayoutError>> {
        let (layout, nodes) = program.into_parts();
        if layout.errors.is_empty() {
            Ok(Parts(layout, nodes))
        } else {
            Err(layout.errors)
        }
    }
}

impl Program for Parts {
    fn into_parts(self) -> (crate::program::Layout, Vec<crate::program::ErasedNode>) {
        (self.0, self.1)
    }
}

/// Resolves on Ctrl-C or SIGTERM, saying which.
pub(crate) async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    // A simulated host has no signals: the process's are the simulation's.
    if crate::transport::simulated() {
        return std::future::pending().await;
    }
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = term.recv() => "terminated",
    }
}

/// The multi-threaded tokio runtime a program's process runs on, with `workers` worker threads
/// (`None`: tokio's default, one per vCPU); `TOKIO_WORKER_THREADS`, when set, wins either way.
/// On failure, the message is printed and the exit code returned.
pub(crate) fn async_runtime(workers: Option<usize>) -> Result<tokio::runtime::Runtime, ExitCode> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    let user_set = std::env::var_os("TOKIO_WORKER_THREADS").is_some();
    if let Some(workers) = workers.filter(|_| !user_set) {
        builder.worker_threads(workers);
    }
    builder.enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        ExitCode::FAILURE
    })
}

/// The nodes whose keys a process hosting `nodes` gets: its own (to serve them) and those they
/// hold handles to (to call them), sorted, each once.
pub(crate) fn key_ids<'a>(
    nodes: impl IntoIterator<Item = &'a crate::program::ErasedNode>,
) -> Vec<usize> {
    let mut ids: Vec<usize> = nodes
        .into_iter()
        .flat_map(|node| std::iter::once(node.id).chain(node.calls.iter().copied()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
