//! Cluster launch types: `k8s` and `slurm`. The program binary writes (and optionally applies or
//! submits) the engine's own job description; the engine then starts the same binary once per
//! process of the program ("cluster children", [`unit`]) plus one small coordinator
//! ([`coord`]) that every process connects to for the rendezvous and for program-wide stop.
//!
//! The design is in `docs/cluster.md`. In short:
//! - A [`Plan`] groups the program's nodes into *jobs* (a `group`, a single node, or a
//!   `process` block) of *units* (one OS process each: a replica, the node, the block).
//! - Every process learns which unit it is from the engine (`LP_JOB` and
//!   `JOB_COMPLETION_INDEX` on Kubernetes, `LP_JOB` and `SLURM_PROCID` on Slurm).
//! - Nodes serve over TCP; an address book ([`book`]) maps node ids to addresses: DNS names of
//!   the pods on Kubernetes, a table the coordinator hands out on Slurm.
//! - The coordinator is a barrier (every unit joined → runs start), the stop fan-out (a
//!   `stop()` anywhere or a failure ends every process) and the program's outcome (its exit
//!   status is the program's).

pub(crate) mod book;
pub(crate) mod coord;
pub(crate) mod k8s;
pub(crate) mod show;
pub(crate) mod slurm;
pub(crate) mod unit;
pub(crate) mod yaml;

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::time::Duration;

use crate::flags::{Flag, FlagValues};
use crate::launch::env::EnvError;
use crate::launch::tool::ToolError;
use crate::program::{ErasedNode, Layout, Resources, Restart};
use crate::transport::tcp::ResolveError;

/// The environment variables of cluster children.
pub(crate) mod vars {
    /// The engine (`k8s`, `slurm`); its presence means "cluster child".
    pub(crate) const CLUSTER: &str = "LP_CLUSTER";
    /// The job this process belongs to (a sanitized group, node or `process` block name), or
    /// [`COORDINATOR`](super::COORDINATOR).
    pub(crate) const JOB: &str = "LP_JOB";
    /// Slurm: the launch secret, hex, which the batch script gives the coordinator and
    /// [`KEYS_OF`] only (removed from the environment once read). Kubernetes passes it as a
    /// file instead ([`SECRET_FILE`]).
    pub(crate) const SECRET: &str = "LP_SECRET";
    /// Slurm: a task's keys, those its job's nodes need (a keyring's text, or the launch
    /// secret when they are too many for one environment variable); removed once read.
    pub(crate) const KEYS: &str = "LP_KEYS";
    /// Slurm: set by the batch script, with [`SECRET`] and [`NODES`], to have the binary print
    /// the keys of the nodes it lists (ids, comma separated) for a step's [`KEYS`], and exit.
    pub(crate) const KEYS_OF: &str = "LP_KEYS_OF";
    /// Slurm: with [`KEYS_OF`], how many nodes the program has (the keys' proofs depend on it).
    pub(crate) const NODES: &str = "LP_NODES";
    /// The path of a file holding the launch secret, hex: on Kubernetes, the launch's Secret
    /// mounted read-only as a volume. When set it wins over [`SECRET`]; Kubernetes requires it.
    pub(crate) const SECRET_FILE: &str = "LP_SECRET_FILE";
    /// A fingerprint of the program's layout, so a mismatched binary or params fail clearly.
    pub(crate) const LAYOUT: &str = "LP_LAYOUT";
    /// Kubernetes: the headless Service the pods are a subdomain of.
    pub(crate) const SERVICE: &str = "LP_SERVICE";
    /// Kubernetes: the namespace (from the pod's own metadata).
    pub(crate) const NAMESPACE: &str = "LP_NAMESPACE";
    /// Kubernetes: the coordinator's port; node `k` of a pod serves on `LP_PORT + 1 + k`.
    pub(crate) const PORT: &str = "LP_PORT";
    /// Slurm: `host:port` of the coordinator.
    pub(crate) const RENDEZVOUS: &str = "LP_RENDEZVOUS";
    /// A test override of DNS names: `name=ip` or `name=ip:port`, comma separated. With a port,
    /// that port replaces `LP_PORT` for that host.
    pub(crate) const HOSTS: &str = "LP_HOSTS";
    /// How long the coordinator waits for every unit to join, in seconds.
    pub(crate) const JOIN_TIMEOUT: &str = "LP_JOIN_TIMEOUT_SECS";
    /// The coordinator only: where it serves the dashboard (`--lp_dashboard`, when given to
    /// the launcher). The units then get [`metrics::ENV`](crate::metrics::ENV).
    pub(crate) const DASHBOARD: &str = "LP_DASHBOARD";
    /// Kubernetes: the pod's index in its Indexed Job (set by Kubernetes).
    pub(crate) const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
    /// Slurm: the task's rank in its step (set by Slurm).
    pub(crate) const SLURM_INDEX: &str = "SLURM_PROCID";
    /// Slurm: the unit's index in its job when the batch script runs it in a step of its own
    /// (a job with a restart policy, whose units restart one by one); it wins over
    /// [`SLURM_INDEX`].
    pub(crate) const RANK: &str = "LP_RANK";
}

