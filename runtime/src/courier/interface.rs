//! Interfaces: what a handle calls. A courier type is one interface (its own methods); a
//! courier trait is another (`Handle<dyn Trait>` reaches any node whose type implements it). A
//! node answers every interface its type serves, each through its own dispatch, found by the
//! interface's id — in process without serialization, over a socket from the call's frame.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::client::{ClientCore, Net};
use super::{execute, Host, Reply};
use crate::error::chain;
use crate::error::CallError;
use crate::transport::frame;

/// Something a handle can call: a courier type (`Handle<Producer>`), or a courier trait
/// (`Handle<dyn Source>`); implemented by generated code.
pub trait Courier: 'static {
    /// One variant per method, holding its arguments.
    type Request: Serialize + DeserializeOwned + Send + 'static;
    /// One variant per method, holding its return value.
    type Response: Serialize + DeserializeOwned + Send + 'static;
    /// The typed client a handle dereferences to.
    type Client: Clone + Send + Sync + 'static;
    /// The interface's path (`crate::nodes::Producer`, `dyn crate::vars::Source`): it names the
    /// interface on the wire.
    const NAME: &'static str;
    /// The names of the methods callable through a handle (Launchpad's `list_methods`).
    const METHODS: &'static [&'static str] = &[];
    /// Wraps a transport-level client into the typed client.
    fn client(core: ClientCore) -> Self::Client;
}

/// The id of interface `I` on the wire: a hash of its name.
pub(crate) fn id<I: ?Sized + Courier>() -> u64 {
    const { fnv1a(I::NAME) }
}

/// FNV-1a, 64 bits: a stable hash computed at compile time.
const fn fnv1a(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// How a node type answers the calls of interface `I` (its own, or a courier trait it
/// implements); implemented by generated code.
pub trait Serve<I: ?Sized + Courier>: Send + Sync + 'static {
    /// Dispatches one request to the method it names.
    fn serve(self: Arc<Self>, request: I::Request) -> Reply<I::Response>;
}

/// A courier node type: the interfaces it serves; implemented by generated code.
pub trait Served: Send + Sync + Sized + 'static {
    /// Adds each interface it serves to `set`.
    fn interfaces(set: &mut Interfaces<Self>);
}

/// The interfaces a node type `T` serves, as [`Served::interfaces`] lists them.
pub struct Interfaces<T> {
    entries: Vec<Entry>,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T: Send + Sync + 'static> Interfaces<T> {
    /// Adds interface `I`.
    pub fn add<I: ?Sized + Courier>(&mut self)
    where
        T: Serve<I>,
    {
        self.entries.push(Entry {
            id: id::<I>(),
            name: I::NAME,
            in_proc: Box::new(in_proc::<T, I> as InProc<I>),
            socket: socket::<T, I>,
        });
    }
}

/// Every interface a node answers, with its dispatch.
pub(crate) struct Table {
    entries: Vec<Entry>,
}

struct Entry {
    id: u64,
    name: &'static str,
    /// An [`InProc<I>`] for the entry's interface `I`.
    in_proc: Box<dyn Any + Send + Sync>,
    socket: Socket,
}

/// Dispatches a call of interface `I` to a node object in this process.
type InProc<I> = fn(
    Arc<dyn Any + Send + Sync>,
    <I as Courier>::Request,
) -> Result<Reply<<I as Courier>::Response>, CallError>;

/// Decodes, runs and encodes a call of one interface that came over a socket.
type Socket = fn(Arc<dyn Any + Send + Sync>, Call) -> BoxFuture<'static, Result<Bytes, CallError>>;

/// A call that came over a socket.
pub(crate) struct Call {
    /// The serving node's label, span and batch queues.
    pub(crate) host: Arc<Host>,
    /// This process's nodes, for the handles a request carries.
    pub(crate) net: Net,
    pub(crate) method: String,
    pub(crate) body: Bytes,
    /// Past it the caller is gone: the call is dropped with `DeadlineExceeded`.
    pub(crate) deadline: Option<Duration>,
    /// Where the call is in its trace, when calls are traced.
    pub(crate) trace: Option<frame::Trace>,
}

