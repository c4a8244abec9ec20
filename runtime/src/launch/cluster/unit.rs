//! A process started by a cluster engine (`LP_CLUSTER` is set): the coordinator, or one unit of
//! the program — it learns which from `LP_JOB` and the engine's index variable, rebuilds the
//! program from its flags, serves and runs its nodes, and follows the coordinator's stop.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::book::{self, Book, CoordinatorOf, Overrides};
use super::coord;
use super::{vars, ClusterError, Engine, Plan, Unit, COORDINATOR};
use crate::courier::client::Net;
use crate::dashboard::board::Board;
use crate::error::chain;
use crate::flags::{self, FlagValues};
use crate::launch::control::{Link, Report, Reporter};
use crate::launch::env::{EnvError, Vars};
use crate::launch::host::{Host, Network, Supervisor};
use crate::program::{ErasedNode, Layout, Program};
use crate::supervise::NodeError;
use crate::transport::keys::Keyring;
use crate::transport::tcp::TcpDialer;
use crate::LaunchType;

/// Who this process is, from the engine's environment.
struct Identity {
    engine: Engine,
    /// `LP_JOB`.
    job: String,
    /// The index within the job (`JOB_COMPLETION_INDEX` / `SLURM_PROCID`); 0 for the
    /// coordinator.
    rank: usize,
    /// The keys it was given: every key (the coordinator's), or its job's (a unit's; a Slurm
    /// task whose job holds too many keys for one variable gets every key, and narrows them at
    /// once).
    keys: Keyring,
    fingerprint: Option<String>,
}

/// The environment a cluster engine sets.
const VARS: Vars = Vars {
    by: "the cluster engine",
};

impl Identity {
    fn read() -> Result<Identity, EnvError> {
        let engine_name = VARS.get(vars::CLUSTER)?;
        let engine = Engine::parse(&engine_name).ok_or(EnvError::Invalid {
            var: vars::CLUSTER,
            value: Some(engine_name.clone()),
            expected: "`k8s` or `slurm`",
        })?;
        let job = VARS.get(vars::JOB)?;
        let rank = match (job == COORDINATOR, engine) {
            (true, _) => 0,
            (false, Engine::K8s) => VARS.parse(vars::K8S_INDEX, "an index")?,
            (false, Engine::Slurm) if std::env::var_os(vars::RANK).is_some() => {
                VARS.parse(vars::RANK, "an index")?
            }
            (false, Engine::Slurm) => VARS.parse(vars::SLURM_INDEX, "an index")?,
        };
        let keys = read_keys(engine, &job)?;
        Ok(Identity {
            engine,
            job,
            rank,
            keys,
            fingerprint: std::env::var(vars::LAYOUT).ok(),
        })
    }
}

/// The process's keys: from the file `LP_SECRET_FILE` names when it is set (on Kubernetes, the
/// job's Secret mounted as a volume: Kubernetes requires it); otherwise, on Slurm only, the
/// launch secret in `LP_SECRET` for the coordinator, and a task's job's keys in `LP_KEYS`
/// (the batch script gives each step only these).
fn read_keys(engine: Engine, job: &str) -> Result<Keyring, EnvError> {
    if std::env::var_os(vars::SECRET_FILE).is_some() {
        return VARS.keys_file(vars::SECRET_FILE);
    }
    match engine {
        Engine::K8s => Err(EnvError::Missing {
            var: vars::SECRET_FILE,
            by: VARS.by,
        }),
        Engine::Slurm if job == COORDINATOR => VARS.secret(vars::SECRET),
        Engine::Slurm => VARS.keys(vars::KEYS),
    }
}

