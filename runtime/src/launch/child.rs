//! A node's process under the `local_mp`/`test_mp` launcher: rebuild the program's layout from
//! the params the launcher passed, build just this node (not the others), serve it (for a
//! courier), run it, and report to the launcher.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::control::{Link, Report};
use super::env::{EnvError, Vars};
use super::host::{Host, Supervisor, UnixNetwork};
use crate::courier::client::Net;
use crate::error::chain;
use crate::program::{Program, Selection};
use crate::transport::keys::Keyring;
use crate::transport::unix::{UnixDialer, UnixPath};
use crate::LaunchType;

/// The environment variables the launcher sets for a child.
pub(crate) mod vars {
    /// The node's id (its index in the layout); its presence means "child mode".
    pub(crate) const NODE_ID: &str = "LP_NODE_ID";
    /// `1` when the node's `run` is to be called.
    pub(crate) const RUN_ENABLED: &str = "LP_RUN_ENABLED";
    /// The params, as JSON.
    pub(crate) const PARAMS: &str = "LP_PARAMS";
    /// The program's name, checked against the binary's.
    pub(crate) const PROGRAM: &str = "LP_PROGRAM";
    /// The launch's private directory.
    pub(crate) const DIR: &str = "LP_DIR";
    /// The launcher's pid: the child dies with it (`PR_SET_PDEATHSIG`), and does not start
    /// when it is gone already. (The child's keys, `Keyring`'s text, come on its standard
    /// input: they never enter the environment, which `/proc/PID/environ` shows for the
    /// process's lifetime.)
    pub(crate) const LAUNCHER_PID: &str = "LP_LAUNCHER_PID";
    /// `local_mp` or `test_mp`: what the nodes' `Context::launch_type` says.
    pub(crate) const LAUNCH_TYPE: &str = "LP_LAUNCH_TYPE";
    /// The launcher's control socket.
    pub(crate) const LAUNCHER: &str = "LP_LAUNCHER";
    /// How long calls wait for a node that is not up yet, in milliseconds.
    pub(crate) const READY_TIMEOUT_MS: &str = "LP_READY_TIMEOUT_MS";
    /// This process's unit: its index in the launcher's numbering.
    pub(crate) const UNIT: &str = "LP_UNIT";
    /// How long runs get to return after the stop, in milliseconds.
    pub(crate) const GRACE_MS: &str = "LP_GRACE_MS";
    /// The worker threads of this process's runtime: its share of the machine's vCPUs.
    pub(crate) const WORKERS: &str = "LP_WORKERS";
}

/// Whether this process was spawned by a launcher to run one node.
pub(crate) fn is_child() -> bool {
    std::env::var_os(vars::NODE_ID).is_some()
}

/// What the launcher told this child.
struct ChildEnv {
    /// The nodes this process runs: one, or those of a `process` block.
    ids: Vec<usize>,
    /// Whether each node's `run` is called, in the order of `ids`.
    run_enabled: Vec<bool>,
    params: String,
    program: String,
    dir: PathBuf,
    keys: Keyring,
    launcher: PathBuf,
    ready_timeout: Duration,
    /// This process's unit, as the launcher numbers them.
    unit: usize,
    /// How long runs get to return after the stop.
    grace: Duration,
    launch_type: LaunchType,
    /// The worker threads of its runtime (`None`: one per vCPU).
    workers: Option<usize>,
}

/// The child's environment, as the launcher sets it.
const VARS: Vars = Vars { by: "the launcher" };

impl ChildEnv {
    fn read() -> Result<Self, EnvError> {
        let ids = VARS.ids(vars::NODE_ID)?;
        let run_enabled: Vec<bool> = VARS
            .get(vars::RUN_ENABLED)?
            .split(',')
            .map(|r| r == "1")
            .collect();
        if run_enabled.len() != ids.len() {
            return Err(EnvError::Mismatch(format!(
                "`{}` does not match `{}`",
                vars::RUN_ENABLED,
                vars::NODE_ID
            )));
        }
        let ready_ms = VARS.parse_or(
            vars::READY_TIMEOUT_MS,
            "milliseconds",
            crate::courier::client::DEFAULT_READY_TIMEOUT.as_millis() as u64,
        )?;
        Ok(ChildEnv {
            ids,
            run_enabled,
            unit: VARS.parse(vars::UNIT, "a unit number")?,
            grace: Duration::from_millis(VARS.parse_or(vars::GRACE_MS, "milliseconds", 10_000)?),
            params: VARS.get(vars::PARAMS)?,
            program: VARS.get(vars::PROGRAM)?,
            dir: PathBuf::from(VARS.get(vars::DIR)?),
            keys: read_keys()?,
            launch_type: VARS.parse(vars::LAUNCH_TYPE, "a launch type")?,
            launcher: PathBuf::from(VARS.get(vars::LAUNCHER)?),
            ready_timeout: Duration::from_millis(ready_ms),
            workers: Some(VARS.parse_or(vars::WORKERS, "a number of threads", 0)?)
                .filter(|&n| n > 0),
        })
    }
}

