//! The client side of one connection that every call to a node multiplexes.
//!
//! A call appends its frame to the connection's outgoing buffer and takes a slot in its call
//! table; one writer task writes whatever has queued in one write, one reader task puts each
//! reply in its call's slot and wakes the caller. No channel, no task and no allocation is
//! made per call besides the frame bytes: under load, many calls share each system call. A
//! large body is not copied into the buffer: the writer writes it from its own, in its place
//! among the frames around it (one vectored write, where the transport has them).

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes, BytesMut};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::conn::{FrameReader, FrameWriter};
use super::frame::{self, CallRef, ToClientRef, ToServer};
use crate::error::{chain, CallError};

/// Frames queued for the writer beyond which new calls wait (backpressure).
const OUTBOX: usize = 1024;

/// A live connection to one node; clones share it, and when the last is dropped the writer
/// ends, closing the connection's write direction.
#[derive(Clone)]
pub(crate) struct Conn(Arc<Owner>);

/// Owned by every [`Conn`] clone: its drop tells the writer no call will come.
struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.released = true;
        wake(state.writer.take());
    }
}

/// What callers, the writer and the reader share.
struct Shared {
    /// The call table and the outgoing bytes.
    state: Mutex<State>,
    /// Set with `State::closed`, to be read without the lock.
    closed: AtomicBool,
    /// Notified when the writer takes the queued frames: callers waiting for room retry.
    room: Notify,
    /// The node's label, for errors.
    node: Arc<str>,
    /// The peer said its program is stopping: what it does not answer was cut by the stop.
    peer_stopping: Arc<AtomicBool>,
    /// Cancelled when this process stops.
    stop: CancellationToken,
}

#[derive(Default)]
struct State {
    /// Why the connection is gone, once it is: no call starts after.
    closed: Option<&'static str>,
    /// Every [`Conn`] is gone: the writer ends once it wrote what is queued.
    released: bool,
    /// The calls, by the low 32 bits of their id; reused, each use with a new generation (the
    /// id's high 32 bits), so that ids are unique among the calls in flight.
    calls: Vec<Slot>,
    /// Free entries of `calls`.
    free: Vec<u32>,
    /// Frames not yet written.
    out: BytesMut,
    /// The large bodies of frames in `out`, each with the offset in `out` where it belongs.
    bodies: Vec<(usize, Bytes)>,
    /// How many frames `out` holds.
    queued: usize,
    /// The writer, waiting for frames.
    writer: Option<Waker>,
}

/// One entry of the call table.
#[derive(Default)]
struct Slot {
    /// The use of the entry: the high half of its call's id.
    generation: u32,
    call: Call,
}

/// Where a call stands.
#[derive(Default)]
enum Call {
    /// No call.
    #[default]
    Free,
    /// Sent, not answered; the caller's waker.
    Waiting(Option<Waker>),
    /// Answered (or cut); not yet taken by the caller.
    Done(Result<Bytes, CallError>),
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Why a call on this connection gets no answer: the stop, or `reason`.
    fn cut(&self, reason: &str) -> CallError {
        match self.peer_stopping.load(Ordering::Relaxed) || self.stop.is_cancelled() {
            true => CallError::Stopping {
                node: self.node.to_string(),
            },
            false => CallError::Unavailable {
                node: self.node.to_string(),
                reason: reason.to_string(),
            },
        }
    }