/// The cluster child's `main`.
pub(crate) fn main<P: crate::codegen::Params, G: Program>(
    program_name: &'static str,
    about: &'static str,
    make_program: fn(P) -> G,
) -> ExitCode {
    if std::env::var_os(vars::KEYS_OF).is_some() {
        return super::slurm::print_keys_of();
    }
    let identity = match Identity::read() {
        Ok(identity) => identity,
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            return ExitCode::from(2);
        }
    };
    // Keep the secret and the keys (on Slurm) and where they are (on Kubernetes) out of
    // whatever the nodes spawn. Still single-threaded here.
    std::env::remove_var(vars::SECRET);
    std::env::remove_var(vars::KEYS);
    std::env::remove_var(vars::SECRET_FILE);
    let param_flags = P::flags();
    let matches = match flags::command(program_name, about, &param_flags).try_get_matches() {
        Ok(matches) => matches,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    let values: FlagValues = flags::values(&matches, &param_flags);
    let params = match P::from_flags(&values) {
        Ok(params) => params,
        Err(e) => {
            eprintln!("error: {}", crate::error::chain(&e));
            return ExitCode::from(2);
        }
    };
    let notice = flags::termination_notice(&matches);
    crate::log::init(true);
    let runtime = match crate::launch::async_runtime(None) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    crate::launch::run_process(runtime, async move {
        let _ = crate::launch::RUNTIME.set(tokio::runtime::Handle::current());
        let (layout, nodes) = make_program(params).into_parts();
        let plan = match Plan::new(&layout, &nodes) {
            Ok(plan) => plan,
            Err(e) => {
                eprintln!("error: {}", crate::error::chain(&e));
                return ExitCode::FAILURE;
            }
        };
        match run(identity, &layout, plan, nodes, notice).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {}", chain(&e));
                ExitCode::FAILURE
            }
        }
    })
}

/// Runs this process's part: the coordinator (serving the dashboard, when its environment
/// says where), or a unit (counting its calls for the dashboard, when its environment says so).
async fn run(
    identity: Identity,
    layout: &Layout,
    plan: Plan,
    nodes: Vec<ErasedNode>,
    notice: Duration,
) -> Result<ExitCode, ClusterError> {
    if let Some(theirs) = &identity.fingerprint {
        if *theirs != plan.fingerprint {
            return Err(EnvError::Mismatch(format!(
                "this binary's program `{}` with these params has layout {}, the launch was made for layout {theirs}: run the image and flags the manifests were generated for",
                plan.program, plan.fingerprint
            )).into());
        }
    }
    let book = Arc::new(match identity.engine {
        Engine::K8s => Book::dns(
            &plan,
            &VARS.get(vars::SERVICE)?,
            &VARS.get(vars::NAMESPACE)?,
            book::port_from_env()?,
            Overrides::from_env()?,
        ),
        Engine::Slurm => Book::table(
            Vars {
                by: "the batch script",
            }
            .get(vars::RENDEZVOUS)?,
        ),
    });
    let launch_type = match identity.engine {
        Engine::K8s => LaunchType::K8s,
        Engine::Slurm => LaunchType::Slurm,
    };
    if identity.job == COORDINATOR {
        let addr = book.coordinator_listen_addr().await?;
        let listener = TcpListener::bind(addr).await.map_err(super::io(format!(
            "the coordinator cannot listen on {addr}"
        )))?;
        let dashboard = match std::env::var_os(vars::DASHBOARD) {
            Some(_) => {
                Some(VARS.parse(vars::DASHBOARD, "an address and port like `127.0.0.1:8080`")?)
            }
            None => None,
        };
        let dashboard = dashboard.map(|addr| {
            let supervisor = Arc::new(crate::supervise::Supervisor::new(CancellationToken::new()));
            let board = Board::new(layout, &nodes, launch_type, supervisor);
            (addr, Arc::new(board))
        });
        return Ok(coord::run(
            listener,
            &plan,
            identity.keys.member().clone(),
            super::join_timeout(),
            notice,
            dashboard,
        )
        .await);
    }
    let unit = unit_of(&plan, &identity)?;
    crate::metrics::enable_if_asked();
    Ok(run_unit(plan, unit, nodes, book, identity.keys, notice, launch_type).await)
}

