//! The node host: a process running some of the program's nodes (one node, or a `process`
//! block's) for a supervisor — the `local_mp` launcher, or a cluster launch's coordinator. It
//! builds its nodes, serves the couriers, reports ready over its control link, starts the runs
//! when told, and stops when told, when a node fails, when it gets a signal, or when it loses
//! its supervisor. Every multi-process launch type runs its nodes through it.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::control::{Link, Order, Report, Reporter};
use crate::context::{Context, Stopper};
use crate::courier::client::Net;
use crate::courier::server;
use crate::program::{Env, ErasedNode, RunFn};
use crate::supervise::{build_node, drive_run, NodeError, NodeOutcome, RUN_MARGIN};
use crate::transport::conn::Keys;
use crate::transport::conn::Listener;
use crate::transport::keys::Keyring;
use crate::LaunchType;

/// The network a host is on: how its couriers listen, and how it learns where the others are.
pub(crate) trait Network: Send + Sync {
    /// What a node's calls are accepted on.
    type Listener: Listener;

    /// Binds node `id`'s listener; with the port it listens on, when the supervisor must
    /// learn it.
    fn bind(
        &self,
        id: usize,
    ) -> impl std::future::Future<Output = Result<(Self::Listener, Option<u16>), NodeError>> + Send;

    /// The supervisor's table of where every serving node is, at the start, and again when a
    /// restarted process serves elsewhere.
    fn addresses(&self, _book: Vec<Option<std::net::SocketAddr>>) {}

    /// Publishes node `id`'s call counters for the supervisor until `stop`, if it wants them
    /// (over `link`, or otherwise).
    fn publish(&self, _id: usize, _label: &str, _stop: &CancellationToken, _link: Reporter) {}
}

/// Unix sockets in the launch directory (`local_mp`, `test_mp`).
pub(crate) struct UnixNetwork(pub(crate) std::path::PathBuf);

impl Network for UnixNetwork {
    type Listener = tokio::net::UnixListener;

    async fn bind(&self, id: usize) -> Result<(Self::Listener, Option<u16>), NodeError> {
        let path = crate::transport::unix::node_socket(&self.0, id);
        let _ = std::fs::remove_file(&path);
        let listener =
            tokio::net::UnixListener::bind(&path).map_err(|source| NodeError::Listen {
                at: path.display().to_string(),
                source,
            })?;
        Ok((listener, None))
    }

    fn publish(&self, id: usize, label: &str, stop: &CancellationToken, _link: Reporter) {
        crate::metrics::publish_to_dir(&self.0, id, label, stop.clone());
    }
}

/// What a host runs and how.
pub(crate) struct Host<S> {
    /// Its nodes, and whether each one's `run` is called.
    pub(crate) nodes: Vec<(ErasedNode, bool)>,
    /// How its nodes reach the others.
    pub(crate) net: Net,
    /// Node labels by id, for messages.
    pub(crate) labels: Vec<String>,
    /// How its couriers listen and find the others.
    pub(crate) network: S,
    /// The keys of its nodes (to serve them) and of the nodes they call.
    pub(crate) keys: Keyring,
    /// How long runs get to return after the stop.
    pub(crate) grace: Duration,
    /// Cancelled when this process stops; servers and contexts watch it.
    pub(crate) stop: CancellationToken,
    /// The servers of its couriers: after the stop, they tell their clients and answer what
    /// they still run.
    pub(crate) servers: TaskTracker,
    /// Who supervises it.
    pub(crate) supervisor: Supervisor,
    /// How the program was launched, for the nodes' contexts.
    pub(crate) launch_type: LaunchType,
    /// Its nodes are a `process` block that ends with its first finished node: then the
    /// others are stopped, and the process ends, while the program runs on.
    pub(crate) ends_with_first: bool,
}

/// How long servers get, past the grace period if need be, to tell their clients of the stop.
const FLUSH: Duration = Duration::from_millis(100);

/// Who supervises a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Supervisor {
    /// The `local_mp` launcher, which prints every failure itself.
    Launcher,
    /// A cluster's coordinator: each process's log says why it stops.
    Coordinator,
}