    /// Fails every waiting call and refuses new ones.
    fn close(&self, reason: &'static str) {
        let mut wakers = Vec::new();
        {
            let mut state = self.lock();
            if state.closed.is_some() {
                return;
            }
            state.closed = Some(reason);
            self.closed.store(true, Ordering::Release);
            for slot in &mut state.calls {
                if let Call::Waiting(waker) = &mut slot.call {
                    wakers.extend(waker.take());
                    slot.call = Call::Done(Err(self.cut(reason)));
                }
            }
            wakers.extend(state.writer.take());
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Puts the reply to call `id` in its slot and wakes its caller (a reply to a call that
    /// was dropped meanwhile is dropped).
    fn answer(&self, id: u64, result: Result<Bytes, CallError>) {
        let waker = {
            let mut state = self.lock();
            match state.calls.get_mut(id as u32 as usize) {
                Some(Slot {
                    generation,
                    call: call @ Call::Waiting(_),
                }) if *generation == (id >> 32) as u32 => {
                    match std::mem::replace(call, Call::Done(result)) {
                        Call::Waiting(waker) => waker,
                        _ => None,
                    }
                }
                _ => None,
            }
        };
        wake(waker);
    }
}

impl State {
    /// Takes a free slot for a new call: its id.
    fn take_slot(&mut self) -> u64 {
        let index = self.free.pop().unwrap_or_else(|| {
            self.calls.push(Slot::default());
            (self.calls.len() - 1) as u32
        });
        let slot = &mut self.calls[index as usize];
        slot.call = Call::Waiting(None);
        (u64::from(slot.generation) << 32) | u64::from(index)
    }

    /// Frees call `id`'s slot: true if it was still waiting for its reply.
    fn free_slot(&mut self, id: u64) -> bool {
        let index = id as u32;
        let Some(slot) = self.calls.get_mut(index as usize) else {
            return false;
        };
        if slot.generation != (id >> 32) as u32 {
            return false;
        }
        let waiting = matches!(slot.call, Call::Waiting(_));
        slot.call = Call::Free;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        waiting
    }
}

impl Conn {
    /// Starts the writer and reader tasks of an authenticated connection to node `node`.
    pub(crate) fn start(
        reader: FrameReader,
        writer: FrameWriter,
        node: Arc<str>,
        peer_stopping: Arc<AtomicBool>,
        stop: CancellationToken,
    ) -> Conn {
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            closed: AtomicBool::new(false),
            room: Notify::new(),
            node,
            peer_stopping,
            stop,
        });
        tokio::spawn(write(shared.clone(), writer));
        tokio::spawn(read(shared.clone(), reader));
        Conn(Arc::new(Owner(shared)))
    }

    fn shared(&self) -> &Shared {
        &self.0 .0
    }

    /// Whether the connection is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.shared().closed.load(Ordering::Acquire)
    }

    /// Calls `method` of `interface` with the encoded request `body`, and waits for the
    /// encoded response. Dropping the future cancels the call on the server.
    pub(crate) async fn call(&self, call: CallRef<'_>) -> Result<Bytes, CallError> {
        let id = loop {
            // Created before looking, so that room made meanwhile is not missed.
            let room = self.shared().room.notified();
            if let Some(id) = self.send(&call)? {
                break id;
            }
            room.await;
        };
        let mut pending = Pending { conn: self, id };
        std::future::poll_fn(|cx| pending.poll(cx)).await
    }

    /// Queues the call's frame, under an id of its own (whatever `call.id` says), and takes its
    /// slot: its id, or `None` when the outbox is full.
    fn send(&self, call: &CallRef<'_>) -> Result<Option<u64>, CallError> {
        let shared = self.shared();
        let mut state = shared.lock();
        if let Some(reason) = state.closed {
            return Err(shared.cut(reason));
        }
        if shared.peer_stopping.load(Ordering::Relaxed) || shared.stop.is_cancelled() {
            return Err(shared.cut("the connection closed"));
        }
        if state.queued >= OUTBOX {
            return Ok(None);
        }
        let id = state.take_slot();
        match frame::encode_call_into(&mut state.out, &CallRef { id, ..*call }) {
            Ok(None) => {}
            Ok(Some(at)) => state.bodies.push((at, call.body.clone())),
            Err(e) => {
                state.free_slot(id);
                let why = format!("the arguments of `{}` are {}", call.method, chain(&e));
                return Err(CallError::Protocol(why));
            }
        }
        state.queued += 1;
        let writer = state.writer.take();
        drop(state);
        wake(writer);
        Ok(Some(id))
    }
}

/// A call sent and not yet answered: frees its slot when it ends, and if it is dropped
/// unanswered (its deadline passed, its caller gave up) tells the server to cancel it.
struct Pending<'a> {
    conn: &'a Conn,
    id: u64,
}

