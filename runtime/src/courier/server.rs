//! The server side of a courier in its own process: accept authenticated connections on a Unix
//! socket, decode calls, run them concurrently through [`Courier::handle`], send replies back
//! tagged with their request id.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use super::{execute, Courier};
use crate::error::CallError;
use crate::transport::frame::{self, Secret, ToClient, ToServer, MAX_FRAME};
use crate::transport::unix;

/// Calls one connection may have running at once; further frames wait (backpressure).
const MAX_IN_FLIGHT: usize = 1024;

/// A courier with its type erased: encoded request in, encoded response out.
pub(crate) trait Service: Send + Sync + 'static {
    /// Decodes `body`, runs the method, encodes its result.
    fn call(
        self: Arc<Self>,
        method: String,
        body: Bytes,
    ) -> BoxFuture<'static, Result<Bytes, CallError>>;
}

/// A constructed courier node, served.
pub(crate) struct TypedService<T> {
    /// The node's object, shared by every call.
    pub(crate) object: Arc<T>,
    /// The node's label, for errors.
    pub(crate) node: Arc<str>,
    /// The node's span: handlers log with its label.
    pub(crate) span: tracing::Span,
}

impl<T: Courier> Service for TypedService<T> {
    fn call(
        self: Arc<Self>,
        method: String,
        body: Bytes,
    ) -> BoxFuture<'static, Result<Bytes, CallError>> {
        Box::pin(async move {
            let request: T::Request = frame::decode(&body).map_err(|e| {
                CallError::Protocol(format!("request for `{method}` on `{}`: {e}", self.node))
            })?;
            let reply = T::handle(self.object.clone(), request);
            let response = execute(reply, self.span.clone(), &self.node, &method).await?;
            let bytes = frame::encode(&response).map_err(CallError::Protocol)?;
            if bytes.len() + 64 > MAX_FRAME {
                return Err(CallError::Protocol(format!(
                    "the result of `{method}` on `{}` is {} bytes, over the frame limit",
                    self.node,
                    bytes.len()
                )));
            }
            Ok(bytes)
        })
    }
}

/// Serves `service` on `listener` until `stop` is cancelled.
pub(crate) async fn serve(
    listener: UnixListener,
    service: Arc<dyn Service>,
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
pub(crate) async fn serve_connection(
    stream: UnixStream,
    service: Arc<dyn Service>,
    secret: Secret,
    stop: CancellationToken,
) {
    let (mut reader, mut writer) = unix::framed(stream);
    if !unix::accept_hello(&mut reader, &mut writer, &secret).await {
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
    loop {
        let next = tokio::select! {
            next = reader.next() => next,
            _ = stop.cancelled() => return,
        };
        // EOF, an I/O error or an oversized frame: this connection is done.
        let Some(Ok(bytes)) = next else { return };
        // Anything but a well-formed call closes this connection (and only it).
        let Ok(ToServer::Call { id, method, body }) = frame::decode::<ToServer>(&bytes) else {
            return;
        };
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        let service = service.clone();
        let outbox = outbox.clone();
        tokio::spawn(async move {
            let result = service.call(method, body).await;
            drop(permit);
            let reply = ToClient::Reply { id, result };
            if let Ok(frame) = frame::encode(&reply) {
                let _ = outbox.send(frame).await;
            }
        });
    }
}
