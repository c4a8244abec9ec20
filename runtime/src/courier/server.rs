//! The server side of a courier in its own process: accept authenticated connections on a Unix
//! or TCP socket, decode calls, run them concurrently through the node's interface table, send
//! replies back tagged with their request id.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::client::Net;
use super::interface::{Call, Table};
use super::Host;
use crate::error::{chain, CallError};
use crate::transport::conn::{self, Authenticated, FrameWriter, Listener};
use crate::transport::frame::{self, ToClient, ToServerRef, Trace};

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
    /// Decodes `body`, runs the method as a step of `trace`, encodes its result. Past
    /// `deadline` (the caller's), the call is dropped and fails with `DeadlineExceeded`: no
    /// one waits for it any more.
    fn call(
        &self,
        interface: u64,
        method: String,
        body: Bytes,
        deadline: Option<Duration>,
        trace: Option<Trace>,
    ) -> BoxFuture<'static, Result<Bytes, CallError>> {
        let call = Call {
            host: self.host.clone(),
            net: self.net.clone(),
            method,
            body,
            deadline,
            trace,
        };
        self.table.call_socket(self.object.clone(), interface, call)
    }
}

/// Serves `service` on `listener` until `stop` is cancelled: every connection proves the
/// node's key first (see [`conn::accept_authenticated`]). Returns once every connection has
/// told its client of the stop and answered what it still runs.
pub(crate) async fn serve<L: Listener>(
    listener: L,
    service: Arc<Service>,
    keys: conn::Keys,
    stop: CancellationToken,
) {
    let connections = TaskTracker::new();
    let (serving, tracker) = (stop.clone(), connections.clone());
    let on_conn = move |conn: Authenticated| {
        tracker.spawn(serve_connection(conn, service.clone(), serving.clone()));
    };
    conn::accept_authenticated(listener, keys, stop, on_conn, |_| {}).await;
    connections.close();
    connections.wait().await;
}

/// Frames a connection takes off its socket, at most, before it writes the replies they
/// produced (it writes sooner when nothing more has arrived). Small enough that a caller on
/// another CPU starts on the first replies while the rest are answered: with 256 calls in
/// flight over two vCPUs, 64 made 1.6× the calls/s of 256, and on one vCPU the same.
const BATCH: usize = 64;

/// The reply to a call that ran as a task of its own: its id and its result.
type Answered = (u64, Result<Bytes, CallError>);

/// What a connection does after a frame.
enum Flow {
    /// Reads on.
    Go,
    /// The peer went away (end of stream, an I/O error, an oversized frame): no one is left to
    /// answer, so the calls it made are cut.
    Gone,
    /// The peer sent something that is not a call or a cancel: the connection takes no more
    /// calls, answers those it runs, and closes.
    Refused,
}

/// One authenticated connection, served by one task: it reads calls, runs each until it first
/// waits (most calls finish there, and are answered without a task or a channel), writes the
/// replies of everything it read in one go, and hands calls that wait to tasks of their own.
struct Connection {
    /// The node.
    service: Arc<Service>,
    /// The program's stop: a method failing once it is cancelled failed because of it.
    stop: CancellationToken,
    /// Where calls running as tasks send their replies; dropping it (and their copies) ends
    /// the connection's last replies.
    replies: mpsc::Sender<Answered>,
    /// Calls running as tasks at once, at most [`MAX_IN_FLIGHT`]: further frames wait
    /// (backpressure).
    limit: Arc<Semaphore>,
    /// The calls running as tasks, so the client can cancel them (ordered: cut in the same
    /// order every time).
    running: Arc<Mutex<BTreeMap<u64, AbortHandle>>>,
}

/// Serves one authenticated connection: calls until the peer goes away, sends a frame that is
/// not a call, or the server stops.
async fn serve_connection(conn: Authenticated, service: Arc<Service>, stop: CancellationToken) {
    let Authenticated {
        mut reader,
        mut writer,
        ..
    } = conn;
    let (replies, mut answered) = mpsc::channel::<Answered>(MAX_IN_FLIGHT);
    let conn = Connection {
        service,
        stop: stop.clone(),
        replies,
        limit: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        running: Arc::default(),
    };
    loop {
        let mut flow = tokio::select! {
            biased;
            // Calls still running finish during the program's grace period; the client learns
            // that what is not answered was cut by the stop.
            _ = stop.cancelled() => return conn.finish(writer, answered, true).await,
            Some((id, result)) = answered.recv() => {
                put_reply(writer.write_buffer_mut(), id, result);
                Flow::Go
            }
            next = reader.next() => conn.take(next, writer.write_buffer_mut()).await,
        };
        // Whatever else already arrived or finished goes out in the same write.
        for _ in 0..BATCH {
            let Flow::Go = flow else { break };
            match reader.next().now_or_never() {
                Some(next) => flow = conn.take(next, writer.write_buffer_mut()).await,
                None => break,
            }
        }
        while let Ok((id, result)) = answered.try_recv() {
            put_reply(writer.write_buffer_mut(), id, result);
        }
        match flow {
            Flow::Go if SinkExt::<Bytes>::flush(&mut writer).await.is_ok() => {}
            Flow::Refused => return conn.finish(writer, answered, false).await,
            Flow::Go | Flow::Gone => return conn.cut(),
        }
    }
}

