//! [`Handle`]: a typed reference to a courier node, wherever it runs.

use std::any::Any;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::courier::client::Net;
use crate::courier::{ClientCore, Courier};
use crate::transport::frame::Secret;
use crate::transport::keys::Held;

/// A typed reference to a courier node of type `T`, or to any courier node whose type
/// implements the courier trait `Tr` (`Handle<dyn Tr>`).
///
/// It dereferences to the generated client, so a method `work(&self, context: u64) -> u64` of
/// `T` is called as `handle.work(context).await?` (returning `Result<u64, lp::CallError>`), or
/// as `handle.work_blocking(context)?` from a synchronous `run`. Handles are cheap to clone and
/// every clone shares the same connection.
///
/// A handle can be passed in a call (as an argument or a result of a courier method): the
/// receiver gets a handle to the same node, in every launch type.
///
/// `Handle<T>` is `Send` and `Sync` whatever `T` is: its fields never name `T`'s associated
/// types, so a future holding a `Handle<dyn Trait>` across an `.await` stays `Send`.
pub struct Handle<T: ?Sized> {
    /// The typed client the handle dereferences to (a `T::Client`).
    client: Arc<dyn Any + Send + Sync>,
    /// The transport-level client, kept to derive handles with other settings.
    core: ClientCore,
    _interface: PhantomData<fn() -> Box<T>>,
}

impl<T: ?Sized + Courier> Handle<T> {
    pub(crate) fn new(core: ClientCore) -> Self {
        Handle {
            client: Arc::new(T::client(core.clone())),
            core,
            _interface: PhantomData,
        }
    }

    /// The same node, with every call through the returned handle failing with
    /// [`CallError::DeadlineExceeded`](crate::CallError::DeadlineExceeded) when no reply came
    /// within `deadline` (default: the `deadline` of the node's `.lp` block, else none).
    ///
    /// An associated function (`Handle::with_deadline(&h, d)`) so it never shadows a method of
    /// the node.
    pub fn with_deadline(this: &Self, deadline: Duration) -> Self {
        Handle::new(this.core.with_deadline(Some(deadline)))
    }

    /// A handle to the same node whose calls wait for their reply however long it takes, even
    /// when the node's `.lp` block declares a `deadline`.
    ///
    /// An associated function (`Handle::without_deadline(&h)`) so it never shadows a method of
    /// the node.
    pub fn without_deadline(this: &Self) -> Self {
        Handle::new(this.core.with_deadline(None))
    }

    /// The names of the node's remotely callable methods, e.g. `["work", "pid"]` (Launchpad's
    /// `list_methods`).
    ///
    /// An associated function (`Handle::methods(&h)`) so it never shadows a method of the node.
    pub fn methods(_this: &Self) -> &'static [&'static str] {
        T::METHODS
    }

    /// A handle to the node labelled `label` presenting this handle's node's key, as a hostile
    /// node would (see [`crate::testing::forged`]).
    pub(crate) fn forged<U: ?Sized + Courier>(&self, label: &str) -> Option<Handle<U>> {
        self.core.forged(label).map(Handle::new)
    }

    /// The label of the node this handle refers to, e.g. `producer/1`.
    ///
    /// An associated function (`Handle::label(&h)`) so it never shadows a method of the node.
    pub fn label(this: &Self) -> &str {
        this.core.node()
    }
}

impl<T: ?Sized + Courier> Deref for Handle<T> {
    type Target = T::Client;

    fn deref(&self) -> &T::Client {
        #[allow(clippy::expect_used)]
        self.client
            .downcast_ref()
            .expect("a handle's client is made by `Handle::new` as its interface's client")
    }
}

impl<T: ?Sized> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle {
            client: self.client.clone(),
            core: self.core.clone(),
            _interface: PhantomData,
        }
    }
}

impl<T: ?Sized + Courier> std::fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Handle<{}>({})", T::NAME, self.core.node())
    }
}

/// A handle travels as its node's id and, over sockets, its node's key with the key's path in
/// the launch's key tree: the receiver may call the node too (delegation by the holder; see
/// `transport::keys`), and keeps the key only when the path proves it. The receiving process
/// makes a handle to that node of its own launch.
impl<T: ?Sized + Courier> Serialize for Handle<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let key = self.core.key().map(|held| (held.key.bytes(), held.path));
        (self.core.id() as u64, key).serialize(serializer)
    }
}

impl<'de, T: ?Sized + Courier> Deserialize<'de> for Handle<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let (id, key) = <(u64, Option<([u8; 32], Vec<[u8; 32]>)>)>::deserialize(deserializer)?;
        let (net, caller) = Net::decoding().ok_or_else(|| {
            D::Error::custom("an `lp::Handle` can only be received in a call of a launched program")
        })?;
        let id = usize::try_from(id)
            .ok()
            .filter(|&id| net.has_node(id))
            .ok_or_else(|| {
                D::Error::custom(format!(
                    "a handle to node {id}, which is not in this program"
                ))
            })?;
        if let Some((key, path)) = key {
            let held = Held {
                key: Secret::from_bytes(key),
                path: path.into(),
            };
            // Said once per process: a hostile peer could send many.
            static SAID: AtomicBool = AtomicBool::new(false);
            if !net.grant(id, held) && !SAID.swap(true, Ordering::Relaxed) {
                tracing::warn!(target: "lp",
                    "a handle to `{}` came with a key that is not its own: the key is ignored (no peer of a launch sends one; a hostile one may)",
                    net.label(id)
                );
            }
        }
        Ok(Handle::new(net.core_for(id, caller)))
    }
}
