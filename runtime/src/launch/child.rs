//! A node's process under the `local_mp`/`test_mp` launcher: rebuild the program from the
//! params the launcher passed, build just this node, serve it (for a courier), run it, and
//! report to the launcher.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;

use crate::context::{Context, Stopper};
use crate::courier::client::Net;
use crate::courier::server;
use crate::program::{Env, Program};
use crate::supervise::{build_node, drive_run};
use crate::transport::frame::{Control, Secret};
use crate::transport::unix;

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
    /// The launch secret, hex (removed from the environment once read).
    pub(crate) const SECRET: &str = "LP_SECRET";
    /// The launcher's control socket.
    pub(crate) const LAUNCHER: &str = "LP_LAUNCHER";
    /// How long calls wait for a node that is not up yet, in milliseconds.
    pub(crate) const READY_TIMEOUT_MS: &str = "LP_READY_TIMEOUT_MS";
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
    secret: Secret,
    launcher: PathBuf,
    ready_timeout: Duration,
}

impl ChildEnv {
    fn read() -> Result<Self, String> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| format!("the launcher did not set `{name}`"))
        };
        let ids = var(vars::NODE_ID)?
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| format!("`{}` is not a list of node ids", vars::NODE_ID))?;
        let run_enabled: Vec<bool> = var(vars::RUN_ENABLED)?
            .split(',')
            .map(|r| r == "1")
            .collect();
        if run_enabled.len() != ids.len() {
            return Err(format!(
                "`{}` does not match `{}`",
                vars::RUN_ENABLED,
                vars::NODE_ID
            ));
        }
        let secret = Secret::from_hex(&var(vars::SECRET)?)
            .ok_or_else(|| format!("`{}` is not a launch secret", vars::SECRET))?;
        let ready_timeout = var(vars::READY_TIMEOUT_MS)
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(
                crate::courier::client::DEFAULT_READY_TIMEOUT,
                Duration::from_millis,
            );
        Ok(ChildEnv {
            ids,
            run_enabled,
            params: var(vars::PARAMS)?,
            program: var(vars::PROGRAM)?,
            dir: PathBuf::from(var(vars::DIR)?),
            secret,
            launcher: PathBuf::from(var(vars::LAUNCHER)?),
            ready_timeout,
        })
    }
}

/// The child's `main`.
pub(crate) fn main<P: crate::codegen::Params, G: Program>(
    program_name: &'static str,
    make_program: fn(P) -> G,
) -> ExitCode {
    let env = match ChildEnv::read() {
        Ok(env) => env,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Keep the secret out of whatever this node spawns. Still single-threaded here.
    std::env::remove_var(vars::SECRET);
    // One node: the launcher prefixes its lines. Several: each line names its node.
    crate::log::init(env.ids.len() > 1);
    let runtime = match super::async_runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let code = runtime.block_on(run(env, program_name, make_program));
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

async fn run<P: crate::codegen::Params, G: Program>(
    env: ChildEnv,
    program_name: &'static str,
    make_program: fn(P) -> G,
) -> ExitCode {
    let report = {
        let (launcher, secret) = (env.launcher.clone(), env.secret.clone());
        move |message: Control| match unix::send_control_blocking(&launcher, &secret, message) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("lp: cannot reach the launcher: {e}");
                false
            }
        }
    };
    let fail = |node: usize, error: String| {
        eprintln!("error: {error}");
        report(Control::Failed { node, error });
        ExitCode::FAILURE
    };
    let first = env.ids.first().copied().unwrap_or(0);
    if env.program != program_name {
        return fail(
            first,
            format!(
                "this binary runs program `{program_name}`, the launcher asked for `{}`",
                env.program
            ),
        );
    }
    let params: P = match serde_json::from_str(&env.params) {
        Ok(params) => params,
        Err(e) => {
            return fail(
                first,
                format!("cannot read the params from the launcher: {e}"),
            )
        }
    };
    let (layout, nodes) = make_program(params).into_parts();
    let mut mine = Vec::new();
    for (&id, &run_enabled) in env.ids.iter().zip(&env.run_enabled) {
        match nodes.iter().position(|n| n.id == id) {
            Some(_) => mine.push((id, run_enabled)),
            None => return fail(id, format!("the program has no node with id {id}")),
        }
    }
    let restartable = super::local_mp::restartable(&layout, &nodes);
    let mut nodes: std::collections::HashMap<usize, _> =
        nodes.into_iter().map(|n| (n.id, n)).collect();
    let _ = super::RUNTIME.set(tokio::runtime::Handle::current());
    let stop = CancellationToken::new();
    let net = Net::unix(
        layout.labels.clone(),
        restartable,
        env.dir.clone(),
        env.secret.clone(),
        stop.clone(),
        env.ready_timeout,
    );
    // Build and serve every node first, so colocated nodes can call each other from `run`.
    let mut runs = Vec::new();
    let mut serving = false;
    for (id, run_enabled) in mine {
        let Some(node) = nodes.remove(&id) else {
            continue;
        };
        let node_env = Env::for_node(&node, &net);
        let span = node_env.span.clone();
        let built = match build_node(&node.build, &node_env) {
            Ok(built) => built,
            Err(error) => return fail(id, error),
        };
        if let Some(service) = built.service {
            serving = true;
            let path = unix::node_socket(&env.dir, id);
            let _ = std::fs::remove_file(&path);
            let listener = match UnixListener::bind(&path) {
                Ok(listener) => listener,
                Err(e) => return fail(id, format!("cannot listen on {}: {e}", path.display())),
            };
            tokio::spawn(server::serve(
                listener,
                service,
                env.secret.clone(),
                stop.clone(),
            ));
        }
        report(Control::Ready { node: id });
        if let (true, Some(run)) = (run_enabled, built.run) {
            let tell_launcher: Arc<dyn Fn() -> bool + Send + Sync> = {
                let report = report.clone();
                Arc::new(move || report(Control::Stop { node: id }))
            };
            let ctx = Context::new(
                node.label.clone(),
                node.replica,
                stop.clone(),
                Stopper::Launcher(tell_launcher),
            );
            runs.push(async move { (id, drive_run(run(ctx), span).await) });
        }
    }
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            super::shutdown_signal().await;
            stop.cancel();
        });
    }
    let mut runs: futures::stream::FuturesUnordered<_> = runs.into_iter().collect();
    while let Some((id, outcome)) = futures::StreamExt::next(&mut runs).await {
        if let Err(error) = outcome {
            return fail(id, error);
        }
    }
    if serving {
        stop.cancelled().await;
    }
    ExitCode::SUCCESS
}