impl std::fmt::Display for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Supervisor::Launcher => "the launcher",
            Supervisor::Coordinator => "the coordinator",
        })
    }
}

/// A node built and ready to run.
struct Pending {
    id: usize,
    label: String,
    replica: Option<usize>,
    run: RunFn,
    span: tracing::Span,
}

/// A node's failure, logged and reported to the supervisor.
struct Reported;

/// How the host's nodes ended.
enum Ending {
    /// Stopped when told, or every run finished.
    Clean,
    /// A node failed (already reported).
    Failed,
    /// The supervisor is gone.
    Lost,
}

impl<S: Network> Host<S> {
    /// Runs the host's nodes to the end; the process's exit status.
    pub(crate) async fn run(self, mut link: Link) -> ExitCode {
        let (pending, serving) = match self.build(&mut link).await {
            Ok(built) => built,
            Err(code) => {
                self.stop.cancel();
                link.close().await;
                return code;
            }
        };
        if !self.wait_for_start(&mut link).await {
            self.stop.cancel();
            link.close().await;
            return ExitCode::SUCCESS;
        }
        let live = Arc::new(Mutex::new(pending.iter().map(|p| p.id).collect()));
        let mut runs = self.start(pending, &link, &live);
        let ending = self.follow(&mut runs, &mut link, serving).await;
        // The servers answer the calls they still run within the grace period (and get a
        // moment to tell their clients of the stop); when it ends, this process exits and
        // what is left is cut. The runs get a moment more, to return once cut.
        let stopped = tokio::time::Instant::now();
        self.servers.close();
        let servers = (stopped + self.grace).max(stopped + FLUSH);
        let (drained, _) = tokio::join!(
            self.drain(&mut runs, stopped + self.grace + RUN_MARGIN),
            tokio::time::timeout_at(servers, self.servers.wait()),
        );
        // Every node still running overstayed; a grace period of zero means "kill at once":
        // then no node overstays it.
        let overran: Vec<usize> = match (drained, self.grace.is_zero()) {
            (Err(Overstayed), false) => lock(&live).iter().copied().collect(),
            _ => Vec::new(),
        };
        if let (false, Ending::Clean | Ending::Lost) = (overran.is_empty(), &ending) {
            let error = format!(
                "did not stop within the {:?} grace period; killed",
                self.grace
            );
            for id in overran {
                tracing::error!(target: "lp", "node `{}` failed: {error}", self.label(id));
                link.send(Report::Overran {
                    node: id,
                    error: error.clone(),
                });
            }
            link.close().await;
            return ExitCode::FAILURE;
        }
        link.close().await;
        match ending {
            Ending::Clean => ExitCode::SUCCESS,
            Ending::Failed | Ending::Lost => ExitCode::FAILURE,
        }
    }

    /// Says why the program stops, when a node failed (in a pod's log; the `local_mp`
    /// launcher says it once for every process).
    fn announce(&self, failure: Option<(String, String)>) {
        if let (Some((node, error)), Supervisor::Coordinator) = (failure, self.supervisor) {
            tracing::info!(target: "lp", "node `{node}` failed: {error}; stopping");
        }
    }

    fn label(&self, id: usize) -> &str {
        self.labels.get(id).map_or("?", String::as_str)
    }

