//! The program graph before launch: node and group descriptions (with their factories and run
//! entries), the ids that identify nodes, and what a factory sees when it builds a node.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::context::{BlockingRun, Context, Run};
use crate::courier::batch::Batch;
use crate::courier::client::Net;
use crate::courier::interface::Table;
use crate::courier::server::Service;
use crate::courier::{Courier, Host, Serve, Served};
use crate::handle::Handle;
use crate::values::{FromNum, Num, Problem, Scope, Site, ValueError};

/// The largest replica count a group may have.
pub const MAX_REPLICAS: i128 = 1 << 20;

/// A program produced by a generated `make_program`, ready to be launched.
pub trait Program: Send + 'static {
    /// Splits the program into its layout and its nodes (generated; used by the launchers).
    #[doc(hidden)]
    fn into_parts(self) -> (Layout, Vec<ErasedNode>);

    /// Erases only the nodes `selection` wants into it, recording what callers need of every
    /// node; its layout (generated, so that a node process builds just the nodes it hosts, not
    /// the whole program: otherwise launching N processes would build N² nodes).
    #[doc(hidden)]
    fn select(self, selection: &mut Selection) -> Layout
    where
        Self: Sized,
    {
        let (layout, nodes) = self.into_parts();
        for node in nodes {
            selection.record(node.id..node.id + 1, &node.settings);
            if selection.wants_one(node.id) {
                selection.nodes.push(node);
            }
        }
        layout
    }
}

/// Splits `program` into its layout and every node, through [`Program::select`] (generated
/// `into_parts` uses it).
#[doc(hidden)]
pub fn erase_all<G: Program>(program: G) -> (Layout, Vec<ErasedNode>) {
    let mut selection = Selection::all();
    let layout = program.select(&mut selection);
    (layout, selection.nodes)
}

/// The nodes a launcher takes of a program: every node, or only those one process hosts; and,
/// for every node, what its callers need of its block (they may run in any process).
pub struct Selection {
    /// The ids wanted, sorted; `None`: every node.
    wanted: Option<Vec<usize>>,
    /// The wanted nodes, erased.
    nodes: Vec<ErasedNode>,
    /// What callers need of each node and group, by ranges of ids.
    callees: Vec<Callees>,
}

/// What callers need of the block of a node, or of a group's replicas.
struct Callees {
    /// The node's id, or its group's replicas'.
    ids: std::ops::Range<usize>,
    /// Whether they come back after a failure (callers wait for them rather than fail fast).
    restartable: bool,
    /// How long calls to them wait for a reply.
    deadline: Option<Duration>,
}

impl Selection {
    /// Every node.
    pub(crate) fn all() -> Self {
        Selection {
            wanted: None,
            nodes: Vec::new(),
            callees: Vec::new(),
        }
    }

    /// Only the nodes `ids`.
    pub(crate) fn only(ids: &[usize]) -> Self {
        let mut wanted = ids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        Selection {
            wanted: Some(wanted),
            ..Selection::all()
        }
    }

    /// The ids of `ids` it wants, in order.
    fn wants(&self, ids: std::ops::Range<usize>) -> Vec<usize> {
        match &self.wanted {
            None => ids.collect(),
            Some(wanted) => {
                let from = wanted.partition_point(|&id| id < ids.start);
                let to = wanted.partition_point(|&id| id < ids.end);
                wanted[from..to].to_vec()
            }
        }
    }

    /// Whether it wants node `id`.
    fn wants_one(&self, id: usize) -> bool {
        self.wanted
            .as_ref()
            .is_none_or(|wanted| wanted.binary_search(&id).is_ok())
    }

    /// Notes what callers need of the nodes `ids`, whose block says `settings`.
    fn record(&mut self, ids: std::ops::Range<usize>, settings: &Settings) {
        self.callees.push(Callees {
            ids,
            restartable: settings.restart.is_some(),
            deadline: settings.deadline,
        });
    }

    /// Which of a program's `count` nodes have a restart policy, by id.
    pub(crate) fn restartable(&self, count: usize) -> Vec<bool> {
        self.by_id(count, false, |c| c.restartable)
    }

    /// The call deadline each of a program's `count` nodes declares, by id.
    pub(crate) fn deadlines(&self, count: usize) -> Vec<Option<Duration>> {
        self.by_id(count, None, |c| c.deadline)
    }

