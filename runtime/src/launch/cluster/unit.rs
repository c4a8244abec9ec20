//! A process started by a cluster engine (`LP_CLUSTER` is set): the coordinator, or one unit of
//! the program — it learns which from `LP_JOB` and the engine's index variable, rebuilds the
//! program from its flags, serves and runs its nodes, and follows the coordinator's stop.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::book::{self, Book, CoordinatorOf, Overrides};
use super::coord::{self, FromCoord, ToCoord};
use super::{vars, Engine, Plan, Unit, COORDINATOR};
use crate::context::{Context, Stopper};
use crate::courier::client::Net;
use crate::courier::server;
use crate::flags::{self, FlagValues};
use crate::program::{Env, ErasedNode, Program};
use crate::supervise::{build_node, drive_run};
use crate::transport::frame::{self, Secret};
use crate::transport::tcp;

/// Who this process is, from the engine's environment.
struct Identity {
    engine: Engine,
    /// `LP_JOB`.
    job: String,
    /// The index within the job (`JOB_COMPLETION_INDEX` / `SLURM_PROCID`); 0 for the
    /// coordinator.
    rank: usize,
    secret: Secret,
    fingerprint: Option<String>,
}

impl Identity {
    fn read() -> Result<Identity, String> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| format!("the cluster engine did not set `{name}`"))
        };
        let engine_name = var(vars::CLUSTER)?;
        let engine = Engine::parse(&engine_name).ok_or_else(|| {
            format!(
                "`{}` is `{engine_name}`; expected `k8s` or `slurm`",
                vars::CLUSTER
            )
        })?;
        let job = var(vars::JOB)?;
        let rank = if job == COORDINATOR {
            0
        } else {
            let index_var = match engine {
                Engine::K8s => vars::K8S_INDEX,
                Engine::Slurm => vars::SLURM_INDEX,
            };
            let raw = var(index_var)?;
            raw.trim()
                .parse()
                .map_err(|_| format!("`{index_var}` is not an index: `{raw}`"))?
        };
        let secret = Secret::from_hex(var(vars::SECRET)?.trim())
            .ok_or_else(|| format!("`{}` is not a launch secret", vars::SECRET))?;
        Ok(Identity {
            engine,
            job,
            rank,
            secret,
            fingerprint: std::env::var(vars::LAYOUT).ok(),
        })
    }
}

