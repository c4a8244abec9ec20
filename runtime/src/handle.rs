//! [`Handle`]: a typed reference to a courier node, wherever it runs.

use std::ops::Deref;
use std::time::Duration;

use crate::courier::{ClientCore, Courier};

/// A typed reference to a courier node of type `T`.
///
/// It dereferences to the generated client, so a method `work(&self, context: u64) -> u64` of
/// `T` is called as `handle.work(context).await?` (returning `Result<u64, lp::CallError>`), or
/// as `handle.work_blocking(context)?` from a synchronous `run`. Handles are cheap to clone and
/// every clone shares the same connection.
pub struct Handle<T: Courier> {
    /// The typed client the handle dereferences to.
    client: T::Client,
    /// The transport-level client, kept to derive handles with other settings.
    core: ClientCore,
}

impl<T: Courier> Handle<T> {
    pub(crate) fn new(core: ClientCore) -> Self {
        Handle {
            client: T::client(core.clone()),
            core,
        }
    }

    /// The same node, with every call through the returned handle failing with
    /// [`CallError::DeadlineExceeded`](crate::CallError::DeadlineExceeded) when no reply came
    /// within `deadline` (default: no deadline).
    ///
    /// An associated function (`Handle::with_deadline(&h, d)`) so it never shadows a method of
    /// the node.
    pub fn with_deadline(this: &Self, deadline: Duration) -> Self {
        Handle::new(this.core.with_deadline(Some(deadline)))
    }

    /// The names of the node's remotely callable methods, e.g. `["work", "pid"]` (Launchpad's
    /// `list_methods`).
    ///
    /// An associated function (`Handle::methods(&h)`) so it never shadows a method of the node.
    pub fn methods(_this: &Self) -> &'static [&'static str] {
        T::METHODS
    }

    /// The label of the node this handle refers to, e.g. `producer/1`.
    ///
    /// An associated function (`Handle::label(&h)`) so it never shadows a method of the node.
    pub fn label(this: &Self) -> &str {
        this.core.node()
    }
}

impl<T: Courier> Deref for Handle<T> {
    type Target = T::Client;

    fn deref(&self) -> &T::Client {
        &self.client
    }
}

impl<T: Courier> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle {
            client: self.client.clone(),
            core: self.core.clone(),
        }
    }
}

impl<T: Courier> std::fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Handle<{}>({})",
            std::any::type_name::<T>(),
            self.core.node()
        )
    }
}
