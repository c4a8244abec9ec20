//! The client side of a call: [`ClientCore`] (what generated clients wrap) and [`Net`], which
//! hands out one link per peer node — in-process slots, or one multiplexed connection (a Unix
//! socket, or TCP in cluster launches).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::interface::id;
use super::trace;
use super::{execute, Courier};
use crate::error::chain;
use crate::error::CallError;
use crate::transport::conn::Dial;
use crate::transport::conn::Keys;
use crate::transport::frame::{self, CallRef, Trace};
use crate::transport::inproc::{InProcNet, Slot, SlotState};
use crate::transport::keys::{Held, Keyring};
use crate::transport::mux::Conn;

/// How long a call waits for a node that is not up yet, unless configured otherwise
/// (`LaunchOptions::ready_timeout`, or the `LP_READY_TIMEOUT_SECS` environment variable).
pub(crate) const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a call retries a peer it was connected to before and lost: a dead peer fails fast.
const RECONNECT_WINDOW: Duration = Duration::from_secs(1);

/// The transport-level client of one node: what a generated client wraps. Cloned for every
/// call a generated client starts, so a clone is one reference count.
#[derive(Clone)]
pub struct ClientCore {
    /// The node and the way to it, shared by every clone.
    to: Arc<Target>,
    /// The per-call deadline, if any (see `Handle::with_deadline`).
    deadline: Option<Duration>,
}

/// What a [`ClientCore`] calls.
struct Target {
    /// The way to the node.
    link: Link,
    /// The node's id: what a handle sent in a call carries.
    id: usize,
    /// The node's label, for error messages.
    node: Arc<str>,
    /// The nodes of this process's launch, for handles in replies (weak: nodes hold handles,
    /// and the launch holds the nodes).
    net: Weak<NetInner>,
    /// The node whose client this is, by id: its calls are counted as that node's. `None`
    /// for the launcher's and tests' handles.
    caller: Option<usize>,
    /// The caller's counters of its calls to the node, found on its first counted call.
    made: OnceLock<Arc<crate::metrics::Methods>>,
}

#[derive(Clone)]
enum Link {
    /// The node is in this process.
    InProc {
        /// The node's slot.
        slot: Arc<Slot>,
        /// How long to wait for the node to be constructed.
        ready_timeout: Duration,
        /// Cancelled when the program stops.
        stop: CancellationToken,
        /// Cancelled when the grace period ends: calls still running are cut then.
        cut: CancellationToken,
    },
    /// The node is another process; this is the one connection to it.
    Socket(Arc<SocketPeer>),
}

impl ClientCore {
    /// Calls `method` of interface `I` on the node, with `request` holding its arguments.
    pub async fn call<I: ?Sized + Courier>(
        &self,
        method: &'static str,
        request: I::Request,
    ) -> Result<I::Response, CallError> {
        // Kept here, once, and boxed: the futures below borrow it (a copy in each, or one in
        // place, would make the future of every call, traced or not, larger to move).
        let trace = trace::wanted().then(|| Box::new(trace::next(self.to.caller)));
        // One future either way (not a counted one beside an uncounted one): a call in
        // process costs a few hundred nanoseconds, moving futures included.
        let counted = self
            .made()
            .map(|made| (made.counter(method), std::time::Instant::now()));
        let result = self
            .call_with_deadline::<I>(method, request, trace.as_deref())
            .await;
        if let Some((counter, started)) = counted {
            counter.add(started.elapsed(), result.is_ok());
        }
        result
    }

    /// The caller's counters of its calls to the node, when calls are counted and a node
    /// holds this client.
    fn made(&self) -> Option<&crate::metrics::Methods> {
        let caller = self.to.caller.filter(|_| crate::metrics::enabled())?;
        let made = self.to.made.get_or_init(|| {
            let net = self.to.net.upgrade();
            let caller = net.as_ref().and_then(|net| net.labels.get(caller));
            crate::metrics::made(caller.map_or("?", String::as_str), &self.to.node)
        });
        Some(made)
    }

    /// [`call`](Self::call) as a step of `trace`, uncounted: within the client's deadline.
    async fn call_with_deadline<I: ?Sized + Courier>(
        &self,
        method: &'static str,
        request: I::Request,
        trace: Option<&Trace>,
    ) -> Result<I::Response, CallError> {
        let call = self.call_now::<I>(method, request, trace);
        let Some(deadline) = self.deadline else {
            return call.await;
        };
        // Boxed: its timer, inline, would make the future of every call (with a deadline or
        // not) larger to move.
        match Box::pin(tokio::time::timeout(deadline, call)).await {
            Ok(result) => result,
            Err(_) => Err(CallError::DeadlineExceeded {
                node: self.to.node.to_string(),
                method: method.to_string(),
            }),
        }
    }