impl Connection {
    /// Handles one frame from the peer, appending to `out` the reply of a call that finished
    /// at once.
    async fn take(&self, next: Option<std::io::Result<BytesMut>>, out: &mut BytesMut) -> Flow {
        let Some(Ok(bytes)) = next else {
            return Flow::Gone;
        };
        let frame = bytes.freeze();
        // Anything but a well-formed call or cancel closes this connection (and only it).
        match frame::decode::<ToServerRef>(&frame) {
            Ok(ToServerRef::Call {
                id,
                interface,
                method,
                body,
                deadline,
                trace,
            }) => {
                // The body is shared with the frame, not copied.
                let body = frame.slice_ref(body);
                let call = self
                    .service
                    .call(interface, method.into(), body, deadline, trace);
                self.run(id, call, out).await;
                Flow::Go
            }
            Ok(ToServerRef::Cancel { id }) => {
                if let Some(call) = lock(&self.running).remove(&id) {
                    call.abort();
                }
                Flow::Go
            }
            _ => Flow::Refused,
        }
    }

    /// Polls a call once, here: if it finished, its reply goes into `out`; otherwise it runs on
    /// as a task of its own (so calls run concurrently and can be cancelled), holding one of
    /// the connection's permits.
    async fn run(
        &self,
        id: u64,
        mut call: BoxFuture<'static, Result<Bytes, CallError>>,
        out: &mut BytesMut,
    ) {
        let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
        if let Poll::Ready(result) = first {
            return put_reply(out, id, stopped(result, &self.stop));
        }
        let Ok(permit) = self.limit.clone().acquire_owned().await else {
            return;
        };
        let (replies, running, stop) = (
            self.replies.clone(),
            self.running.clone(),
            self.stop.clone(),
        );
        let mut table = lock(&self.running);
        let task = tokio::spawn(async move {
            let result = call.await;
            drop(permit);
            lock(&running).remove(&id);
            let _ = replies.send((id, stopped(result, &stop))).await;
        });
        table.insert(id, task.abort_handle());
    }

    /// Cuts every call still running: its caller is gone.
    fn cut(self) {
        for (_, call) in std::mem::take(&mut *lock(&self.running)) {
            call.abort();
        }
    }

    /// Takes no more calls and answers those still running (within the grace period, after
    /// which the process ends anyway), first telling the client the program is stopping if it
    /// is; then the connection closes.
    async fn finish(
        self,
        mut writer: FrameWriter,
        mut answered: mpsc::Receiver<Answered>,
        stopping: bool,
    ) {
        if stopping {
            let _ = frame::encode_into(writer.write_buffer_mut(), &ToClient::Stopping);
        }
        drop(self.replies);
        loop {
            if SinkExt::<Bytes>::flush(&mut writer).await.is_err() {
                return;
            }
            let Some((id, result)) = answered.recv().await else {
                return;
            };
            put_reply(writer.write_buffer_mut(), id, result);
            while let Ok((id, result)) = answered.try_recv() {
                put_reply(writer.write_buffer_mut(), id, result);
            }
        }
    }
}

/// Appends the reply to call `id` to `out`; a result that cannot be encoded is answered with
/// why.
fn put_reply(out: &mut BytesMut, id: u64, result: Result<Bytes, CallError>) {
    if let Err(e) = frame::encode_into(out, &ToClient::Reply { id, result }) {
        let why = CallError::Protocol(format!("the reply cannot be sent: {}", chain(&e)));
        let _ = frame::encode_into(
            out,
            &ToClient::Reply {
                id,
                result: Err(why),
            },
        );
    }
}

/// A method that fails once the program is stopping failed because of the stop (its own calls
/// were cut short): the caller learns that, not an error.
fn stopped(result: Result<Bytes, CallError>, stop: &CancellationToken) -> Result<Bytes, CallError> {
    match result {
        Err(CallError::Remote { node, .. }) if stop.is_cancelled() => {
            Err(CallError::Stopping { node })
        }
        result => result,
    }
}

fn lock(running: &Mutex<BTreeMap<u64, AbortHandle>>) -> MutexGuard<'_, BTreeMap<u64, AbortHandle>> {
    running.lock().unwrap_or_else(PoisonError::into_inner)
}