    fn by_id<T: Clone>(&self, count: usize, none: T, of: impl Fn(&Callees) -> T) -> Vec<T> {
        let mut values = vec![none; count];
        for callees in &self.callees {
            let ids = callees.ids.start.min(count)..callees.ids.end.min(count);
            values[ids].fill(of(callees));
        }
        values
    }

    /// The wanted nodes, erased.
    pub(crate) fn into_nodes(self) -> Vec<ErasedNode> {
        self.nodes
    }
}

/// Identifies one node of a program; turn it into a [`Handle`] with
/// [`Running::handle`](crate::Running::handle).
pub struct NodeRef<T> {
    /// The node's index in the program.
    pub(crate) id: usize,
    /// The node's name, or its group's.
    pub(crate) name: &'static str,
    /// Its index in its group, for a replica.
    pub(crate) replica: Option<usize>,
    _type: PhantomData<fn() -> T>,
}

impl<T> NodeRef<T> {
    /// The node's label, as its own [`Context::label`](crate::Context::label) says it:
    /// `name` for a node, `name/i` for replica `i` of a group.
    pub fn label(&self) -> String {
        match self.replica {
            Some(i) => format!("{}/{i}", self.name),
            None => self.name.to_string(),
        }
    }

    /// The node's name in the `.lp` file: for a replica, its group's.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its index in its group, for a replica (as [`Context::replica`](crate::Context::replica)).
    pub fn replica(&self) -> Option<usize> {
        self.replica
    }
}

impl<T> Clone for NodeRef<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for NodeRef<T> {}

impl<T> std::fmt::Debug for NodeRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeRef({})", self.label())
    }
}

/// Identifies a replicated group of a program: the ids of its replicas.
pub struct GroupRef<T> {
    /// The group's name (replica labels are `name/i`).
    pub(crate) name: &'static str,
    /// The id of replica 0; replicas have consecutive ids.
    pub(crate) first: usize,
    /// The number of replicas.
    pub(crate) len: usize,
    _type: PhantomData<fn() -> T>,
}

impl<T> GroupRef<T> {
    /// The number of replicas.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the group has no replicas.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The group's name in the `.lp` file (its replicas' labels are `name/i`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Replica `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<NodeRef<T>> {
        (i < self.len).then(|| NodeRef {
            id: self.first + i,
            name: self.name,
            replica: Some(i),
            _type: PhantomData,
        })
    }

    pub(crate) fn ids(&self) -> std::ops::Range<usize> {
        self.first..self.first + self.len
    }
}

impl<T> Clone for GroupRef<T> {
    fn clone(&self) -> Self {
        GroupRef {
            name: self.name,
            first: self.first,
            len: self.len,
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for GroupRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GroupRef({}[{}])", self.name, self.len)
    }
}

/// Some nodes of a program, for [`Running::wait_for`](crate::Running::wait_for): made from a
/// [`NodeRef`], a [`GroupRef`] (every replica), or an array or `Vec` of those.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nodes(pub(crate) Vec<usize>);

impl<T> From<NodeRef<T>> for Nodes {
    fn from(node: NodeRef<T>) -> Self {
        Nodes(vec![node.id])
    }
}

impl<T> From<&GroupRef<T>> for Nodes {
    fn from(group: &GroupRef<T>) -> Self {
        Nodes(group.ids().collect())
    }
}

impl<T> From<GroupRef<T>> for Nodes {
    fn from(group: GroupRef<T>) -> Self {
        Nodes::from(&group)
    }
}

impl<N: Into<Nodes>, const K: usize> From<[N; K]> for Nodes {
    fn from(all: [N; K]) -> Self {
        Nodes(all.into_iter().flat_map(|n| n.into().0).collect())
    }
}

impl<N: Into<Nodes>> From<Vec<N>> for Nodes {
    fn from(all: Vec<N>) -> Self {
        Nodes(all.into_iter().flat_map(|n| n.into().0).collect())
    }
}

/// Allocates node ids for a program before any node is built (so handles may form cycles),
/// and computes and checks every value the program computes from its params.
pub struct IdAlloc {
    /// What the program is called, checked by child processes.
    program: &'static str,
    /// The params as JSON, handed to child processes so they rebuild the same program.
    params_json: String,
    /// The numeric params' values, by param index.
    numbers: Vec<Num>,
    /// The program's computed values.
    sites: &'static [Site],
    /// Labels by id.
    labels: Vec<String>,
    /// The `process` block each node belongs to, by id (`None`: a process of its own).
    processes: Vec<Option<&'static str>>,
    /// The `process` block nodes allocated now belong to.
    current_process: Option<&'static str>,
    /// The `process` blocks that end with their first finished node.
    first_completed: Vec<&'static str>,
    /// The size of each node and group allocated so far, in allocation (node index) order.
    sizes: Vec<usize>,
    /// Problems found: values that do not compute or fit, params that do not encode.
    errors: Vec<LayoutError>,
}

/// A count as generated code gives it: known when checking, or computed from params.
#[derive(Debug, Clone, Copy)]
pub enum Count {
    /// Known when the program was checked.
    Const(u64),
    /// Computed from params by this site.
    Site(&'static Site),
}

impl IdAlloc {
    /// Starts allocating ids for `program`, built from `params`, whose computed values are
    /// `sites`.
    pub fn new<P: crate::codegen::Params>(
        program: &'static str,
        params: &P,
        sites: &'static [Site],
    ) -> Self {
        let mut errors = Vec::new();
        let params_json = serde_json::to_string(params).unwrap_or_else(|e| {
            errors.push(LayoutError::Params(e.to_string()));
            String::new()
        });
        let count = sites
            .iter()
            .flat_map(|s| s.flags.iter().map(|&(_, i)| i + 1))
            .max()
            .unwrap_or(0);
        IdAlloc {
            program,
            params_json,
            numbers: (0..count).map(|i| params.number(i)).collect(),
            sites,
            labels: Vec::new(),
            processes: Vec::new(),
            current_process: None,
            first_completed: Vec::new(),
            sizes: Vec::new(),
            errors,
        }
    }