/// Why a cluster launch cannot be written, submitted or run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClusterError {
    /// The program, its flags or its settings do not fit the engine.
    #[error("{0}")]
    Invalid(String),
    /// A file or a system resource failed.
    #[error("{what}")]
    Io {
        /// What was being done, e.g. "cannot write job.yaml".
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// kubectl or sbatch failed.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// This process's environment is not that of this launch.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// An address could not be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
}

impl From<String> for ClusterError {
    fn from(message: String) -> Self {
        ClusterError::Invalid(message)
    }
}

impl From<&str> for ClusterError {
    fn from(message: &str) -> Self {
        ClusterError::Invalid(message.to_string())
    }
}

/// Wraps an I/O error with what was being done.
pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// The job name of the coordinator (never a sanitized node name: those cannot start with
/// `lp-coordinator` and also be a group, which [`Plan::new`] checks).
pub(crate) const COORDINATOR: &str = "lp-coordinator";

/// The default coordinator port on Kubernetes.
pub(crate) const DEFAULT_PORT: u16 = 7070;

/// How long the coordinator waits for every process to join, unless `LP_JOIN_TIMEOUT_SECS`
/// says otherwise: pods may wait for image pulls and scheduling.
const DEFAULT_JOIN_TIMEOUT: Duration = Duration::from_secs(600);

/// The cluster engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// Kubernetes: Indexed Jobs, a headless Service, a Secret.
    K8s,
    /// Slurm: an sbatch script, one task per unit.
    Slurm,
}

impl Engine {
    pub(crate) fn parse(s: &str) -> Option<Engine> {
        match s {
            "k8s" => Some(Engine::K8s),
            "slurm" => Some(Engine::Slurm),
            _ => None,
        }
    }
}

/// One OS process of the program on the cluster: a replica of a group, a single node, or a
/// `process` block.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    /// Its place in [`Plan::units`] (the coordinator's numbering).
    pub(crate) index: usize,
    /// The job it belongs to, by index in [`Plan::jobs`].
    pub(crate) job: usize,
    /// Its index within its job (`JOB_COMPLETION_INDEX`, `SLURM_PROCID`).
    pub(crate) rank: usize,
    /// The node ids it runs, in id order; node `k` of it serves on port offset `1 + k`.
    pub(crate) nodes: Vec<usize>,
    /// Its label for messages: the node's label or the block's name.
    pub(crate) label: String,
}