impl Table {
    /// The table of node type `T`.
    pub(crate) fn of<T: Served>() -> Self {
        let mut set = Interfaces {
            entries: Vec::new(),
            _type: std::marker::PhantomData,
        };
        T::interfaces(&mut set);
        Table {
            entries: set.entries,
        }
    }

    fn entry(&self, id: u64) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Runs a call of interface `I` on `object` (a node of this table's type) in process.
    pub(crate) fn call_in_proc<I: ?Sized + Courier>(
        &self,
        object: Arc<dyn Any + Send + Sync>,
        request: I::Request,
    ) -> Result<Reply<I::Response>, CallError> {
        let dispatch = self
            .entry(id::<I>())
            .and_then(|e| e.in_proc.downcast_ref::<InProc<I>>())
            .ok_or_else(|| not_served(I::NAME, self))?;
        dispatch(object, request)
    }

    /// Runs a call that came over a socket for interface `interface`.
    pub(crate) fn call_socket(
        &self,
        object: Arc<dyn Any + Send + Sync>,
        interface: u64,
        call: Call,
    ) -> BoxFuture<'static, Result<Bytes, CallError>> {
        match self.entry(interface) {
            Some(entry) => (entry.socket)(object, call),
            None => {
                let error = CallError::Protocol(format!(
                    "node `{}` serves no interface with id {interface:#x} (it serves {})",
                    call.host.node,
                    self.names()
                ));
                Box::pin(async move { Err(error) })
            }
        }
    }

    fn names(&self) -> String {
        let names: Vec<String> = self
            .entries
            .iter()
            .map(|e| format!("`{}`", e.name))
            .collect();
        names.join(", ")
    }
}

fn not_served(name: &str, table: &Table) -> CallError {
    CallError::Protocol(format!(
        "the node does not serve `{name}` (it serves {})",
        table.names()
    ))
}

fn in_proc<T: Serve<I>, I: ?Sized + Courier>(
    object: Arc<dyn Any + Send + Sync>,
    request: I::Request,
) -> Result<Reply<I::Response>, CallError> {
    let object = object.downcast::<T>().map_err(|_| {
        CallError::Protocol(format!(
            "the node is not a `{}`",
            std::any::type_name::<T>()
        ))
    })?;
    Ok(T::serve(object, request))
}

fn socket<T: Serve<I>, I: ?Sized + Courier>(
    object: Arc<dyn Any + Send + Sync>,
    call: Call,
) -> BoxFuture<'static, Result<Bytes, CallError>> {
    Box::pin(async move {
        let Call {
            host,
            net,
            method,
            body,
            deadline,
            trace,
        } = call;
        let node = &host.node;
        let request: I::Request = net.decode(&body, Some(host.id)).map_err(|e| {
            CallError::Protocol(format!("request for `{method}` on `{node}`: {}", chain(&e)))
        })?;
        // Decoded: the frame the body shares is not kept while the method runs.
        drop(body);
        let reply = in_proc::<T, I>(object, request)?;
        let run = execute(reply, &host, &method, trace.as_ref());
        let response = match deadline {
            None => run.await?,
            // An async method is dropped; a blocking one finishes on its thread, unheard.
            Some(deadline) => tokio::time::timeout(deadline, run).await.map_err(|_| {
                CallError::DeadlineExceeded {
                    node: node.to_string(),
                    method: method.clone(),
                }
            })??,
        };
        // The reply around it takes a few more bytes.
        let bytes = frame::encode(&response)
            .and_then(|bytes| frame::fits(bytes.len() + 64).map(|()| bytes))
            .map_err(|e| {
                CallError::Protocol(format!(
                    "the result of `{method}` on `{node}` is {}",
                    chain(&e)
                ))
            })?;
        Ok(bytes)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_fnv1a() {
        assert_eq!(super::fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(
            super::fnv1a("crate::nodes::Producer"),
            super::fnv1a("dyn crate::nodes::Producer")
        );
    }
}