    /// Nodes allocated from now on run in the process named `name` (a `process` block:
    /// colocated, as threads of one OS process); `None` ends the block.
    pub fn process(&mut self, name: Option<&'static str>) {
        self.current_process = name;
    }

    /// The current `process` block ends when its first node finishes
    /// (`return_on_first_completed: true;`, Launchpad's `return_on_first_completed`): its
    /// other nodes are stopped then, while the rest of the program runs on.
    pub fn return_on_first_completed(&mut self) {
        self.first_completed.extend(self.current_process);
    }

    /// Allocates one node labelled `label`.
    pub fn node<T>(&mut self, label: &'static str) -> NodeRef<T> {
        self.labels.push(label.to_string());
        self.processes.push(self.current_process);
        self.sizes.push(1);
        NodeRef {
            id: self.labels.len() - 1,
            name: label,
            replica: None,
            _type: PhantomData,
        }
    }

    /// Allocates a group labelled `name/0`… of `count` replicas. A count that does not compute
    /// or fit is recorded as an error (reported before launch) and gives an empty group.
    pub fn group<T>(&mut self, name: &'static str, count: Count) -> GroupRef<T> {
        let len = match count {
            Count::Const(n) if i128::from(n) <= MAX_REPLICAS => n as usize,
            Count::Const(n) => {
                self.errors.push(LayoutError::Group(format!(
                    "group `{name}` has {n} replicas; it must have at most {MAX_REPLICAS}"
                )));
                0
            }
            Count::Site(site) => match self.eval::<usize>(site, 0, 0) {
                Ok(n) => n,
                Err(e) => {
                    self.errors.push(LayoutError::Value(e));
                    0
                }
            },
        };
        let first = self.labels.len();
        self.labels.extend((0..len).map(|i| format!("{name}/{i}")));
        self.processes
            .extend((0..len).map(|_| self.current_process));
        self.sizes.push(len);
        GroupRef {
            name,
            first,
            len,
            _type: PhantomData,
        }
    }

    /// A block setting computed from params (checked with every other site by
    /// [`finish`](Self::finish); the type's default when it does not compute).
    pub fn setting<T: FromNum + Default>(&self, site: &'static Site) -> T {
        self.eval(site, 0, 0).unwrap_or_default()
    }

    fn eval<T: FromNum>(
        &self,
        site: &'static Site,
        replica: usize,
        replicas: usize,
    ) -> Result<T, ValueError> {
        let numbers = |i: usize| self.number(i);
        site.value(self.scope(replica, replicas, &numbers))
    }

    fn number(&self, index: usize) -> Num {
        self.numbers.get(index).copied().unwrap_or(Num::Int(0))
    }

    fn scope<'a>(
        &self,
        replica: usize,
        replicas: usize,
        numbers: &'a dyn Fn(usize) -> Num,
    ) -> Scope<'a> {
        Scope {
            numbers,
            replica,
            replicas,
        }
    }