/// The cluster child's `main`.
pub(crate) fn main<P: crate::codegen::Params, G: Program>(
    program_name: &'static str,
    about: &'static str,
    make_program: fn(P) -> G,
) -> ExitCode {
    let identity = match Identity::read() {
        Ok(identity) => identity,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Keep the secret out of whatever the nodes spawn. Still single-threaded here.
    std::env::remove_var(vars::SECRET);
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
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let notice = matches
        .get_one::<f64>(flags::launcher::TERMINATION_NOTICE)
        .copied()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(Duration::from_secs(10));
    crate::log::init(true);
    let runtime = match crate::launch::async_runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let code = runtime.block_on(async move {
        let _ = crate::launch::RUNTIME.set(tokio::runtime::Handle::current());
        let (layout, nodes) = make_program(params).into_parts();
        let plan = match Plan::new(&layout, &nodes) {
            Ok(plan) => plan,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        match run(identity, plan, nodes, notice).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

async fn run(
    identity: Identity,
    plan: Plan,
    nodes: Vec<ErasedNode>,
    notice: Duration,
) -> Result<ExitCode, String> {
    if let Some(theirs) = &identity.fingerprint {
        if *theirs != plan.fingerprint {
            return Err(format!(
                "this binary's program `{}` with these params has layout {}, the launch was made for layout {theirs}: run the image and flags the manifests were generated for",
                plan.program, plan.fingerprint
            ));
        }
    }
    let book = Arc::new(match identity.engine {
        Engine::K8s => {
            let var = |name: &str| {
                std::env::var(name).map_err(|_| format!("the cluster engine did not set `{name}`"))
            };
            Book::dns(
                &plan,
                &var(vars::SERVICE)?,
                &var(vars::NAMESPACE)?,
                book::port_from_env()?,
                Overrides::from_env()?,
            )
        }
        Engine::Slurm => Book::table(
            std::env::var(vars::RENDEZVOUS)
                .map_err(|_| format!("the batch script did not set `{}`", vars::RENDEZVOUS))?,
        ),
    });
    if identity.job == COORDINATOR {
        let addr = book.coordinator_listen_addr().await?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("the coordinator cannot listen on {addr}: {e}"))?;
        // Kubernetes restarts a failed container in its pod (restartPolicy OnFailure), which
        // then rejoins; `srun` restarts nothing.
        let restarts = identity.engine == Engine::K8s;
        return Ok(coord::run(
            listener,
            &plan,
            identity.secret,
            super::join_timeout(),
            notice,
            restarts,
        )
        .await);
    }
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
    let unit = plan.unit(job, identity.rank).cloned().ok_or_else(|| {
        format!(
            "job `{}` has {} processes; this is number {}",
            identity.job,
            plan.jobs[job].units.len(),
            identity.rank
        )
    })?;
    Ok(run_unit(plan, unit, nodes, book, identity.secret, notice).await)
}

/// The connection to the coordinator: messages out through a writer task, messages in.
struct CoordLink {
    /// Frames to send; dropping it closes our side once everything queued is sent.
    outbox: mpsc::UnboundedSender<ToCoord>,
    /// What the coordinator says; `None` once its connection is gone.
    inbox: mpsc::UnboundedReceiver<FromCoord>,
    /// The writer task, awaited before exiting so the last message is not lost.
    writer: tokio::task::JoinHandle<()>,
}

impl CoordLink {
    async fn open(
        book: &Arc<Book>,
        secret: &Secret,
        unit: usize,
        fingerprint: &str,
    ) -> Result<CoordLink, String> {
        let target = CoordinatorOf(book.clone());
        let never = CancellationToken::new();
        let (mut reader, mut writer) =
            tcp::connect(&target, 0, secret, super::join_timeout(), &never)
                .await
                .map_err(|e| format!("cannot reach the coordinator: {e}"))?;
        let (outbox, mut out_rx) = mpsc::unbounded_channel::<ToCoord>();
        let (in_tx, inbox) = mpsc::unbounded_channel::<FromCoord>();
        let writer = tokio::spawn(async move {
            while let Some(message) = out_rx.recv().await {
                let Ok(bytes) = frame::encode(&message) else {
                    continue;
                };
                if writer.send(bytes).await.is_err() {
                    return;
                }
            }
            let _ = SinkExt::<bytes::Bytes>::close(&mut writer).await;
        });
        tokio::spawn(async move {
            while let Some(Ok(bytes)) = reader.next().await {
                match frame::decode::<FromCoord>(&bytes) {
                    Ok(message) => {
                        if in_tx.send(message).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        });
        let link = CoordLink {
            outbox,
            inbox,
            writer,
        };
        link.send(ToCoord::Join {
            unit,
            fingerprint: fingerprint.to_string(),
        });
        Ok(link)
    }

    fn send(&self, message: ToCoord) {
        let _ = self.outbox.send(message);
    }

    /// Flushes what is queued and closes our side (bounded).
    async fn close(self) {
        drop(self.outbox);
        let _ = tokio::time::timeout(Duration::from_secs(3), self.writer).await;
    }
}

async fn run_unit(
    plan: Plan,
    unit: Unit,
    nodes: Vec<ErasedNode>,
    book: Arc<Book>,
    secret: Secret,
    notice: Duration,
) -> ExitCode {
    let label = |id: usize| plan.labels.get(id).cloned().unwrap_or_default();
    let mut link = match CoordLink::open(&book, &secret, unit.index, &plan.fingerprint).await {
        Ok(link) => link,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let fail = |link: CoordLink, id: usize, error: String| async move {
        eprintln!("error: node `{}` failed: {error}", label(id));
        link.send(ToCoord::Failed { node: id, error });
        link.close().await;
        ExitCode::FAILURE
    };
    let stop = CancellationToken::new();
    let net = Net::tcp(
        plan.labels.clone(),
        plan.restartable.clone(),
        book.clone(),
        secret.clone(),
        stop.clone(),
        crate::launch::LaunchOptions::new().ready_timeout,
    );
    let mut by_id: HashMap<usize, ErasedNode> = nodes.into_iter().map(|n| (n.id, n)).collect();
    let mut ports = Vec::new();
    let mut serving = false;
    let mut pending_runs = Vec::new();
    for &id in &unit.nodes {
        let Some(node) = by_id.remove(&id) else {
            return fail(link, id, format!("the program has no node with id {id}")).await;
        };
        let node_env = Env::for_node(&node, &net);
        let span = node_env.span.clone();
        let built = match build_node(&node.build, &node_env) {
            Ok(built) => built,
            Err(error) => return fail(link, id, error).await,
        };
        if let Some(service) = built.service {
            serving = true;
            let addr = book.listen_addr(id);
            let listener = match TcpListener::bind(addr).await {
                Ok(listener) => listener,
                Err(e) => return fail(link, id, format!("cannot listen on {addr}: {e}")).await,
            };
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
            ports.push((id, port));
            tokio::spawn(server::serve(
                listener,
                service,
                secret.clone(),
                stop.clone(),
            ));
        }
        if let (true, Some(run)) = (node.has_run, built.run) {
            pending_runs.push((id, node.label.clone(), node.replica, run, span));
        }
    }
    link.send(ToCoord::Ready { ports });
    // The barrier: runs start once every process of the program serves.
    tokio::select! {
        message = link.inbox.recv() => match message {
            Some(FromCoord::Start { book: table }) => {
                book.set_table(table);
            }
            Some(FromCoord::Stop { failure }) => {
                if let Some((node, error)) = failure {
                    eprintln!("lp: node `{node}` failed: {error}; stopping");
                }
                stop.cancel();
                link.close().await;
                return ExitCode::SUCCESS;
            }
            None => {
                eprintln!("error: lost the coordinator before the program started");
                stop.cancel();
                return ExitCode::FAILURE;
            }
        },
        signal = crate::launch::shutdown_signal() => {
            eprintln!("lp: {signal} before the program started: stopping every node");
            link.send(ToCoord::Stop { node: None });
            stop.cancel();
            link.close().await;
            return ExitCode::SUCCESS;
        }
    }
    let tell = link.outbox.clone();
    let mut runs = futures::stream::FuturesUnordered::new();
    for (id, node_label, replica, run, span) in pending_runs {
        let tell = tell.clone();
        let stopper: Arc<dyn Fn() -> bool + Send + Sync> =
            Arc::new(move || tell.send(ToCoord::Stop { node: Some(id) }).is_ok());
        let ctx = Context::new(
            node_label,
            replica,
            stop.clone(),
            Stopper::Launcher(stopper),
        );
        runs.push(async move { (id, drive_run(run(ctx), span).await) });
    }
    drop(tell);
    let mut failed: Option<(usize, String)> = None;
    // Whether the coordinator was told of `failed` already (at once, not after the grace period).
    let mut reported = false;
    let mut lost = false;
    let signal = crate::launch::shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            Some((id, outcome)) = runs.next(), if !runs.is_empty() => match outcome {
                Err(error) => {
                    eprintln!("error: node `{}` failed: {error}", label(id));
                    link.send(ToCoord::Failed { node: id, error: error.clone() });
                    reported = true;
                    failed = Some((id, error));
                    stop.cancel();
                    break;
                }
                Ok(()) if runs.is_empty() && !serving => {
                    link.send(ToCoord::Done);
                    link.close().await;
                    return ExitCode::SUCCESS;
                }
                Ok(()) => {}
            },
            message = link.inbox.recv() => match message {
                Some(FromCoord::Stop { failure }) => {
                    if let Some((node, error)) = failure {
                        eprintln!("lp: node `{node}` failed: {error}; stopping");
                    }
                    stop.cancel();
                    break;
                }
                Some(FromCoord::Start { .. }) => {}
                None => {
                    eprintln!("error: lost the coordinator: stopping this process's nodes");
                    lost = true;
                    stop.cancel();
                    break;
                }
            },
            _ = stop.cancelled() => break,
            signal = &mut signal => {
                eprintln!("lp: {signal}: stopping every node");
                link.send(ToCoord::Stop { node: None });
                stop.cancel();
                break;
            }
        }
    }
    // Stopping: the nodes get the grace period to return from `run`. An error returned now is
    // the stop's consequence (peers went away): noted, not a failure.
    let drained = tokio::time::timeout(notice, async {
        while let Some((id, outcome)) = runs.next().await {
            if let Err(error) = outcome {
                eprintln!(
                    "lp: node `{}` ended with an error while the program stopped: {error}",
                    label(id)
                );
            }
        }
    })
    .await;
    if drained.is_err() && failed.is_none() {
        if let Some(&id) = unit.nodes.first() {
            let error = format!("did not stop within the {notice:?} grace period; killed");
            eprintln!("error: node `{}` failed: {error}", label(id));
            link.send(ToCoord::Overran { node: id, error });
            link.close().await;
            return ExitCode::FAILURE;
        }
    }
    match failed {
        Some((id, error)) if !reported => fail(link, id, error).await,
        Some(_) => {
            link.close().await;
            ExitCode::FAILURE
        }
        None => {
            link.close().await;
            if lost {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}