    /// Builds every node and serves the couriers, then reports ready; on a failure reports it.
    /// The nodes to run, and whether any serves; or the exit status when the program stopped
    /// (or the node failed) first.
    async fn build(&self, link: &mut Link) -> Result<(Vec<Pending>, bool), ExitCode> {
        let mut pending = Vec::new();
        let mut ports = Vec::new();
        let mut serving = false;
        for (node, run_enabled) in &self.nodes {
            let (env, built) = self.construct(node, link).await?;
            let built = built.map_err(|error| {
                link.send(Report::Ended {
                    node: node.id,
                    outcome: NodeOutcome::from(&error),
                });
                let Reported = self.report_failure(link, node.id, error);
                ExitCode::FAILURE
            })?;
            self.network
                .publish(node.id, &node.label, &self.stop, link.reporter());
            if let Some(service) = built.service {
                serving = true;
                let keys = self.keys.node(node.id).map(|hello| Keys {
                    seal: self.keys.member().clone(),
                    hello,
                });
                let Some(keys) = keys else {
                    let Reported = self.report_failure(link, node.id, NodeError::NoKey);
                    return Err(ExitCode::FAILURE);
                };
                match self.network.bind(node.id).await {
                    Ok((listener, port)) => {
                        let stop = self.stop.clone();
                        let serve = server::serve(listener, service, keys, stop);
                        self.servers.spawn(serve);
                        ports.extend(port.map(|port| (node.id, port)));
                    }
                    Err(error) => {
                        let Reported = self.report_failure(link, node.id, error);
                        return Err(ExitCode::FAILURE);
                    }
                }
            }
            if let (true, Some(run)) = (*run_enabled, built.run) {
                pending.push(Pending {
                    id: node.id,
                    label: node.label.clone(),
                    replica: node.replica,
                    run,
                    span: env.span.clone(),
                });
            }
        }
        link.send(Report::Ready { ports });
        Ok((pending, serving))
    }

    /// Runs `node`'s constructor on a blocking thread (inline on a simulated host) while
    /// following the supervisor and the signals: a constructor that never returns cannot keep
    /// this process from stopping (its thread is abandoned when the process exits).
    async fn construct(
        &self,
        node: &ErasedNode,
        link: &mut Link,
    ) -> Result<(Env, Result<crate::program::Built, NodeError>), ExitCode> {
        let (factory, env) = (node.build.clone(), Env::for_node(node, &self.net));
        let constructing = crate::blocking::off_runtime(move || {
            let built = build_node(&factory, &env);
            (env, built)
        });
        tokio::pin!(constructing);
        let signal = super::shutdown_signal();
        tokio::pin!(signal);
        loop {
            tokio::select! {
                biased;
                done = &mut constructing => {
                    return done.ok_or_else(|| {
                        let error = NodeError::ConstructorPanicked("the runtime shut down".into());
                        let Reported = self.report_failure(link, node.id, error);
                        ExitCode::FAILURE
                    });
                }
                order = link.recv() => match order {
                    Some(Order::Stop { failure }) => {
                        self.announce(failure);
                        return Err(ExitCode::SUCCESS);
                    }
                    Some(Order::Start { .. }) => {}
                    None => {
                        tracing::error!(
                            target: "lp",
                            "lost {} while node `{}` was being built",
                            self.supervisor,
                            node.label
                        );
                        return Err(ExitCode::FAILURE);
                    }
                },
                signal = &mut signal => {
                    tracing::info!(target: "lp", "{signal} while node `{}` was being built: stopping every node", node.label);
                    link.send(Report::Stop { node: None });
                    return Err(ExitCode::SUCCESS);
                }
            }
        }
    }

    fn report_failure(&self, link: &Link, id: usize, error: NodeError) -> Reported {
        let error = error.report();
        tracing::error!(target: "lp", "node `{}` failed: {error}", self.label(id));
        link.send(Report::Failed { node: id, error });
        Reported
    }

    /// Waits for the supervisor's start; false when the program stops first.
    async fn wait_for_start(&self, link: &mut Link) -> bool {
        tokio::select! {
            biased;
            order = link.recv() => match order {
                Some(Order::Start { book }) => {
                    self.network.addresses(book);
                    true
                }
                Some(Order::Stop { failure }) => {
                    self.announce(failure);
                    false
                }
                None => {
                    tracing::error!(target: "lp", "lost {} before the program started", self.supervisor);
                    false
                }
            },
            signal = super::shutdown_signal() => {
                tracing::info!(target: "lp", "{signal} before the program started: stopping every node");
                link.send(Report::Stop { node: None });
                false
            }
        }
    }