    /// The finished layout, once every computed value is checked: for each replica of its
    /// group, and an index against its group's size.
    pub fn finish(mut self) -> Layout {
        let mut errors = Vec::new();
        for site in self.sites {
            if let Some(error) = self.check(site) {
                errors.push(LayoutError::Value(error));
            }
        }
        self.errors.extend(errors);
        Layout {
            program: self.program,
            params_json: self.params_json,
            labels: self.labels,
            processes: self.processes,
            first_completed: self.first_completed,
            errors: self.errors,
        }
    }

    /// The first error of a site over the replicas it is computed for.
    fn check(&self, site: &'static Site) -> Option<ValueError> {
        let size = |node: usize| self.sizes.get(node).copied().unwrap_or(0);
        let replicas = site.group.map_or(1, size);
        let group_size = if site.group.is_some() { replicas } else { 1 };
        let numbers = |i: usize| self.number(i);
        for replica in 0..replicas {
            let scope = self.scope(replica, group_size, &numbers);
            let value = match site.eval(scope) {
                Ok(value) => value,
                Err(error) => return Some(error),
            };
            let Some(bound) = site.bound.map(size) else {
                continue;
            };
            if !matches!(value, Num::Int(i) if (0..bound as i128).contains(&i)) {
                let allowed = match bound {
                    0 => "no index (the group is empty)".to_string(),
                    n => format!("an index from 0 to {}", n - 1),
                };
                let problem = Problem::OutOfRange {
                    value: value.to_string(),
                    allowed,
                };
                return Some(site.error(scope, problem));
            }
        }
        None
    }
}

/// A problem with a program found before launch.
#[derive(Debug, Clone, PartialEq)]
pub enum LayoutError {
    /// A value computed from params does not compute or fit.
    Value(ValueError),
    /// A group is too large.
    Group(String),
    /// The params cannot be encoded for child processes.
    Params(String),
}

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayoutError::Value(e) => e.fmt(f),
            LayoutError::Group(e) => f.write_str(e),
            LayoutError::Params(e) => write!(f, "cannot encode the params: {e}"),
        }
    }
}

/// The shape of a program: its name, its params, the labels of its nodes in id order, and any
/// error found while allocating.
#[derive(Debug, Clone)]
pub struct Layout {
    pub(crate) program: &'static str,
    pub(crate) params_json: String,
    pub(crate) labels: Vec<String>,
    /// The `process` block of each node, by id.
    pub(crate) processes: Vec<Option<&'static str>>,
    /// The `process` blocks that end with their first finished node.
    pub(crate) first_completed: Vec<&'static str>,
    pub(crate) errors: Vec<LayoutError>,
}

impl Layout {
    /// Whether node `id` is in a `process` block that ends with its first finished node; the
    /// block's name then.
    pub(crate) fn ends_with_first(&self, id: usize) -> Option<&'static str> {
        let process = self.processes.get(id).copied().flatten()?;
        self.first_completed.contains(&process).then_some(process)
    }
}

/// What a node factory sees while it builds its node.
pub struct Env {
    /// The node's id: the handles it makes are its.
    pub(crate) id: usize,
    /// The node's index in its group (0 for a single node).
    pub(crate) replica: usize,
    /// The group's size (1 for a single node).
    pub(crate) replicas: usize,
    /// Where the other nodes are.
    pub(crate) net: Net,
    /// The node's span, so its constructor and handlers log with its label.
    pub(crate) span: tracing::Span,
}

impl Env {
    /// What `node`'s factory sees, with `net` to reach the other nodes; its span is the node's.
    pub(crate) fn for_node(node: &ErasedNode, net: &Net) -> Self {
        Env {
            id: node.id,
            replica: node.replica.unwrap_or(0),
            replicas: node.replicas,
            net: net.clone(),
            span: crate::supervise::node_span(&node.label),
        }
    }

    /// The node's index in its group (0 for a single node).
    pub fn replica(&self) -> usize {
        self.replica
    }

    /// The group's size (1 for a single node).
    pub fn replicas(&self) -> usize {
        self.replicas
    }

    /// A handle to a node, typed by an interface it serves (its type, or a courier trait its
    /// type implements).
    pub fn handle<T: Serve<I>, I: ?Sized + Courier>(&self, node: &NodeRef<T>) -> Handle<I> {
        Handle::new(self.net.core_for(node.id, Some(self.id)))
    }

    /// Handles to every replica of a group.
    pub fn group<T: Serve<I>, I: ?Sized + Courier>(&self, group: &GroupRef<T>) -> Vec<Handle<I>> {
        group
            .ids()
            .map(|id| Handle::new(self.net.core_for(id, Some(self.id))))
            .collect()
    }