/// Dies with the launcher, which set `LP_LAUNCHER_PID`: the kernel kills this process when its
/// parent exits (`PR_SET_PDEATHSIG`); and a launcher gone before that was set (this process
/// then has another parent) is an error.
pub(super) fn follow_launcher() -> Result<(), EnvError> {
    let launcher: u32 = VARS.parse(vars::LAUNCHER_PID, "a process id")?;
    let gone = || EnvError::Mismatch(format!("the launcher (pid {launcher}) is gone"));
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
        .map_err(|_| gone())?;
    let parent = rustix::process::getppid().map_or(0, |pid| pid.as_raw_nonzero().get());
    match u32::try_from(parent) == Ok(launcher) {
        true => Ok(()),
        false => Err(gone()),
    }
}

/// The most keys a launcher passes: a key per node of the largest program, with room to spare.
const MAX_KEYS: u64 = 256 << 20;

/// Reads this process's keys from its standard input (an anonymous file the launcher made),
/// then puts `/dev/null` in its place: the nodes read nothing there, as before.
fn read_keys() -> Result<Keyring, EnvError> {
    use std::io::Read;
    let invalid = || {
        EnvError::Mismatch(
            "this process's standard input does not hold its keys: only the launcher starts it"
                .to_string(),
        )
    };
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_KEYS)
        .read_to_string(&mut text)
        .map_err(|_| invalid())?;
    let null = std::fs::File::open("/dev/null").map_err(|_| invalid())?;
    rustix::stdio::dup2_stdin(&null).map_err(|_| invalid())?;
    Keyring::parse(&text).ok_or_else(invalid)
}

/// The child's `main`.
pub(crate) fn main<P: crate::codegen::Params, G: Program>(
    program_name: &'static str,
    make_program: fn(P) -> G,
) -> ExitCode {
    // The fork server returns here in each child it forks.
    if let super::fork_server::Role::Done(code) = super::fork_server::serve_if_asked() {
        return code;
    }
    let env = match follow_launcher().and_then(|()| ChildEnv::read()) {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            return ExitCode::from(2);
        }
    };
    // One node: the launcher prefixes its lines. Several: each line names its node.
    crate::log::init(env.ids.len() > 1);
    let runtime = match super::async_runtime(env.workers) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    super::run_process(runtime, run(env, program_name, make_program))
}

async fn run<P: crate::codegen::Params, G: Program>(
    env: ChildEnv,
    program_name: &'static str,
    make_program: fn(P) -> G,
) -> ExitCode {
    let launcher = UnixPath(env.launcher.clone());
    let link = match Link::open(
        &launcher,
        env.keys.member(),
        env.unit,
        program_name,
        LINK_WAIT,
    )
    .await
    {
        Ok(link) => link,
        Err(e) => {
            tracing::error!(target: "lp", "cannot reach the launcher: {e}");
            return ExitCode::FAILURE;
        }
    };
    let first = env.ids.first().copied().unwrap_or(0);
    let host = match host(&env, program_name, make_program) {
        Ok(host) => host,
        Err(error) => {
            let error = chain(&error);
            tracing::error!(target: "lp", "{error}");
            link.send(Report::Failed { node: first, error });
            link.close().await;
            return ExitCode::FAILURE;
        }
    };
    // For a node's `*_blocking` calls from threads outside the runtime.
    let _ = super::RUNTIME.set(tokio::runtime::Handle::current());
    host.run(link).await
}

/// How long a child waits for its launcher's control socket (it exists before any child).
const LINK_WAIT: Duration = Duration::from_secs(10);

/// The host of this child's nodes, from the program the params build.
fn host<P: crate::codegen::Params, G: Program>(
    env: &ChildEnv,
    program_name: &'static str,
    make_program: fn(P) -> G,
) -> Result<Host<UnixNetwork>, EnvError> {
    if env.program != program_name {
        return Err(EnvError::Mismatch(format!(
            "this binary runs program `{program_name}`, the launcher asked for `{}`",
            env.program
        )));
    }
    let params: P = serde_json::from_str(&env.params).map_err(|source| EnvError::Params {
        by: VARS.by,
        source,
    })?;
    // Only this process's nodes are built: every process building every node would make
    // launching N processes cost N².
    let mut selection = Selection::only(&env.ids);
    let layout = make_program(params).select(&mut selection);
    let restartable = selection.restartable(layout.labels.len());
    let deadlines = selection.deadlines(layout.labels.len());
    let mut by_id: std::collections::HashMap<usize, _> = selection
        .into_nodes()
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    let mut mine = Vec::new();
    for (&id, &run_enabled) in env.ids.iter().zip(&env.run_enabled) {
        let node = by_id
            .remove(&id)
            .ok_or_else(|| EnvError::Mismatch(format!("the program has no node with id {id}")))?;
        mine.push((node, run_enabled));
    }
    let stop = CancellationToken::new();
    let dial = Arc::new(UnixDialer::new(env.dir.clone()));
    let net = Net::sockets(
        layout.labels.clone(),
        restartable,
        dial,
        env.keys.clone(),
        stop.clone(),
        env.ready_timeout,
    );
    net.set_deadlines(deadlines);
    let ends_with_first = env
        .ids
        .iter()
        .any(|&id| layout.ends_with_first(id).is_some());
    Ok(Host {
        ends_with_first,
        nodes: mine,
        net,
        labels: layout.labels,
        network: UnixNetwork(env.dir.clone()),
        keys: env.keys.clone(),
        grace: env.grace,
        stop,
        servers: TaskTracker::new(),
        supervisor: Supervisor::Launcher,
        launch_type: env.launch_type,
    })
}
