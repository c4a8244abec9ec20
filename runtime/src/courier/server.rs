//! The server side of a courier in its own process: accept authenticated connections on a Unix
//! or TCP socket, decode calls, run them concurrently through the node's interface table, send
//! replies back tagged with their request id.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use super::client::Net;
use super::interface::{Call, Table};
use super::Host;
use crate::error::CallError;
use crate::transport::conn::{self, Listener, Socket};
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

/// Serves `service` on `listener` until `stop` is cancelled.
pub(crate) async fn serve<L: Listener>(
    listener: L,
    service: Arc<Service>,
    secret: Secret,
    stop: CancellationToken,
) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => return,
        };
        tokio::spawn(serve_connection(
            stream,
            service.clone(),
            secret.clone(),
            stop.clone(),
        ));
    }
}

/// Serves one connection: a hello with the secret first, then calls until the peer goes away,
/// sends a frame that is not a call, or the server stops.
pub(crate) async fn serve_connection<S: Socket>(
    stream: S,
    service: Arc<Service>,
    secret: Secret,
    stop: CancellationToken,
) {
    let (mut reader, mut writer) = conn::framed(stream);
    if !conn::accept_hello(&mut reader, &mut writer, &secret).await {
        return;
    }
    let (outbox, mut inbox) = mpsc::channel::<Bytes>(MAX_IN_FLIGHT);
    tokio::spawn(async move {
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
    });
    let limit = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    // The calls running on this connection, so the client can cancel them.
    let running: Arc<Mutex<HashMap<u64, AbortHandle>>> = Arc::default();
    loop {
        let next = tokio::select! {
            next = reader.next() => next,
            // Calls still running finish during the program's grace period.
            _ = stop.cancelled() => return,
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
        let service = service.clone();
        let outbox = outbox.clone();
        let done = running.clone();
        let mut table = lock(&running);
        let call = tokio::spawn(async move {
            let result = service.call(interface, method, body, deadline).await;
            drop(permit);
            lock(&done).remove(&id);
            let reply = ToClient::Reply { id, result };
            if let Ok(frame) = frame::encode(&reply) {
                let _ = outbox.send(frame).await;
            }
        });
        table.insert(id, call.abort_handle());
    }
}

fn lock(running: &Mutex<HashMap<u64, AbortHandle>>) -> MutexGuard<'_, HashMap<u64, AbortHandle>> {
    running.lock().unwrap_or_else(PoisonError::into_inner)
}