    /// A handle to replica `i` of a group; an error when `i` is not one of its indices (the
    /// node then fails to build, naming the group).
    pub fn group_at<T: Serve<I>, I: ?Sized + Courier>(
        &self,
        group: &GroupRef<T>,
        i: usize,
    ) -> Result<Handle<I>, crate::Error> {
        match group.get(i) {
            Some(node) => Ok(self.handle(&node)),
            None => Err(anyhow::anyhow!(
                "index {i} is out of range for group `{}` of {} replicas",
                group.name,
                group.len
            )),
        }
    }
}

/// How a node's `run` is called, chosen by generated code.
pub enum Runner<T> {
    /// The node has no `run`.
    None,
    /// `run` is async ([`Run`]).
    Async(fn(Arc<T>, Context) -> BoxFuture<'static, crate::Result<()>>),
    /// `run` is synchronous ([`BlockingRun`]), called on a blocking thread.
    Blocking(fn(Arc<T>, Context) -> crate::Result<()>),
}

impl<T> Clone for Runner<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Runner<T> {}

impl<T> Runner<T> {
    /// No `run`.
    pub fn none() -> Self {
        Runner::None
    }
}

impl<T: Run> Runner<T> {
    /// An async `run`.
    pub fn run() -> Self {
        Runner::Async(run_async::<T>)
    }
}

impl<T: BlockingRun> Runner<T> {
    /// A synchronous `run`.
    pub fn blocking() -> Self {
        Runner::Blocking(run_blocking::<T>)
    }
}

fn run_async<T: Run>(node: Arc<T>, ctx: Context) -> BoxFuture<'static, crate::Result<()>> {
    Box::pin(async move { node.run(ctx).await })
}

fn run_blocking<T: BlockingRun>(node: Arc<T>, ctx: Context) -> crate::Result<()> {
    node.run(ctx)
}

type Factory<T> = Arc<dyn Fn(&Env) -> crate::Result<T> + Send + Sync>;

/// What a node is made of, shared by the replicas of a group.
struct Spec<T> {
    /// How `run` is called.
    runner: Runner<T>,
    /// Builds the node's object.
    factory: Factory<T>,
    /// The interfaces the node answers; `None` for a worker.
    table: Option<Arc<Table>>,
    /// Launcher settings from the node's block in `.lp`.
    settings: Settings,
    /// The nodes it holds handles to (from its arguments in `.lp`), by id: the only ones it
    /// may call, unless it receives handles in calls.
    calls: Arc<[usize]>,
}

/// What a node's block in `.lp` asks of launchers: environment variables for its process, the
/// resources it needs (used by cluster launchers; local launchers run on this machine), its
/// restart policy and its batched methods.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// `env { NAME: "value" }`: set in the node's process by `local_mp`/`test_mp` (under
    /// `local_mt` every node shares the launcher's environment).
    pub env: Vec<(String, String)>,
    /// `resources { cpus: …, memory: "…", gpus: … }`.
    pub resources: Resources,
    /// `restart: on_failure(max: …, backoff: …)`; `None`: a failure stops the program.
    pub restart: Option<Restart>,
    /// `batch METHOD { size: …, timeout: …, max_parallelism: … }`, one per batched method.
    pub batches: Vec<Batch>,
    /// `deadline: 2s`: how long every caller of this courier waits for a reply, unless its
    /// handle says otherwise ([`Handle::with_deadline`](crate::Handle::with_deadline),
    /// [`Handle::without_deadline`](crate::Handle::without_deadline)); `None`: no deadline.
    pub deadline: Option<Duration>,
}

/// Groups nodes into the processes of a multi-process launch: one per node, except that the
/// nodes of a `process` block share one, named after the block (a lone node's is its label).
pub(crate) fn by_process(
    layout: &Layout,
    nodes: Vec<ErasedNode>,
) -> Vec<(String, Vec<ErasedNode>)> {
    let mut groups: Vec<(String, Vec<ErasedNode>)> = Vec::new();
    let mut blocks: std::collections::HashMap<&'static str, usize> =
        std::collections::HashMap::new();
    for node in nodes {
        match layout.processes.get(node.id).copied().flatten() {
            Some(block) => match blocks.get(block) {
                Some(&i) => groups[i].1.push(node),
                None => {
                    blocks.insert(block, groups.len());
                    groups.push((block.to_string(), vec![node]));
                }
            },
            None => groups.push((node.label.clone(), vec![node])),
        }
    }
    groups
}