/// A set of identical units started together: a Kubernetes Indexed Job, a Slurm step.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The name as written in `.lp` (group, node or block).
    pub(crate) source: String,
    /// The DNS-1123 name derived from it (`LP_JOB`; a Kubernetes Job's name adds the
    /// launch's prefix, [`k8s::Names::job`]).
    pub(crate) name: String,
    /// Its units, in rank order.
    pub(crate) units: Vec<usize>,
    /// The resources of one unit (a block's nodes' resources summed).
    pub(crate) resources: Resources,
    /// The environment of one unit (a block's nodes' `env`s merged, in order).
    pub(crate) env: Vec<(String, String)>,
    /// The restart policy of its units (a block's: the first one its nodes have): on
    /// Kubernetes the container restarts in its pod and rejoins the program.
    pub(crate) restart: Option<Restart>,
    /// The nodes whose keys its pods get: its nodes' and those they hold handles to (see
    /// [`crate::launch::key_ids`]).
    pub(crate) keys: Vec<usize>,
}

/// How a program's nodes map onto cluster processes.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The program's name, as in `.lp`.
    pub(crate) program: String,
    /// Node labels by id.
    pub(crate) labels: Vec<String>,
    /// The jobs, in the order of their first node.
    pub(crate) jobs: Vec<Job>,
    /// Every unit, job by job.
    pub(crate) units: Vec<Unit>,
    /// Which unit runs each node, by node id.
    pub(crate) unit_of: Vec<usize>,
    /// A fingerprint of all the above (see [`vars::LAYOUT`]).
    pub(crate) fingerprint: String,
    /// Whether each node (by id) has a restart policy: calls to it wait for it to come back.
    pub(crate) restartable: Vec<bool>,
    /// Whether each node (by id) is in a `process` block that ends with its first finished
    /// node.
    pub(crate) ends_with_first: Vec<bool>,
}

impl Plan {
    /// Groups `nodes` into jobs and units; errors name what cannot be expressed on a cluster.
    pub(crate) fn new(layout: &Layout, nodes: &[ErasedNode]) -> Result<Plan, ClusterError> {
        if !layout.errors.is_empty() {
            return Err(crate::LaunchError::Layout(layout.errors.clone())
                .to_string()
                .into());
        }
        let mut order: Vec<&ErasedNode> = nodes.iter().collect();
        order.sort_by_key(|n| n.id);
        let mut grouping = Grouping {
            jobs: Vec::new(),
            job_of_key: HashMap::new(),
            units: Vec::new(),
            unit_of: vec![usize::MAX; layout.labels.len()],
        };
        for node in order {
            grouping.add(layout, node)?;
        }
        check_names(&grouping.jobs)?;
        let (mut jobs, units, unit_of) = grouping.in_job_order();
        let by_id: HashMap<usize, &ErasedNode> = nodes.iter().map(|n| (n.id, n)).collect();
        for job in &mut jobs {
            let ids = job.units.iter().flat_map(|&u| &units[u].nodes);
            job.keys = crate::launch::key_ids(ids.filter_map(|id| by_id.get(id).copied()));
        }
        let fingerprint = fingerprint(layout, &jobs, &units);
        Ok(Plan {
            restartable: crate::launch::local_mp::restartable(layout, nodes),
            ends_with_first: (0..layout.labels.len())
                .map(|id| layout.ends_with_first(id).is_some())
                .collect(),
            program: layout.program.to_string(),
            labels: layout.labels.clone(),
            jobs,
            units,
            unit_of,
            fingerprint,
        })
    }

    /// The job named `name`.
    pub(crate) fn job(&self, name: &str) -> Option<usize> {
        self.jobs.iter().position(|j| j.name == name)
    }

    /// The unit with `rank` in job `job`.
    pub(crate) fn unit(&self, job: usize, rank: usize) -> Option<&Unit> {
        self.jobs
            .get(job)
            .and_then(|j| j.units.get(rank))
            .and_then(|&u| self.units.get(u))
    }
}