    /// [`call`](Self::call) as a boxed future, for courier traits: a future naming `dyn Trait`
    /// would be higher-ranked over its object lifetime inside the caller's async code (rustc
    /// then cannot prove it `Send`); this one names only the interface's request and response.
    pub fn call_boxed<I: ?Sized + Courier>(
        &self,
        method: &'static str,
        request: I::Request,
    ) -> BoxFuture<'static, Result<I::Response, CallError>> {
        let core = self.clone();
        Box::pin(async move { core.call::<I>(method, request).await })
    }

    async fn call_now<I: ?Sized + Courier>(
        &self,
        method: &'static str,
        request: I::Request,
        trace: Option<&Trace>,
    ) -> Result<I::Response, CallError> {
        match &self.to.link {
            Link::InProc {
                slot,
                ready_timeout,
                stop,
                cut,
            } => {
                let state = match slot.settled() {
                    Some(state) => state,
                    None => {
                        let ready = tokio::time::timeout(*ready_timeout, slot.ready());
                        tokio::select! {
                            biased;
                            state = ready => match state {
                                Ok(state) => state,
                                Err(_) => {
                                    let waited = format!("not up after {ready_timeout:?}");
                                    return Err(self.unavailable(waited));
                                }
                            },
                            _ = stop.cancelled() => return Err(self.stopping()),
                        }
                    }
                };
                match state {
                    SlotState::Up(up) => {
                        let reply = up
                            .table
                            .call_in_proc::<I>(up.object.clone(), request)
                            .map_err(|e| match e {
                                CallError::Protocol(why) => {
                                    CallError::Protocol(format!("node `{}`: {why}", self.to.node))
                                }
                                other => other,
                            })?;
                        let answered = tokio::select! {
                            biased;
                            answered = execute(reply, &up.host, method, trace) => answered,
                            _ = cut.cancelled() => Err(self.stopping()),
                        };
                        match answered {
                            // As over a socket: a method failing once the program is
                            // stopping failed because of the stop.
                            Err(CallError::Remote { .. }) if stop.is_cancelled() => {
                                Err(self.stopping())
                            }
                            result => result,
                        }
                    }
                    SlotState::Pending | SlotState::Down if stop.is_cancelled() => {
                        Err(self.stopping())
                    }
                    SlotState::Pending | SlotState::Down => {
                        Err(self.unavailable("the node has stopped".into()))
                    }
                }
            }
            // Boxed: a call over a socket takes microseconds, and its future is large;
            // unboxed, every call in process would carry (and move) its size too.
            Link::Socket(peer) => {
                Box::pin(self.call_socket::<I>(peer, method, request, trace.copied())).await
            }
        }
    }

    /// [`call_now`](Self::call_now) over the connection to `peer`.
    async fn call_socket<I: ?Sized + Courier>(
        &self,
        peer: &SocketPeer,
        method: &'static str,
        request: I::Request,
        trace: Option<Trace>,
    ) -> Result<I::Response, CallError> {
        let body = frame::encode(&request).map_err(|e| {
            CallError::Protocol(format!(
                "the arguments of `{method}` for `{}` are {}",
                self.to.node,
                chain(&e)
            ))
        })?;
        let call = CallRef {
            id: 0,
            interface: id::<I>(),
            method,
            body: &body,
            deadline: self.deadline,
            trace,
        };
        let reply = peer.call(call).await?;
        let decoded = match self.to.net.upgrade() {
            Some(inner) => Net { inner }.decode(&reply, self.to.caller),
            // The launch is gone: a reply holding a handle cannot be decoded.
            None => frame::decode(&reply),
        };
        decoded.map_err(|e| {
            CallError::Protocol(format!(
                "reply to `{method}` from `{}`: {}",
                self.to.node,
                chain(&e)
            ))
        })
    }

    /// The same client with a per-call deadline.
    pub(crate) fn with_deadline(&self, deadline: Option<Duration>) -> Self {
        ClientCore {
            deadline,
            ..self.clone()
        }
    }

    /// The node's label.
    pub(crate) fn node(&self) -> &str {
        &self.to.node
    }

    /// The node's id.
    pub(crate) fn id(&self) -> usize {
        self.to.id
    }

    /// A client of the node labelled `label` whose calls present this client's node's key (in
    /// this process's keyring, unless it holds that node's own): what a hostile node could do,
    /// for tests.
    pub(crate) fn forged(&self, label: &str) -> Option<ClientCore> {
        let net = Net {
            inner: self.to.net.upgrade()?,
        };
        let id = net.inner.labels.iter().position(|l| l == label)?;
        if let (Link::Socket(peer), NetKind::Sockets { keys, .. }) =
            (&self.to.link, &net.inner.kind)
        {
            if let Some(key) = peer.keys.node(peer.id) {
                keys.forge(id, key);
            }
        }
        Some(net.core_for(id, self.to.caller))
    }

    /// The node's key and its proof, when calls to it prove one (over sockets) and this
    /// process holds it: what a handle passed in a call carries.
    pub(crate) fn key(&self) -> Option<Held> {
        match &self.to.link {
            Link::Socket(peer) => peer.keys.proven(peer.id),
            Link::InProc { .. } => None,
        }
    }

    fn unavailable(&self, reason: String) -> CallError {
        CallError::Unavailable {
            node: self.to.node.to_string(),
            reason,
        }
    }

    fn stopping(&self) -> CallError {
        CallError::Stopping {
            node: self.to.node.to_string(),
        }
    }
}