    /// Starts every pending run, each with a context whose `stop()` tells the supervisor.
    /// Each run, once it ends, leaves `live` and reports how it ended.
    fn start(
        &self,
        pending: Vec<Pending>,
        link: &Link,
        live: &Arc<Mutex<BTreeSet<usize>>>,
    ) -> FuturesUnordered<impl std::future::Future<Output = (usize, Result<(), NodeError>)>> {
        let runs = FuturesUnordered::new();
        for p in pending {
            let reporter = link.reporter();
            let ended = link.reporter();
            let live = live.clone();
            let id = p.id;
            let stopper: Arc<dyn Fn() -> bool + Send + Sync> =
                Arc::new(move || reporter.send(Report::Stop { node: Some(id) }));
            let ctx = Context::new(
                p.label,
                p.replica,
                self.stop.clone(),
                Stopper::Launcher(stopper),
                self.launch_type,
            );
            let (run, span) = (p.run, p.span);
            runs.push(async move {
                let outcome = drive_run(run(ctx), span).await;
                lock(&live).remove(&id);
                let how = match &outcome {
                    Ok(()) => NodeOutcome::Finished,
                    Err(error) => NodeOutcome::from(error),
                };
                ended.send(Report::Ended {
                    node: id,
                    outcome: how,
                });
                (id, outcome)
            });
        }
        runs
    }

    /// Follows the runs and the supervisor until the program stops (or, for a host that
    /// serves nothing, until every run finished).
    async fn follow<F>(
        &self,
        runs: &mut FuturesUnordered<F>,
        link: &mut Link,
        serving: bool,
    ) -> Ending
    where
        F: std::future::Future<Output = (usize, Result<(), NodeError>)>,
    {
        if runs.is_empty() && !serving {
            link.send(Report::Done);
            return Ending::Clean;
        }
        let signal = super::shutdown_signal();
        tokio::pin!(signal);
        let ending = loop {
            tokio::select! {
                biased;
                Some((id, outcome)) = runs.next(), if !runs.is_empty() => match outcome {
                    Err(error) => {
                        let Reported = self.report_failure(link, id, error);
                        break Ending::Failed;
                    }
                    Ok(()) if self.ends_with_first || (runs.is_empty() && !serving) => {
                        link.send(Report::Done);
                        break Ending::Clean;
                    }
                    Ok(()) => {}
                },
                order = link.recv() => match order {
                    Some(Order::Stop { failure }) => {
                        self.announce(failure);
                        break Ending::Clean;
                    }
                    // Again: a restarted process serves elsewhere now (Slurm).
                    Some(Order::Start { book }) => self.network.addresses(book),
                    None => {
                        tracing::error!(
                            target: "lp",
                            "lost {}: stopping this process's nodes",
                            self.supervisor
                        );
                        break Ending::Lost;
                    }
                },
                signal = &mut signal => {
                    tracing::info!(target: "lp", "{signal}: stopping every node");
                    link.send(Report::Stop { node: None });
                    break Ending::Clean;
                }
            }
        };
        self.stop.cancel();
        ending
    }

    /// Gives the runs the grace period to return; an error returned now is the stop's
    /// consequence (peers went away), noted, not a failure. `Err` when some overstayed.
    async fn drain<F>(
        &self,
        runs: &mut FuturesUnordered<F>,
        deadline: tokio::time::Instant,
    ) -> Result<(), Overstayed>
    where
        F: std::future::Future<Output = (usize, Result<(), NodeError>)>,
    {
        tokio::time::timeout_at(deadline, async {
            while let Some((id, outcome)) = runs.next().await {
                if let Err(error) = outcome {
                    tracing::info!(
                        target: "lp",
                        "node `{}` ended with an error while the program stopped: {}",
                        self.label(id),
                        error.report()
                    );
                }
            }
        })
        .await
        .map_err(|_| Overstayed)
    }
}

/// Some runs did not return in time.
struct Overstayed;

fn lock(live: &Mutex<BTreeSet<usize>>) -> std::sync::MutexGuard<'_, BTreeSet<usize>> {
    live.lock().unwrap_or_else(PoisonError::into_inner)
}