/// Nodes grouped into jobs and units, as [`Plan::new`] goes.
struct Grouping {
    jobs: Vec<Job>,
    /// The job of each key: a block, a group, or a single node.
    job_of_key: HashMap<String, usize>,
    units: Vec<Unit>,
    /// The unit of each node, by id.
    unit_of: Vec<usize>,
}

impl Grouping {
    /// Adds `node` to its job (its block's, its group's, or its own) and unit.
    fn add(&mut self, layout: &Layout, node: &ErasedNode) -> Result<(), ClusterError> {
        let block = layout.processes.get(node.id).copied().flatten();
        let (key, source, rank) = match (block, node.replica) {
            (Some(block), _) => (format!("process {block}"), block.to_string(), 0),
            (None, Some(replica)) => {
                let group = node
                    .label
                    .rsplit_once('/')
                    .map_or(node.label.as_str(), |(g, _)| g);
                (format!("group {group}"), group.to_string(), replica)
            }
            (None, None) => (format!("node {}", node.label), node.label.clone(), 0),
        };
        let job = self.job(key, source)?;
        let label = match block {
            Some(_) => self.jobs[job].source.clone(),
            None => node.label.clone(),
        };
        let unit = self.unit(job, rank, label);
        self.units[unit].nodes.push(node.id);
        if let Some(slot) = self.unit_of.get_mut(node.id) {
            *slot = unit;
        }
        // Every replica of a group has the same settings; a block adds its nodes'.
        if rank == 0 {
            let job = &mut self.jobs[job];
            job.resources = add(&job.resources, &node.settings.resources);
            job.restart = job.restart.or(node.settings.restart);
            for (k, v) in &node.settings.env {
                job.env.retain(|(key, _)| key != k);
                job.env.push((k.clone(), v.clone()));
            }
        }
        Ok(())
    }

    /// The job of `key`, made when it is new.
    fn job(&mut self, key: String, source: String) -> Result<usize, ClusterError> {
        if let Some(&job) = self.job_of_key.get(&key) {
            return Ok(job);
        }
        self.jobs.push(Job {
            name: dns_label(&source)?,
            source,
            units: Vec::new(),
            resources: Resources::default(),
            env: Vec::new(),
            restart: None,
            keys: Vec::new(),
        });
        self.job_of_key.insert(key, self.jobs.len() - 1);
        Ok(self.jobs.len() - 1)
    }

    /// The unit of `rank` in `job`, made when it is new.
    fn unit(&mut self, job: usize, rank: usize, label: String) -> usize {
        let units = &self.units;
        if let Some(unit) = self.jobs[job]
            .units
            .iter()
            .copied()
            .find(|&u| units[u].rank == rank)
        {
            return unit;
        }
        self.units.push(Unit {
            index: self.units.len(),
            job,
            rank,
            nodes: Vec::new(),
            label,
        });
        self.jobs[job].units.push(self.units.len() - 1);
        self.units.len() - 1
    }

    /// The jobs, the units renumbered in job order (so a job's units are consecutive: Slurm
    /// ranks map directly), and each node's unit.
    fn in_job_order(mut self) -> (Vec<Job>, Vec<Unit>, Vec<usize>) {
        let mut ordered: Vec<Unit> = Vec::with_capacity(self.units.len());
        for job in &mut self.jobs {
            let mut members: Vec<usize> = std::mem::take(&mut job.units);
            members.sort_by_key(|&u| self.units[u].rank);
            for u in members {
                let mut unit = self.units[u].clone();
                unit.index = ordered.len();
                for &id in &unit.nodes {
                    if let Some(slot) = self.unit_of.get_mut(id) {
                        *slot = unit.index;
                    }
                }
                job.units.push(unit.index);
                ordered.push(unit);
            }
        }
        (self.jobs, ordered, self.unit_of)
    }
}