/// Where the nodes of a launched program are, from this process's point of view.
#[derive(Clone)]
pub(crate) struct Net {
    /// Shared by every `Env` and `Running` of the launch.
    inner: Arc<NetInner>,
}

struct NetInner {
    /// Node labels by id.
    labels: Vec<String>,
    /// The call deadline each node's `.lp` block declares (`deadline: 2s`), by id: what every
    /// handle to it gets unless it sets its own. Set once, at the launch.
    deadlines: std::sync::OnceLock<Vec<Option<Duration>>>,
    /// How calls travel.
    kind: NetKind,
    /// How long a call waits for a node that is not up yet.
    ready_timeout: Duration,
}

enum NetKind {
    /// The slots of this process's nodes, the program's stop, and the end of its grace period.
    InProc(InProcNet, CancellationToken, CancellationToken),
    Sockets {
        /// Whether each node (by id) has a restart policy.
        restartable: Vec<bool>,
        /// How to open a stream to a node (Unix sockets in the launch directory, TCP to the
        /// addresses of an address book, …).
        dial: Arc<dyn Dial>,
        /// The keys this process holds: a node's is proven in every hello to it.
        keys: Keyring,
        /// Cancelled when this process stops: waiting for a peer ends then.
        stop: CancellationToken,
        /// One peer per node id, created on first use, so all handles share one connection
        /// (ordered: dropped, their connections close in the same order every time).
        peers: Mutex<BTreeMap<usize, Arc<SocketPeer>>>,
    },
}

impl Net {
    /// The call deadlines the nodes' blocks declare, by id (the first call wins: once per
    /// launch).
    pub(crate) fn set_deadlines(&self, deadlines: Vec<Option<Duration>>) {
        let _ = self.inner.deadlines.set(deadlines);
    }

    /// How many nodes the program has.
    pub(crate) fn nodes(&self) -> usize {
        self.inner.labels.len()
    }

    /// Calls to nodes in this process, in their slots: refused once `stop` is cancelled, cut
    /// once [`cut_calls`](Self::cut_calls) is called.
    pub(crate) fn in_proc(
        labels: Vec<String>,
        stop: CancellationToken,
        ready_timeout: Duration,
    ) -> Self {
        let slots = InProcNet::new(labels.len());
        Net {
            inner: Arc::new(NetInner {
                labels,
                deadlines: std::sync::OnceLock::new(),
                kind: NetKind::InProc(slots, stop, CancellationToken::new()),
                ready_timeout,
            }),
        }
    }

    /// Cuts every in-process call still running (the grace period is over): they fail with
    /// `CallError::Stopping`.
    pub(crate) fn cut_calls(&self) {
        if let NetKind::InProc(_, _, cut) = &self.inner.kind {
            cut.cancel();
        }
    }