/// The call deadline each node's block declares, by node id, for a program of `count` nodes.
pub(crate) fn deadlines(count: usize, nodes: &[ErasedNode]) -> Vec<Option<Duration>> {
    let mut deadlines = vec![None; count];
    for node in nodes {
        if let Some(slot) = deadlines.get_mut(node.id) {
            *slot = node.settings.deadline;
        }
    }
    deadlines
}

/// `restart: on_failure(max: 3, backoff: 1s)`: a node whose `run` fails (returns `Err`,
/// panics, or its process dies) is built again from its constructor — its state is the
/// constructor's, nothing of the failed object survives — and run again, up to `max` times
/// over the program's life, `backoff` after each failure. Callers' handles reach the new node
/// transparently; calls in flight at the failure fail with `Unavailable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restart {
    /// How many restarts the node gets; the failure after the last one stops the program.
    pub max: u32,
    /// How long to wait before each restart.
    pub backoff: Duration,
}

/// The resources a node asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    /// CPU cores (may be fractional).
    pub cpus: Option<f64>,
    /// Memory, in Kubernetes quantity syntax (`"2Gi"`).
    pub memory: Option<String>,
    /// GPUs.
    pub gpus: Option<u32>,
}

impl<T: Send + Sync + 'static> Spec<T> {
    fn erase(
        &self,
        id: usize,
        label: String,
        replica: Option<usize>,
        replicas: usize,
        run_enabled: bool,
    ) -> ErasedNode {
        let factory = self.factory.clone();
        let table = self.table.clone();
        let runner = if run_enabled {
            self.runner
        } else {
            Runner::None
        };
        let node_label: Arc<str> = Arc::from(label.as_str());
        let batches = self.settings.batches.clone();
        ErasedNode {
            id,
            label,
            replica,
            replicas,
            settings: self.settings.clone(),
            calls: self.calls.clone(),
            has_run: !matches!(runner, Runner::None),
            build: Arc::new(move |env: &Env| {
                let object = Arc::new(factory(env)?);
                let host = Arc::new(Host::new(
                    id,
                    node_label.clone(),
                    env.span.clone(),
                    batches.clone(),
                ));
                let service = table.as_ref().map(|table| {
                    Arc::new(Service {
                        object: object.clone(),
                        table: table.clone(),
                        host: host.clone(),
                        net: env.net.clone(),
                    })
                });
                let run: Option<RunFn> = match runner {
                    Runner::None => None,
                    Runner::Async(f) => {
                        let object = object.clone();
                        Some(Box::new(move |ctx| RunTask::Async(f(object, ctx))))
                    }
                    Runner::Blocking(f) => {
                        let object = object.clone();
                        Some(Box::new(move |ctx| {
                            RunTask::Blocking(Box::new(move || f(object, ctx)))
                        }))
                    }
                };
                Ok(Built {
                    object,
                    host,
                    service,
                    run,
                })
            }),
        }
    }
}

/// One node of a program, before launch.
pub struct Node<T> {
    /// Its id and label.
    r: NodeRef<T>,
    /// Whether `run` will be called (see [`disable_run`](Self::disable_run)).
    run_enabled: bool,
    /// How to build and run it.
    spec: Spec<T>,
}

impl<T: Send + Sync + 'static> Node<T> {
    /// Sets its launcher settings (generated from its block in `.lp`).
    #[doc(hidden)]
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.spec.settings = settings;
        self
    }

    /// Notes that it holds handles to `nodes` (generated from its arguments in `.lp`): a
    /// process of its gets those nodes' keys, and may call no other node (unless handed a
    /// handle in a call).
    #[doc(hidden)]
    pub fn calls(mut self, nodes: impl Into<Nodes>) -> Self {
        self.spec.add_calls(nodes.into());
        self
    }

    /// What its block in `.lp` asks of launchers.
    pub fn settings(&self) -> &Settings {
        &self.spec.settings
    }

    /// Identifies this node in the launched program.
    pub fn id(&self) -> NodeRef<T> {
        self.r
    }

    /// The node's label.
    pub fn label(&self) -> &str {
        self.r.name
    }

    /// Launch the node without calling its `run` (for tests that drive it through its handle).
    pub fn disable_run(&mut self) {
        self.run_enabled = false;
    }

    /// The node for the launcher, if `selection` wants it (generated `select` uses it).
    #[doc(hidden)]
    pub fn erase_into(self, selection: &mut Selection) {
        let id = self.r.id;
        selection.record(id..id + 1, &self.spec.settings);
        if selection.wants_one(id) {
            let node = self
                .spec
                .erase(id, self.r.name.to_string(), None, 1, self.run_enabled);
            selection.nodes.push(node);
        }
    }
}