impl Pending<'_> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<Bytes, CallError>> {
        let shared = self.conn.shared();
        let mut state = shared.lock();
        let Some(slot) = state.calls.get_mut(self.id as u32 as usize) else {
            return Poll::Ready(Err(shared.cut("the connection closed")));
        };
        match &mut slot.call {
            Call::Waiting(Some(waker)) if waker.will_wake(cx.waker()) => Poll::Pending,
            Call::Waiting(waker) => {
                *waker = Some(cx.waker().clone());
                Poll::Pending
            }
            Call::Done(_) => match std::mem::take(&mut slot.call) {
                Call::Done(result) => {
                    state.free_slot(self.id);
                    Poll::Ready(result)
                }
                _ => unreachable!("the call was done a moment ago"),
            },
            Call::Free => Poll::Ready(Err(shared.cut("the connection closed"))),
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        let shared = self.conn.shared();
        let mut state = shared.lock();
        // Best effort: a full outbox or a closed connection needs no cancel.
        if state.free_slot(self.id) && state.closed.is_none() && state.queued < OUTBOX {
            let cancel = ToServer::Cancel { id: self.id };
            if frame::encode_into(&mut state.out, &cancel).is_ok() {
                state.queued += 1;
                wake(state.writer.take());
            }
        }
    }
}

/// The writer task: writes whatever calls queued, in one write each time, until every
/// [`Conn`] is gone or the connection closed.
async fn write(shared: Arc<Shared>, writer: FrameWriter) {
    let mut io = writer.into_inner();
    let (mut buffer, mut bodies) = (BytesMut::new(), Vec::new());
    let more = |buffer: &mut BytesMut, bodies: &mut Vec<_>, cx: &mut Context<'_>| {
        let mut state = shared.lock();
        if state.closed.is_some() || (state.released && state.out.is_empty()) {
            return Poll::Ready(false);
        }
        if state.out.is_empty() {
            state.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        std::mem::swap(&mut state.out, buffer);
        std::mem::swap(&mut state.bodies, bodies);
        state.queued = 0;
        Poll::Ready(true)
    };
    while std::future::poll_fn(|cx| more(&mut buffer, &mut bodies, cx)).await {
        shared.room.notify_waiters();
        let written = match bodies.is_empty() {
            true => io.write_all_buf(&mut buffer).await,
            false => {
                let mut chunks = Chunks::splice(&mut buffer, bodies.drain(..));
                io.write_all_buf(&mut chunks).await
            }
        };
        // The flush seals what was written on an encrypted connection (a no-op on a plain
        // socket).
        if written.is_err() || io.flush().await.is_err() {
            // The peer is gone: the reader, which reads what it said last (that it stops,
            // say), fails the calls still waiting.
            return;
        }
        buffer.clear();
    }
    shared.close("the connection closed");
}

/// Queued frames with their large bodies spliced in, as a [`Buf`] of many chunks: written
/// with vectored writes, none copied.
struct Chunks(VecDeque<Bytes>);

impl Chunks {
    /// Takes the frames of `out`, with each body put where it belongs (at its offset in `out`,
    /// in order).
    fn splice(out: &mut BytesMut, bodies: impl Iterator<Item = (usize, Bytes)>) -> Chunks {
        let mut chunks = VecDeque::new();
        let mut taken = 0;
        for (at, body) in bodies {
            chunks.push_back(out.split_to(at - taken).freeze());
            chunks.push_back(body);
            taken = at;
        }
        chunks.push_back(out.split().freeze());
        chunks.retain(|chunk| !chunk.is_empty());
        Chunks(chunks)
    }
}

impl Buf for Chunks {
    fn remaining(&self) -> usize {
        self.0.iter().map(Bytes::len).sum()
    }

    fn chunk(&self) -> &[u8] {
        self.0.front().map_or(&[], |chunk| chunk)
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let filled = dst.iter_mut().zip(&self.0);
        filled
            .map(|(slot, chunk)| *slot = IoSlice::new(chunk))
            .count()
    }

    fn advance(&mut self, mut n: usize) {
        while let Some(front) = self.0.front_mut() {
            let step = n.min(front.len());
            front.advance(step);
            n -= step;
            if !front.is_empty() {
                return;
            }
            self.0.pop_front();
        }
    }
}

