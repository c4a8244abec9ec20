//! The two halves of a sealed stream. Each direction has its own key and counts its own
//! messages (the nonce): the halves share the keys, not a lock.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use snow::StatelessTransportState;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::transport::conn::{ReadHalf, WriteHalf};

/// The largest message (Noise's limit), after its two-byte length.
const MAX_MESSAGE: usize = 65_535;
/// The tag each message ends with.
const TAG: usize = 16;
/// The most plaintext one message holds.
const MAX_PLAIN: usize = MAX_MESSAGE - TAG;
/// Sealed bytes a writer keeps unwritten before it stops taking more.
const HIGH_WATER: usize = 2 * (MAX_MESSAGE + 2);

/// The least a reader asks its socket for at once.
const MIN_READ: usize = 16 << 10;

/// Opens the messages of a sealed stream. Memory is bounded: at most one message beyond
/// what was opened, whatever the peer announces; and it grows only as far as the messages
/// received need (a connection of small calls keeps a few KiB, not the largest message's size).
pub(super) struct SealedRead {
    inner: ReadHalf,
    state: Arc<StatelessTransportState>,
    /// The next message's number.
    nonce: u64,
    /// Received bytes, `raw[start..end]` not opened yet.
    raw: Vec<u8>,
    start: usize,
    end: usize,
    /// The last message opened, `plain[taken..len]` not read yet.
    plain: Vec<u8>,
    taken: usize,
    len: usize,
}

impl SealedRead {
    pub(super) fn new(inner: ReadHalf, state: Arc<StatelessTransportState>) -> Self {
        SealedRead {
            inner,
            state,
            nonce: 0,
            raw: Vec::new(),
            start: 0,
            end: 0,
            plain: Vec::new(),
            taken: 0,
            len: 0,
        }
    }

    /// Opens the next message when it is whole, into `buf` when it has room for all of it
    /// (one copy less), otherwise into [`plain`](Self::plain): whether there was one.
    fn open(&mut self, buf: &mut ReadBuf<'_>) -> io::Result<bool> {
        let received = &self.raw[self.start..self.end];
        let Some(&[hi, lo]) = received.get(..2) else {
            return Ok(false);
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let Some(message) = received.get(2..2 + len) else {
            return Ok(false);
        };
        let forged = |_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "a message of the encrypted stream does not verify: the traffic was altered, \
                 or does not come from this launch",
            )
        };
        let opened = len.saturating_sub(TAG);
        if buf.remaining() >= opened {
            let out = buf.initialize_unfilled_to(opened);
            let n = self
                .state
                .read_message(self.nonce, message, out)
                .map_err(forged)?;
            buf.advance(n);
        } else {
            self.plain.resize(opened, 0);
            self.len = self
                .state
                .read_message(self.nonce, message, &mut self.plain)
                .map_err(forged)?;
            self.taken = 0;
        }
        self.nonce += 1;
        self.start += 2 + len;
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        Ok(true)
    }

    /// Makes room after `end` for the rest of the next message, and at least [`MIN_READ`]
    /// bytes more.
    fn make_room(&mut self) {
        let pending = self.end - self.start;
        let next = match self.raw[self.start..self.end] {
            [hi, lo, ..] => 2 + usize::from(u16::from_be_bytes([hi, lo])),
            _ => 0,
        };
        let goal = next.max(pending + MIN_READ);
        if self.start + goal > self.raw.len() && self.start > 0 {
            self.raw.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, pending);
        }
        if self.start + goal > self.raw.len() {
            self.raw.resize(self.start + goal, 0);
        }
    }
}

impl AsyncRead for SealedRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.taken < this.len {
                let n = buf.remaining().min(this.len - this.taken);
                buf.put_slice(&this.plain[this.taken..this.taken + n]);
                this.taken += n;
                return Poll::Ready(Ok(()));
            }
            let before = buf.filled().len();
            if this.open(buf)? {
                if buf.filled().len() > before {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            this.make_room();
            let mut room = ReadBuf::new(&mut this.raw[this.end..]);
            ready!(this.inner.as_mut().poll_read(cx, &mut room))?;
            let n = room.filled().len();
            if n == 0 {
                return Poll::Ready(match this.start == this.end {
                    true => Ok(()),
                    false => Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the connection ended inside a message of the encrypted stream",
                    )),
                });
            }
            this.end += n;
        }
    }
}

/// Seals what is written into messages: a message per flush, or per [`MAX_PLAIN`] bytes.
pub(super) struct SealedWrite {
    inner: WriteHalf,
    state: Arc<StatelessTransportState>,
    /// The next message's number.
    nonce: u64,
    /// Written, not sealed yet.
    plain: Vec<u8>,
    /// Sealed, `sealed[sent..]` not written yet.
    sealed: Vec<u8>,
    sent: usize,
}

impl SealedWrite {
    pub(super) fn new(inner: WriteHalf, state: Arc<StatelessTransportState>) -> Self {
        SealedWrite {
            inner,
            state,
            nonce: 0,
            plain: Vec::new(),
            sealed: Vec::new(),
            sent: 0,
        }
    }

    /// Seals what was written into one message.
    fn seal(&mut self) -> io::Result<()> {
        let plain = std::mem::take(&mut self.plain);
        let sealed = self.seal_from(&plain);
        self.plain = plain;
        self.plain.clear();
        sealed
    }

    /// Seals `plain` (at most [`MAX_PLAIN`] bytes) into one message.
    fn seal_from(&mut self, plain: &[u8]) -> io::Result<()> {
        let start = self.sealed.len();
        self.sealed.resize(start + 2 + plain.len() + TAG, 0);
        let len = self
            .state
            .write_message(self.nonce, plain, &mut self.sealed[start + 2..])
            .map_err(|e| io::Error::other(format!("cannot seal a message: {e}")))?;
        let header = u16::try_from(len).unwrap_or_else(|_| unreachable!("at most MAX_MESSAGE"));
        self.sealed[start..start + 2].copy_from_slice(&header.to_be_bytes());
        self.nonce += 1;
        Ok(())
    }

    /// Writes the sealed messages out.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.sealed.len() {
            let n = ready!(self
                .inner
                .as_mut()
                .poll_write(cx, &self.sealed[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.sealed.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for SealedWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let full = this.plain.len() == MAX_PLAIN;
        // A write of a whole message is sealed from where it is, not copied first.
        let whole = this.plain.is_empty() && buf.len() >= MAX_PLAIN;
        if (full || whole) && this.sealed.len() - this.sent >= HIGH_WATER {
            ready!(this.poll_drain(cx))?;
        }
        if full {
            this.seal()?;
        }
        if whole {
            this.seal_from(&buf[..MAX_PLAIN])?;
            return Poll::Ready(Ok(MAX_PLAIN));
        }
        let n = buf.len().min(MAX_PLAIN - this.plain.len());
        this.plain.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.plain.is_empty() {
            this.seal()?;
        }
        ready!(this.poll_drain(cx))?;
        this.inner.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        self.get_mut().inner.as_mut().poll_shutdown(cx)
    }
}