/// Two jobs (or a job and the coordinator) whose cluster names collide are an error.
fn check_names(jobs: &[Job]) -> Result<(), ClusterError> {
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    names.insert(COORDINATOR, "the coordinator");
    for job in jobs {
        if let Some(other) = names.insert(&job.name, &job.source) {
            return Err(format!(
                "`{}` and `{other}` both become the cluster name `{}`; rename one",
                job.source, job.name
            )
            .into());
        }
    }
    Ok(())
}

fn add(a: &Resources, b: &Resources) -> Resources {
    fn sum<T: std::ops::Add<Output = T> + Copy>(a: Option<T>, b: Option<T>) -> Option<T> {
        match (a, b) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        }
    }
    let memory = match (
        a.memory.as_deref().map(parse_memory),
        b.memory.as_deref().map(parse_memory),
    ) {
        (Some(Ok(x)), Some(Ok(y))) => Some(format!("{}Mi", (x + y).div_ceil(1 << 20))),
        _ => b.memory.clone().or_else(|| a.memory.clone()),
    };
    Resources {
        cpus: sum(a.cpus, b.cpus),
        memory,
        gpus: sum(a.gpus, b.gpus),
    }
}

/// Bytes of a Kubernetes quantity (`512Mi`, `2Gi`, `1G`, `1000000`).
pub(crate) fn parse_memory(raw: &str) -> Result<u64, ClusterError> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("memory `{raw}` is not a quantity like `512Mi` or `2Gi`"))?;
    let scale: f64 = match unit {
        "" => 1.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "memory `{raw}` has an unknown unit `{unit}`; use Ki, Mi, Gi, Ti, k, M, G or T"
            )
            .into())
        }
    };
    let bytes = number * scale;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("memory `{raw}` is out of range").into());
    }
    Ok(bytes.ceil() as u64)
}

/// A DNS-1123 label from a `.lp` name: lower case, `_` → `-`; an error when it cannot start
/// with a letter. It may be of any length: the Kubernetes object names made from it are
/// shortened to fit ([`k8s::Names`]).
pub(crate) fn dns_label(name: &str) -> Result<String, ClusterError> {
    let label: String = name
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    let label = label.trim_matches('-').to_string();
    if label.is_empty() || !label.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(
            format!("`{name}` cannot be a cluster name (it must start with a letter)").into(),
        );
    }
    Ok(label)
}

fn fingerprint(layout: &Layout, jobs: &[Job], units: &[Unit]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(layout.program.as_bytes());
    for label in &layout.labels {
        h.update(b"\0");
        h.update(label.as_bytes());
    }
    for job in jobs {
        h.update(b"\x01");
        h.update(job.name.as_bytes());
        h.update(job.units.len().to_le_bytes());
    }
    for unit in units {
        h.update(b"\x02");
        for id in &unit.nodes {
            h.update(id.to_le_bytes());
        }
    }
    hex(&h.finalize()[..8])
}

/// Lower-case hex digits of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 8 hex digits of the SHA-256 of `text`: tells apart names that were shortened.
pub(crate) fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(text.as_bytes())[..4])
}

/// Whether this process was started by a cluster engine to run a unit or the coordinator.
pub(crate) fn is_cluster_child() -> bool {
    std::env::var_os(vars::CLUSTER).is_some()
}