/// The reader task: hands each reply to its call until the connection ends, then fails the
/// calls still waiting with the reason.
async fn read(shared: Arc<Shared>, mut reader: FrameReader) {
    let reason = loop {
        match reader.next().await {
            Some(Ok(bytes)) => {
                let frame = bytes.freeze();
                match frame::decode::<ToClientRef>(&frame) {
                    // The body is shared with the frame, not copied.
                    Ok(ToClientRef::Reply { id, result }) => {
                        shared.answer(id, result.map(|body| frame.slice_ref(body)))
                    }
                    Ok(ToClientRef::Stopping) => {
                        shared.peer_stopping.store(true, Ordering::Relaxed)
                    }
                    Ok(ToClientRef::Welcome | ToClientRef::Challenge { .. }) => {
                        break "the peer repeated its handshake"
                    }
                    Err(_) => break "the peer sent a malformed frame",
                }
            }
            Some(Err(_)) => break "the connection failed",
            None => break "the connection closed (the node stopped or died)",
        }
    };
    shared.close(reason);
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;
    use crate::transport::conn::{self, Socket};
    use crate::transport::frame::{Secret, ToServerRef, LARGE};
    use crate::transport::noise;

    /// Calls with small and large bodies, queued together (one batch for the writer), reach
    /// `peer` whole and in order; twice, so that the writer reuses its buffer after a splice.
    async fn calls_arrive_whole_and_in_order(
        (reader, writer): (FrameReader, FrameWriter),
        mut peer: FrameReader,
    ) {
        peer.decoder_mut().authenticated();
        let stop = CancellationToken::new();
        let conn = Conn::start(reader, writer, Arc::from("peer"), Arc::default(), stop);
        let sizes = [10, LARGE, 3, 3 * LARGE + 1, 0, LARGE - 1, 1 << 20, 7];
        let bodies: Vec<Bytes> = sizes
            .iter()
            .map(|&n| (0..n).map(|i| (i % 251) as u8 ^ n as u8).collect())
            .collect();
        for round in 0..2 {
            let call = |(i, body)| CallRef {
                id: 0,
                interface: i as u64,
                method: "m",
                body,
                deadline: None,
                trace: None,
            };
            let mut calls: Vec<_> = (bodies.iter().enumerate().map(call))
                .map(|call| Box::pin(conn.call(call)))
                .collect();
            // Each call queues its frame at its first poll; the writer has not run yet.
            std::future::poll_fn(|cx| {
                for call in &mut calls {
                    assert!(call.as_mut().poll(cx).is_pending());
                }
                Poll::Ready(())
            })
            .await;
            for (i, body) in bodies.iter().enumerate() {
                let frame = peer.next().await.unwrap().unwrap();
                match frame::decode::<ToServerRef>(&frame).unwrap() {
                    ToServerRef::Call {
                        interface,
                        body: got,
                        ..
                    } => assert!(
                        interface == i as u64 && got == &body[..],
                        "round {round}: call {i} arrived as call {interface} of {} bytes",
                        got.len()
                    ),
                    other => panic!("round {round}: {other:?}"),
                }
            }
            // Dropped unanswered, each call cancels itself.
            drop(calls);
            for _ in &bodies {
                let frame = peer.next().await.unwrap().unwrap();
                let cancel = frame::decode::<ToServerRef>(&frame).unwrap();
                assert!(matches!(cancel, ToServerRef::Cancel { .. }), "{cancel:?}");
            }
        }
    }

    #[tokio::test]
    async fn large_bodies_arrive_in_place_over_a_unix_socket() {
        let (a, b) = tokio::net::UnixStream::pair().unwrap();
        // The peer's writer is kept: dropped, it would end the connection.
        let (peer, _peer_writer) = conn::framed(b);
        calls_arrive_whole_and_in_order(conn::framed(a), peer).await;
    }

    #[tokio::test]
    async fn large_bodies_arrive_in_place_over_sealed_tcp() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (a, b) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        let ((ra, wa), (rb, wb)) = (a.unwrap().halves(), b.unwrap().0.halves());
        let secret = Secret::random().unwrap();
        let (client, server) = tokio::join!(
            noise::initiate(ra, wa, &secret),
            noise::respond(rb, wb, &secret)
        );
        let ((ra, wa), (rb, wb)) = (client.unwrap(), server.unwrap());
        let (peer, _peer_writer) = conn::halves(rb, wb);
        calls_arrive_whole_and_in_order(conn::halves(ra, wa), peer).await;
    }
}