/// A replicated group of nodes, before launch.
pub struct Group<T> {
    /// Its replicas' ids.
    r: GroupRef<T>,
    /// Whether `run` will be called on the replicas.
    run_enabled: bool,
    /// How to build and run each replica.
    spec: Spec<T>,
}

impl<T: Send + Sync + 'static> Group<T> {
    /// Sets the replicas' launcher settings (generated from the group's block in `.lp`).
    #[doc(hidden)]
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.spec.settings = settings;
        self
    }

    /// Notes that every replica holds handles to `nodes` (see [`Node::calls`]).
    #[doc(hidden)]
    pub fn calls(mut self, nodes: impl Into<Nodes>) -> Self {
        self.spec.add_calls(nodes.into());
        self
    }

    /// What the group's block in `.lp` asks of launchers, for each replica.
    pub fn settings(&self) -> &Settings {
        &self.spec.settings
    }

    /// Identifies the group's replicas in the launched program.
    pub fn refs(&self) -> GroupRef<T> {
        self.r.clone()
    }

    /// The number of replicas.
    pub fn len(&self) -> usize {
        self.r.len
    }

    /// Whether the group has no replicas.
    pub fn is_empty(&self) -> bool {
        self.r.len == 0
    }

    /// Launch every replica without calling its `run`.
    pub fn disable_run(&mut self) {
        self.run_enabled = false;
    }

    /// The replicas `selection` wants, for the launcher (generated `select` uses it): only
    /// those are built, however large the group.
    #[doc(hidden)]
    pub fn erase_into(self, selection: &mut Selection) {
        let ids = self.r.ids();
        selection.record(ids.clone(), &self.spec.settings);
        for id in selection.wants(ids) {
            let i = id - self.r.first;
            let node = self.spec.erase(
                id,
                format!("{}/{i}", self.r.name),
                Some(i),
                self.r.len,
                self.run_enabled,
            );
            selection.nodes.push(node);
        }
    }
}

impl<T: Send + Sync + 'static> Spec<T> {
    fn add_calls(&mut self, nodes: Nodes) {
        let mut calls = self.calls.to_vec();
        calls.extend(nodes.0);
        calls.sort_unstable();
        calls.dedup();
        self.calls = calls.into();
    }

    fn new(
        runner: Runner<T>,
        factory: impl Fn(&Env) -> crate::Result<T> + Send + Sync + 'static,
        table: Option<Table>,
    ) -> Self {
        Spec {
            runner,
            factory: Arc::new(factory),
            table: table.map(Arc::new),
            settings: Settings::default(),
            calls: Arc::from([]),
        }
    }
}

impl<T> Node<T> {
    fn new(r: NodeRef<T>, spec: Spec<T>) -> Self {
        Node {
            r,
            run_enabled: true,
            spec,
        }
    }
}

impl<T> Group<T> {
    fn new(r: GroupRef<T>, spec: Spec<T>) -> Self {
        Group {
            r,
            run_enabled: true,
            spec,
        }
    }
}

/// A courier node: served, and run if `runner` says so.
pub fn node_courier<T: Served>(
    r: NodeRef<T>,
    runner: Runner<T>,
    factory: impl Fn(&Env) -> crate::Result<T> + Send + Sync + 'static,
) -> Node<T> {
    Node::new(r, Spec::new(runner, factory, Some(Table::of::<T>())))
}

/// A worker node: run, not served.
pub fn node_worker<T: Send + Sync + 'static>(
    r: NodeRef<T>,
    runner: Runner<T>,
    factory: impl Fn(&Env) -> crate::Result<T> + Send + Sync + 'static,
) -> Node<T> {
    Node::new(r, Spec::new(runner, factory, None))
}

/// A group of courier nodes.
pub fn group_courier<T: Served>(
    r: GroupRef<T>,
    runner: Runner<T>,
    factory: impl Fn(&Env) -> crate::Result<T> + Send + Sync + 'static,
) -> Group<T> {
    Group::new(r, Spec::new(runner, factory, Some(Table::of::<T>())))
}