    /// Calls over connections `dial` opens (one per peer node); a node marked `restartable`
    /// (by id) is waited for after its connection is lost, as it may be coming back.
    pub(crate) fn sockets(
        labels: Vec<String>,
        restartable: Vec<bool>,
        dial: Arc<dyn Dial>,
        keys: Keyring,
        stop: CancellationToken,
        ready_timeout: Duration,
    ) -> Self {
        Net {
            inner: Arc::new(NetInner {
                labels,
                deadlines: std::sync::OnceLock::new(),
                kind: NetKind::Sockets {
                    restartable,
                    dial,
                    keys,
                    stop,
                    peers: Mutex::new(BTreeMap::new()),
                },
                ready_timeout,
            }),
        }
    }

    /// The same nodes, with connections of its own: handles from it share no connection with
    /// handles from `self`.
    pub(crate) fn detached(&self) -> Net {
        let kind = match &self.inner.kind {
            NetKind::InProc(net, stop, cut) => {
                NetKind::InProc(net.clone(), stop.clone(), cut.clone())
            }
            NetKind::Sockets {
                restartable,
                dial,
                keys,
                stop,
                ..
            } => NetKind::Sockets {
                restartable: restartable.clone(),
                dial: dial.clone(),
                keys: keys.clone(),
                stop: stop.clone(),
                peers: Mutex::new(BTreeMap::new()),
            },
        };
        Net {
            inner: Arc::new(NetInner {
                labels: self.inner.labels.clone(),
                deadlines: self.inner.deadlines.clone(),
                kind,
                ready_timeout: self.inner.ready_timeout,
            }),
        }
    }

    /// The in-process slots, when calls are in process.
    pub(crate) fn slots(&self) -> Option<&InProcNet> {
        match &self.inner.kind {
            NetKind::InProc(net, _, _) => Some(net),
            NetKind::Sockets { .. } => None,
        }
    }

    /// Whether `id` is a node of this launch.
    pub(crate) fn has_node(&self, id: usize) -> bool {
        id < self.inner.labels.len()
    }

    /// Keeps node `id`'s key, received with a handle to it, when it proves itself (see
    /// [`Keyring::grant`]); whether it did (in process, no key is needed, and none is kept).
    pub(crate) fn grant(&self, id: usize, held: Held) -> bool {
        match &self.inner.kind {
            NetKind::Sockets { keys, .. } => keys.grant(id, held),
            _ => true,
        }
    }

    /// The label of node `id`.
    pub(crate) fn label(&self, id: usize) -> &str {
        self.inner.labels.get(id).map_or("?", String::as_str)
    }

    /// A client of node `id`, for the launcher or a test (its calls are no node's).
    pub(crate) fn core(&self, id: usize) -> ClientCore {
        self.core_for(id, None)
    }

    /// A client of node `id` held by node `caller` (the calls it makes are counted as its).
    pub(crate) fn core_for(&self, id: usize, caller: Option<usize>) -> ClientCore {
        let node: Arc<str> = Arc::from(self.label(id));
        let link = match &self.inner.kind {
            NetKind::InProc(net, stop, cut) => Link::InProc {
                slot: net
                    .slots
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| Arc::new(Slot::new())),
                ready_timeout: self.inner.ready_timeout,
                stop: stop.clone(),
                cut: cut.clone(),
            },
            NetKind::Sockets {
                restartable,
                dial,
                keys,
                stop,
                peers,
            } => {
                let mut peers = peers.lock().unwrap_or_else(PoisonError::into_inner);
                let peer = peers.entry(id).or_insert_with(|| {
                    Arc::new(SocketPeer {
                        node: node.clone(),
                        id,
                        dial: dial.clone(),
                        keys: keys.clone(),
                        ready_timeout: self.inner.ready_timeout,
                        restartable: restartable.get(id).copied().unwrap_or(false),
                        stop: stop.clone(),
                        live: Mutex::new(None),
                        connecting: tokio::sync::Mutex::new(()),
                        ever_connected: AtomicBool::new(false),
                        peer_stopping: Arc::default(),
                    })
                });
                Link::Socket(peer.clone())
            }
        };
        let deadline = self
            .inner
            .deadlines
            .get()
            .and_then(|d| d.get(id).copied().flatten());
        ClientCore {
            to: Arc::new(Target {
                link,
                id,
                node,
                net: Arc::downgrade(&self.inner),
                caller,
                made: OnceLock::new(),
            }),
            deadline,
        }
    }

    /// Decodes a request or a reply received by this process for node `caller` (`None`: the
    /// launcher or a test): the handles in it become its handles to this launch's nodes.
    pub(crate) fn decode<T: serde::de::DeserializeOwned>(
        &self,
        bytes: &[u8],
        caller: Option<usize>,
    ) -> Result<T, frame::WireError> {
        let previous = DECODING.with(|net| net.replace(Some((self.clone(), caller))));
        let decoded = frame::decode(bytes);
        DECODING.with(|net| *net.borrow_mut() = previous);
        decoded
    }

    /// The launch being decoded for on this thread, and the node receiving, if any (see
    /// [`Net::decode`]).
    pub(crate) fn decoding() -> Option<(Net, Option<usize>)> {
        DECODING.with(|net| net.borrow().clone())
    }
}

