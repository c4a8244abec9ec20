//! The server side of a courier in its own process: accept authenticated connections on a Unix
//! or TCP socket, decode calls, run them concurrently through the node's interface table, send
//! replies back tagged with their request id.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::client::Net;
use super::interface::{Call, Table};
use super::Host;
use crate::error::CallError;
use crate::transport::conn::{self, Authenticated, Listener};
use crate::transport::frame::{self, Secret, ToClient, ToServer};

/// Calls one connection may have running at once; further frames wait (backpressure).
const MAX_IN_FLIGHT: usize = 1024;

/// A constructed courier node, served: encoded requests in, encoded responses out.
pub(crate) struct Service {
    /// The node's object, shared by every call.
    pub(crate) object: Arc<dyn Any + Send + Sync>,
    /// The interfaces it answers.
    pub(crate) table: Arc<Table>,
    /// The node's label, span and batch queues.
    pub(crate) host: Arc<Host>,
    /// This process's nodes, for the handles requests carry.
    pub(crate) net: Net,
}

impl Service {
    /// Decodes `body`, runs the method, encodes its result. Past `deadline` (the caller's),
    /// the call is dropped and fails with `DeadlineExceeded`: no one waits for it any more.
    fn call(
        &self,
        interface: u64,
        method: String,
        body: Bytes,
        deadline: Option<Duration>,
    ) -> BoxFuture<'static, Result<Bytes, CallError>> {
        let call = Call {
            host: self.host.clone(),
            net: self.net.clone(),
            method,
            body,
            deadline,
        };
        self.table.call_socket(self.object.clone(), interface, call)
    }
}

/// Serves `service` on `listener` until `stop` is cancelled: every connection proves the
/// secret first (see [`conn::accept_authenticated`]). Returns once every connection has
/// told its client of the stop and answered what it still runs.
pub(crate) async fn serve<L: Listener>(
    listener: L,
    service: Arc<Service>,
    secret: Secret,
    stop: CancellationToken,
) {
    let connections = TaskTracker::new();
    let (serving, tracker) = (stop.clone(), connections.clone());
    let on_conn = move |conn: Authenticated| {
        tracker.spawn(serve_connection(conn, service.clone(), serving.clone()));
    };
    conn::accept_authenticated(listener, secret, stop, on_conn, |_| {}).await;
    connections.close();
    connections.wait().await;
}

/// Serves one authenticated connection: calls until the peer goes away, sends a frame that is
/// not a call, or the server stops.
async fn serve_connection(conn: Authenticated, service: Arc<Service>, stop: CancellationToken) {
    let Authenticated {
        mut reader, writer, ..
    } = conn;
    let (outbox, inbox) = mpsc::channel::<Bytes>(MAX_IN_FLIGHT);
    let written = tokio::spawn(write_replies(writer, inbox));
    let limit = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    // The calls running on this connection, so the client can cancel them.
    let running: Arc<Mutex<HashMap<u64, AbortHandle>>> = Arc::default();
    loop {
        let next = tokio::select! {
            next = reader.next() => next,
            // Calls still running finish during the program's grace period; the client learns
            // that what is not answered was cut by the stop.
            _ = stop.cancelled() => {
                if let Ok(frame) = frame::encode(&ToClient::Stopping) {
                    let _ = outbox.send(frame).await;
                }
                // The writer ends once every running call has answered (within the grace
                // period, after which the process ends anyway).
                drop(outbox);
                let _ = written.await;
                return;
            }
        };
        // EOF, an I/O error or an oversized frame: this connection is done, and no one is
        // left to answer.
        let Some(Ok(bytes)) = next else {
            for (_, call) in lock(&running).drain() {
                call.abort();
            }
            return;
        };
        // Anything but a well-formed call or cancel closes this connection (and only it).
        let (id, interface, method, body, deadline) = match frame::decode::<ToServer>(&bytes) {
            Ok(ToServer::Call {
                id,
                interface,
                method,
                body,
                deadline,
            }) => (id, interface, method, body, deadline),
            Ok(ToServer::Cancel { id }) => {
                if let Some(call) = lock(&running).remove(&id) {
                    call.abort();
                }
                continue;
            }
            _ => return,
        };
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let mut table = lock(&running);
        let call = tokio::spawn(
            answer(
                service.clone(),
                interface,
                method,
                body,
                deadline,
                stop.clone(),
            )
            .then({
                let (outbox, done) = (outbox.clone(), running.clone());
                move |result| async move {
                    drop(permit);
                    lock(&done).remove(&id);
                    let reply = ToClient::Reply { id, result };
                    if let Ok(frame) = frame::encode(&reply) {
                        let _ = outbox.send(frame).await;
                    }
                }
            }),
        );
        table.insert(id, call.abort_handle());
    }
}

/// Writes the replies of a connection as they come, coalescing what is queued into one flush.
async fn write_replies<W: futures::Sink<Bytes> + Unpin>(
    mut writer: W,
    mut inbox: mpsc::Receiver<Bytes>,
) {
    while let Some(frame) = inbox.recv().await {
        if writer.feed(frame).await.is_err() {
            return;
        }
        while let Ok(frame) = inbox.try_recv() {
            if writer.feed(frame).await.is_err() {
                return;
            }
        }
        if SinkExt::<Bytes>::flush(&mut writer).await.is_err() {
            return;
        }
    }
}

/// Runs one call; a method that fails once the program is stopping failed because of the stop
/// (its own calls were cut short): the caller learns that, not an error.
async fn answer(
    service: Arc<Service>,
    interface: u64,
    method: String,
    body: Bytes,
    deadline: Option<Duration>,
    stopping: CancellationToken,
) -> Result<Bytes, CallError> {
    match service.call(interface, method, body, deadline).await {
        Err(CallError::Remote { node, .. }) if stopping.is_cancelled() => {
            Err(CallError::Stopping { node })
        }
        result => result,
    }
}

fn lock(running: &Mutex<HashMap<u64, AbortHandle>>) -> MutexGuard<'_, HashMap<u64, AbortHandle>> {
    running.lock().unwrap_or_else(PoisonError::into_inner)
}