/// The cluster launcher's flags: `--image`, `--namespace`, `--out`, `--apply`, `--submit`,
/// `--wait`. Each is also `--lp_<name>`; the short spelling is left out when a param of the
/// program has that name (the param wins).
pub(crate) fn args(mut cmd: clap::Command, params: &[Flag]) -> clap::Command {
    use clap::{Arg, ArgAction};
    let taken = |name: &str| {
        params
            .iter()
            .any(|f| f.name == name || f.name.replace('_', "-") == name)
    };
    let flag = |name: &'static str, arg: Arg| {
        let mut arg = arg
            .long(flags::long(name))
            .help_heading("Cluster launch (--lp_launch_type k8s | slurm)");
        if !taken(name) {
            arg = arg.alias(name);
        }
        arg
    };
    for (name, value, help) in [
        (flags::IMAGE, Some("IMAGE"), "k8s: the container image holding this binary (required)"),
        (flags::NAMESPACE, Some("NAMESPACE"), "k8s: the namespace of the manifests (default: `default`)"),
        (flags::OUT, Some("PATH"), "k8s: a directory to write the manifests to (default: stdout); slurm: the sbatch script to write (default: <program>.sbatch)"),
    ] {
        cmd = cmd.arg(flag(
            name,
            Arg::new(flags::long(name))
                .value_name(value.unwrap_or_default())
                .action(ArgAction::Set)
                .help(help),
        ));
    }
    for (name, help) in [
        (flags::APPLY, "k8s: run `kubectl apply -f` on the manifests"),
        (flags::SUBMIT, "slurm: submit the script with `sbatch`"),
        (flags::WAIT, "slurm: with --submit, follow the job's output to its end and exit with the program's status"),
    ] {
        cmd = cmd.arg(flag(
            name,
            Arg::new(flags::long(name))
                .action(ArgAction::SetTrue)
                .help(help),
        ));
    }
    cmd
}

/// The names of the cluster launcher's flags.
pub(crate) mod flags {
    pub(crate) const IMAGE: &str = "image";
    pub(crate) const NAMESPACE: &str = "namespace";
    pub(crate) const OUT: &str = "out";
    pub(crate) const APPLY: &str = "apply";
    pub(crate) const SUBMIT: &str = "submit";
    pub(crate) const WAIT: &str = "wait";

    /// The `--lp_` spelling of a cluster flag.
    pub(crate) fn long(name: &'static str) -> &'static str {
        match name {
            IMAGE => "lp_image",
            NAMESPACE => "lp_namespace",
            OUT => "lp_out",
            APPLY => "lp_apply",
            SUBMIT => "lp_submit",
            _ => "lp_wait",
        }
    }
}

/// What the launcher passes on to a cluster's processes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Passed {
    /// Every process's flags: the params as given (after defaults) and the grace period.
    pub(crate) args: Vec<String>,
    /// `--lp_dashboard`, when given: where the coordinator serves the dashboard.
    pub(crate) dashboard: Option<std::net::SocketAddr>,
}

impl Passed {
    /// What the launcher passes on: the params `values`, the grace period `notice`, and where
    /// the coordinator serves the dashboard, if anywhere.
    pub(crate) fn new(
        values: &FlagValues,
        notice: Duration,
        dashboard: Option<std::net::SocketAddr>,
    ) -> Self {
        let mut args: Vec<String> = values
            .raw()
            .map(|(name, value)| format!("--{name}={value}"))
            .collect();
        args.push(format!(
            "--lp_termination_notice_secs={}",
            notice.as_secs_f64()
        ));
        Passed { args, dashboard }
    }

    /// The coordinator's own environment: where it serves the dashboard, if it does.
    pub(crate) fn coordinator_env(&self) -> Vec<(String, String)> {
        let addr = self.dashboard.iter();
        addr.map(|addr| (vars::DASHBOARD.to_string(), addr.to_string()))
            .collect()
    }

    /// Every unit's own environment: it counts its calls for the dashboard, if one is served.
    pub(crate) fn unit_env(&self) -> Vec<(String, String)> {
        let served = self.dashboard.iter();
        served
            .map(|_| (crate::metrics::ENV.to_string(), "1".to_string()))
            .collect()
    }
}