thread_local! {
    /// The launch whose frame this thread is decoding, and for which of its nodes: where
    /// received handles point, and whose they are.
    static DECODING: RefCell<Option<(Net, Option<usize>)>> = const { RefCell::new(None) };
}

/// One remote node, reached over one connection (Unix or TCP) that every call multiplexes.
pub(crate) struct SocketPeer {
    /// The node's label, for errors.
    node: Arc<str>,
    /// The node's id, what `dial` dials.
    id: usize,
    /// How to open a stream to the node.
    dial: Arc<dyn Dial>,
    /// Where the node's key, proven in the hello, is found.
    keys: Keyring,
    /// How long the first connection may wait for the node to come up.
    ready_timeout: Duration,
    /// Whether the node has a restart policy: then a lost node is waited for as long as a new
    /// one, since it may be coming back.
    restartable: bool,
    /// Ends waiting when this process stops.
    stop: CancellationToken,
    /// The live connection, taken by every call without waiting.
    live: Mutex<Option<Conn>>,
    /// Held while connecting, so that concurrent first calls open only one connection.
    connecting: tokio::sync::Mutex<()>,
    /// Whether a connection ever succeeded: after that a lost peer is dead, not late, and
    /// reconnecting is tried only briefly.
    ever_connected: AtomicBool,
    /// The node said its program is stopping: what it no longer answers, on this connection
    /// or a later one, was cut by the stop.
    peer_stopping: Arc<AtomicBool>,
}

impl SocketPeer {
    fn unavailable(&self, reason: impl Into<String>) -> CallError {
        match self.stop.is_cancelled() || self.peer_stopping.load(Ordering::Relaxed) {
            true => CallError::Stopping {
                node: self.node.to_string(),
            },
            false => CallError::Unavailable {
                node: self.node.to_string(),
                reason: reason.into(),
            },
        }
    }

    /// The error of a call to a node whose key this process does not hold.
    fn no_key(&self) -> CallError {
        CallError::Unavailable {
            node: self.node.to_string(),
            reason: "this process holds no key to it: a node may call only the nodes it holds \
                     handles to, from its arguments in `.lp` or received in calls"
                .to_string(),
        }
    }

    /// Makes `call` (its id is the connection's to choose).
    async fn call(&self, call: CallRef<'_>) -> Result<Bytes, CallError> {
        let conn = match self.live() {
            Some(conn) => conn,
            // Boxed: connecting is rare, and its future large.
            None => Box::pin(self.connect()).await?,
        };
        conn.call(call).await
    }

    /// The live connection, if there is one.
    fn live(&self) -> Option<Conn> {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.as_ref().filter(|conn| !conn.is_closed()).cloned()
    }

    /// Connects (waiting for the node) unless another call did meanwhile.
    async fn connect(&self) -> Result<Conn, CallError> {
        let _connecting = self.connecting.lock().await;
        if let Some(conn) = self.live() {
            return Ok(conn);
        }
        let wait = if self.ever_connected.load(Ordering::Relaxed) && !self.restartable {
            RECONNECT_WINDOW
        } else {
            self.ready_timeout
        };
        let keys = Keys {
            seal: self.keys.member().clone(),
            hello: self.keys.node(self.id).ok_or_else(|| self.no_key())?,
        };
        let (reader, writer) =
            crate::transport::conn::connect(&*self.dial, self.id, &keys, wait, &self.stop)
                .await
                .map_err(|e| self.unavailable(e.to_string()))?;
        self.ever_connected.store(true, Ordering::Relaxed);
        let conn = Conn::start(
            reader,
            writer,
            self.node.clone(),
            self.peer_stopping.clone(),
            self.stop.clone(),
        );
        *self.live.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn.clone());
        Ok(conn)
    }
}