/// The unit this process runs, from its job and rank.
fn unit_of(plan: &Plan, identity: &Identity) -> Result<Unit, ClusterError> {
    let job = plan.job(&identity.job).ok_or_else(|| {
        format!(
            "program `{}` has no cluster job `{}` (jobs: {})",
            plan.program,
            identity.job,
            plan.jobs
                .iter()
                .map(|j| j.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    plan.unit(job, identity.rank).cloned().ok_or_else(|| {
        format!(
            "job `{}` has {} processes; this is number {}",
            identity.job,
            plan.jobs[job].units.len(),
            identity.rank
        )
        .into()
    })
}

/// A unit's network: TCP, at the addresses of the launch's address book.
struct TcpNetwork(Arc<Book>);

impl Network for TcpNetwork {
    type Listener = TcpListener;

    async fn bind(&self, id: usize) -> Result<(Self::Listener, Option<u16>), NodeError> {
        let addr = self.0.listen_addr(id);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| NodeError::Listen {
                at: addr.to_string(),
                source,
            })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        Ok((listener, Some(port)))
    }

    fn addresses(&self, book: Vec<Option<std::net::SocketAddr>>) {
        self.0.set_table(book);
    }

    fn publish(&self, id: usize, label: &str, stop: &CancellationToken, link: Reporter) {
        crate::metrics::publish_to_link(id, label, stop.clone(), link);
    }
}

/// Runs `unit`'s nodes, joined to the coordinator.
async fn run_unit(
    plan: Plan,
    unit: Unit,
    nodes: Vec<ErasedNode>,
    book: Arc<Book>,
    keys: Keyring,
    grace: Duration,
    launch_type: LaunchType,
) -> ExitCode {
    let coordinator = TcpDialer::new(Arc::new(CoordinatorOf(book.clone())));
    let link = match Link::open(
        &coordinator,
        keys.member(),
        unit.index,
        &plan.fingerprint,
        super::join_timeout(),
    )
    .await
    {
        Ok(link) => link,
        Err(e) => {
            tracing::error!(target: "lp", "cannot reach the coordinator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let deadlines = crate::program::deadlines(plan.labels.len(), &nodes);
    let mut by_id: HashMap<usize, ErasedNode> = nodes.into_iter().map(|n| (n.id, n)).collect();
    let mut mine = Vec::new();
    for &id in &unit.nodes {
        match by_id.remove(&id) {
            Some(node) => {
                let runs = node.has_run;
                mine.push((node, runs));
            }
            None => {
                let error = format!("the program has no node with id {id}");
                tracing::error!(target: "lp", "{error}");
                link.send(Report::Failed { node: id, error });
                link.close().await;
                return ExitCode::FAILURE;
            }
        }
    }
    // Only the keys its nodes need, whatever it was given (every key, when its job's are too
    // many for the engine to pass).
    let keys = keys
        .of_nodes(plan.labels.len())
        .narrowed(crate::launch::key_ids(mine.iter().map(|(node, _)| node)));
    let stop = CancellationToken::new();
    let net = Net::sockets(
        plan.labels.clone(),
        plan.restartable.clone(),
        Arc::new(TcpDialer::new(book.clone())),
        keys.clone(),
        stop.clone(),
        crate::launch::LaunchOptions::new().ready_timeout,
    );
    net.set_deadlines(deadlines);
    let ends_with_first = unit.nodes.iter().any(|&id| plan.ends_with_first[id]);
    let host = Host {
        nodes: mine,
        net,
        labels: plan.labels.clone(),
        network: TcpNetwork(book),
        keys,
        grace,
        stop,
        servers: TaskTracker::new(),
        supervisor: Supervisor::Coordinator,
        launch_type,
        ends_with_first,
    };
    host.run(link).await
}