/// The grace period [`Passed::new`] passes on to the processes.
pub(crate) fn grace_of(args: &[String]) -> Duration {
    args.iter()
        .find_map(|a| a.strip_prefix("--lp_termination_notice_secs="))
        .and_then(|s| s.parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(Duration::from_secs(10))
}

/// How long the coordinator waits for every unit to join.
pub(crate) fn join_timeout() -> Duration {
    std::env::var(vars::JOIN_TIMEOUT)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(DEFAULT_JOIN_TIMEOUT)
}

/// The launcher side: `--lp_launch_type k8s|slurm` writes (and applies/submits) the engine's job
/// description for `program`. Exit status: 0 when written, 1 on an error (printed), or with
/// `slurm --submit --wait`, the program's status.
pub(crate) fn launch_main<G: crate::program::Program>(
    engine: Engine,
    matches: &clap::ArgMatches,
    values: &FlagValues,
    notice: Duration,
    program: G,
) -> ExitCode {
    crate::log::init(true);
    let (layout, nodes) = program.into_parts();
    let plan = match Plan::new(&layout, &nodes) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {}", crate::error::chain(&e));
            return ExitCode::FAILURE;
        }
    };
    let passed = Passed::new(values, notice, crate::flags::dashboard_asked(matches));
    let get = |name: &'static str| matches.get_one::<String>(flags::long(name)).cloned();
    let flag = |name: &'static str| matches.get_flag(flags::long(name));
    let outcome = match engine {
        Engine::K8s => k8s::main(
            &plan,
            &passed,
            &k8s::Options {
                image: get(flags::IMAGE),
                namespace: get(flags::NAMESPACE),
                out: get(flags::OUT).map(Into::into),
                apply: flag(flags::APPLY),
            },
        ),
        Engine::Slurm => slurm::main(
            &plan,
            &passed,
            &slurm::Options {
                out: get(flags::OUT).map(Into::into),
                submit: flag(flags::SUBMIT),
                wait: flag(flags::WAIT),
            },
        ),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", crate::error::chain(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codegen::IdAlloc;
    use crate::program::{Built, Env};

    fn node(id: usize, label: &str, replica: Option<usize>, replicas: usize) -> ErasedNode {
        ErasedNode {
            id,
            label: label.to_string(),
            replica,
            replicas,
            settings: crate::program::Settings {
                env: vec![("K".into(), label.into())],
                resources: Resources {
                    cpus: Some(0.5),
                    memory: Some("64Mi".into()),
                    gpus: None,
                },
                ..Default::default()
            },
            calls: std::sync::Arc::from([]),
            has_run: true,
            build: std::sync::Arc::new(|_: &Env| -> crate::Result<Built> {
                unreachable!("plans never build nodes")
            }),
        }
    }

    /// `group producer[3]`, `node consumer`, `process pair { node a; node b; }`.
    pub(super) fn program() -> (Layout, Vec<ErasedNode>) {
        let mut ids = IdAlloc::new("seed_like", &(), &[]);
        ids.group::<()>("producer", crate::program::Count::Const(3));
        ids.node::<()>("consumer");
        ids.process(Some("pair"));
        ids.node::<()>("a");
        ids.node::<()>("b");
        ids.process(None);
        let nodes = vec![
            node(0, "producer/0", Some(0), 3),
            node(1, "producer/1", Some(1), 3),
            node(2, "producer/2", Some(2), 3),
            ErasedNode {
                calls: std::sync::Arc::from([0, 1, 2]),
                ..node(3, "consumer", None, 1)
            },
            node(4, "a", None, 1),
            ErasedNode {
                calls: std::sync::Arc::from([3]),
                ..node(5, "b", None, 1)
            },
        ];
        (ids.finish(), nodes)
    }

    #[test]
    fn each_job_gets_the_keys_of_its_nodes_and_of_those_they_call() {
        let (layout, nodes) = program();
        let plan = Plan::new(&layout, &nodes).unwrap();
        let keys: Vec<(&str, &[usize])> = plan
            .jobs
            .iter()
            .map(|j| (j.name.as_str(), j.keys.as_slice()))
            .collect();
        assert_eq!(
            keys,
            [
                ("producer", &[0, 1, 2][..]),
                ("consumer", &[0, 1, 2, 3][..]),
                ("pair", &[3, 4, 5][..])
            ]
        );
    }

    #[test]
    fn plans_group_nodes_into_jobs_of_units() {
        let (layout, nodes) = program();
        let plan = Plan::new(&layout, &nodes).unwrap();
        let jobs: Vec<(&str, usize)> = plan
            .jobs
            .iter()
            .map(|j| (j.name.as_str(), j.units.len()))
            .collect();
        assert_eq!(jobs, [("producer", 3), ("consumer", 1), ("pair", 1)]);
        assert_eq!(plan.units.len(), 5);
        let pair = plan.unit(2, 0).unwrap();
        assert_eq!(
            (pair.nodes.clone(), pair.label.as_str()),
            (vec![4, 5], "pair")
        );
        assert_eq!(plan.unit(0, 2).unwrap().nodes, [2]);
        assert_eq!(plan.unit_of, [0, 1, 2, 3, 4, 4]);
        // A block sums its nodes' resources and merges their env; a group takes one replica's.
        assert_eq!(plan.jobs[2].resources.cpus, Some(1.0));
        assert_eq!(plan.jobs[2].resources.memory.as_deref(), Some("128Mi"));
        assert_eq!(plan.jobs[0].resources.cpus, Some(0.5));
        assert_eq!(
            plan.jobs[2].env.len(),
            1,
            "the same key once: {:?}",
            plan.jobs[2].env
        );
        let (layout2, nodes2) = program();
        assert_eq!(
            Plan::new(&layout2, &nodes2).unwrap().fingerprint,
            plan.fingerprint
        );
    }

    #[test]
    fn names_that_collide_or_cannot_be_dns_labels_are_errors() {
        let mut ids = IdAlloc::new("p", &(), &[]);
        ids.node::<()>("Worker");
        ids.node::<()>("worker");
        let nodes = vec![node(0, "Worker", None, 1), node(1, "worker", None, 1)];
        let e = Plan::new(&ids.finish(), &nodes).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("both become the cluster name `worker`"), "{e}");

        let mut ids = IdAlloc::new("p", &(), &[]);
        ids.node::<()>("lp_coordinator");
        let e = Plan::new(&ids.finish(), &[node(0, "lp_coordinator", None, 1)]).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("lp-coordinator"), "{e}");

        assert_eq!(dns_label("slow_consumer").unwrap(), "slow-consumer");
        assert_eq!(dns_label("_x").unwrap(), "x");
        assert!(dns_label("9lives")
            .unwrap_err()
            .to_string()
            .contains("start with a letter"));
        assert_eq!(dns_label(&"a".repeat(100)).unwrap(), "a".repeat(100));
    }

    #[test]
    fn a_param_named_like_a_cluster_flag_keeps_its_name() {
        let params = [Flag {
            name: "wait",
            ty: "bool",
            help: "a param called wait",
            default: Some("false"),
        }];
        let cmd = crate::flags::command("p", "about", &params);
        let m = cmd
            .clone()
            .try_get_matches_from(["p", "--wait", "true", "--lp_wait", "--image", "i"])
            .unwrap();
        assert_eq!(
            m.get_one::<String>("wait").map(String::as_str),
            Some("true")
        );
        assert!(m.get_flag(flags::long(flags::WAIT)));
        assert_eq!(
            m.get_one::<String>(flags::long(flags::IMAGE))
                .map(String::as_str),
            Some("i")
        );
    }

    #[test]
    fn memory_quantities() {
        assert_eq!(parse_memory("64Mi").unwrap(), 64 << 20);
        assert_eq!(parse_memory("2Gi").unwrap(), 2 << 30);
        assert_eq!(parse_memory("1G").unwrap(), 1_000_000_000);
        assert_eq!(parse_memory("1.5Ki").unwrap(), 1536);
        assert!(parse_memory("lots").is_err());
        assert!(parse_memory("2Gb")
            .unwrap_err()
            .to_string()
            .contains("unknown unit"));
    }
}