/// A group of worker nodes.
pub fn group_worker<T: Send + Sync + 'static>(
    r: GroupRef<T>,
    runner: Runner<T>,
    factory: impl Fn(&Env) -> crate::Result<T> + Send + Sync + 'static,
) -> Group<T> {
    Group::new(r, Spec::new(runner, factory, None))
}

/// A node with its type erased, as the launchers see it.
#[derive(Clone)]
pub struct ErasedNode {
    /// The node's id (index in the layout).
    pub(crate) id: usize,
    /// The node's label.
    pub(crate) label: String,
    /// Its index in its group, if any.
    pub(crate) replica: Option<usize>,
    /// The size of its group (1 for a single node).
    pub(crate) replicas: usize,
    /// What its block in `.lp` asks of launchers.
    pub(crate) settings: Settings,
    /// The nodes it holds handles to from its arguments, by id (see [`Node::calls`]).
    pub(crate) calls: Arc<[usize]>,
    /// Whether `run` will be called.
    pub(crate) has_run: bool,
    /// Builds the node (calls its factory) in a process that has its [`Env`]; again after a
    /// failure, under a restart policy.
    pub(crate) build: BuildFn,
}

/// Builds a node from its constructor.
pub(crate) type BuildFn = Arc<dyn Fn(&Env) -> crate::Result<Built> + Send + Sync>;

/// A built node.
pub(crate) struct Built {
    /// The node's object, for the in-process transport.
    pub(crate) object: Arc<dyn Any + Send + Sync>,
    /// Its label, span and batch queues, for the in-process transport.
    pub(crate) host: Arc<Host>,
    /// The node as a socket service, for a courier (its interface table, too).
    pub(crate) service: Option<Arc<Service>>,
    /// Its `run`, when it has one and it is enabled.
    pub(crate) run: Option<RunFn>,
}

/// Starts a node's `run` with its context.
pub(crate) type RunFn = Box<dyn FnOnce(Context) -> RunTask + Send>;

/// A started `run`, to be driven where it belongs.
pub(crate) enum RunTask {
    /// An async `run`: spawn it as a task.
    Async(BoxFuture<'static, crate::Result<()>>),
    /// A synchronous `run`: call it on a blocking thread.
    Blocking(Box<dyn FnOnce() -> crate::Result<()> + Send>),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node type with nothing to it.
    struct Idle;

    /// A program of a node, a group of `replicas` with a restart policy and a deadline, and
    /// another node.
    fn program(replicas: u64) -> (Node<Idle>, Group<Idle>, Node<Idle>) {
        let mut ids = IdAlloc::new("selection", &(), &[]);
        let first = ids.node::<Idle>("first");
        let group = ids.group::<Idle>("group", Count::Const(replicas));
        let last = ids.node::<Idle>("last");
        let factory = |_: &Env| Ok(Idle);
        let settings = Settings {
            restart: Some(Restart {
                max: 1,
                backoff: Duration::ZERO,
            }),
            deadline: Some(Duration::from_secs(2)),
            ..Settings::default()
        };
        (
            node_worker(first, Runner::none(), factory),
            group_worker(group, Runner::none(), factory).with_settings(settings),
            node_worker(last, Runner::none(), factory),
        )
    }

    fn select(mut selection: Selection, replicas: u64) -> Selection {
        let (first, group, last) = program(replicas);
        first.erase_into(&mut selection);
        group.erase_into(&mut selection);
        last.erase_into(&mut selection);
        selection
    }

    #[test]
    fn a_process_builds_only_its_nodes_and_knows_every_callee() {
        let selection = select(Selection::only(&[1000, 3, 0]), 1000);
        assert!(!selection.restartable(1002)[0]);
        assert!(selection.restartable(1002)[1..1001].iter().all(|&r| r));
        assert_eq!(selection.deadlines(1002)[1001], None);
        assert_eq!(selection.deadlines(1002)[500], Some(Duration::from_secs(2)));
        let nodes = selection.into_nodes();
        let built: Vec<(usize, &str, Option<usize>)> = nodes
            .iter()
            .map(|n| (n.id, n.label.as_str(), n.replica))
            .collect();
        assert_eq!(
            built,
            [
                (0, "first", None),
                (3, "group/2", Some(2)),
                (1000, "group/999", Some(999))
            ]
        );
        assert!(nodes
            .iter()
            .all(|n| n.replicas == 1000 || n.replica.is_none()));
    }

    #[test]
    fn every_node_when_all_are_wanted() {
        let nodes = select(Selection::all(), 3).into_nodes();
        let ids: Vec<usize> = nodes.iter().map(|n| n.id).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4]);
    }
}
