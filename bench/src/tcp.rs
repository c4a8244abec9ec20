//! The cost of encrypting cluster traffic: frames through lp's TCP transport (its accept path
//! and handshake, then lp's framing) sealed as every cluster launch's connections are, beside
//! the same transport plain, against one echo server on its own thread. The rest of lp's call
//! path is not in these figures, so the encryption's share of them is the most it can be.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::sync::{oneshot, Semaphore};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

use crate::calls::Effort;
use crate::pin::{cpus, pin_this_thread, Placement};
use crate::report::{Pair, Report, Row};

/// An echo server on lp's TCP transport.
struct Server {
    addr: SocketAddr,
    secret_hex: String,
    /// Stops it when dropped.
    _stop: oneshot::Sender<()>,
}

impl Server {
    /// Starts one on a thread of its own, pinned to `cpu`.
    fn start(cpu: usize, sealed: bool) -> Server {
        let (up_tx, up_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::spawn(move || {
            pin_this_thread(cpu);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let echo = lp::testing::tcp_echo(sealed).await.expect("echo server");
                let _ = up_tx.send((echo.addr, echo.secret_hex.clone()));
                let _ = stopped.await;
            });
        });
        let (addr, secret_hex) = up_rx.recv().expect("the echo server starts");
        Server {
            addr,
            secret_hex,
            _stop: stop,
        }
    }

    /// Frames per second echoed with `in_flight` frames of `len` bytes outstanding, over one
    /// connection, for `window`: one task writes while another reads (a writer that stopped
    /// reading would deadlock with the server once the sockets' buffers are full).
    async fn rate(&self, sealed: bool, in_flight: usize, len: usize, window: Duration) -> f64 {
        let conn = lp::testing::tcp_connect(self.addr, &self.secret_hex, sealed)
            .await
            .expect("connect");
        let codec = LengthDelimitedCodec::builder()
            .max_frame_length(len + 1024)
            .new_codec();
        let (mut sink, mut stream) = Framed::new(conn, codec).split::<Bytes>();
        let credits = Semaphore::new(in_flight);
        let start = Instant::now();
        let end = tokio::time::Instant::from_std(start + window);
        let frame = Bytes::from(vec![7u8; len]);
        let write = async {
            while start.elapsed() < window {
                let credit = match credits.try_acquire() {
                    Ok(credit) => credit,
                    Err(_) => {
                        sink.flush().await.expect("send");
                        credits.acquire().await.expect("open")
                    }
                };
                credit.forget();
                sink.feed(frame.clone()).await.expect("send");
            }
            sink.flush().await.expect("send");
        };
        // Until the window ends, not while it lasts: the writer may stop before the last
        // reply, and a reader waiting for one more would wait forever.
        let read = async {
            let mut done = 0u64;
            while let Ok(reply) = tokio::time::timeout_at(end, stream.next()).await {
                reply.expect("open").expect("echo");
                credits.add_permits(1);
                done += 1;
            }
            done as f64 / start.elapsed().as_secs_f64()
        };
        // The writer may wait for a credit the reader, done, will never give back.
        tokio::join!(tokio::time::timeout_at(end, write), read).1
    }
}

/// Encrypted beside plain under `placement`: (frames/s with 256 small frames in flight, bytes/s
/// with 4 MiB frames, 2 in flight), each the best of [`ROUNDS`] taken in turns, so that a
/// burst of load elsewhere on the machine does not decide the ratio.
async fn pairs(placement: Placement, effort: Effort) -> [Pair; 2] {
    let servers = [true, false].map(|sealed| Server::start(placement.callee_cpu(), sealed));
    let large = 4 << 20;
    let mut best = [[0.0f64; 2]; 2];
    for _ in 0..ROUNDS {
        for (i, sealed) in [true, false].into_iter().enumerate() {
            let small = servers[i].rate(sealed, 256, 32, effort.window).await;
            let bulk = servers[i].rate(sealed, 2, large, effort.window).await * large as f64;
            best[0][i] = best[0][i].max(small);
            best[1][i] = best[1][i].max(bulk);
        }
    }
    best.map(|[ours, baseline]| Pair { ours, baseline })
}

/// How many times each figure is measured.
const ROUNDS: usize = 3;

/// Adds the rows.
pub async fn rows(report: &mut Report, effort: Effort) {
    let same = pairs(Placement::Same, effort).await;
    let split = match cpus() >= 2 {
        true => Some(pairs(Placement::Split, effort).await),
        false => None,
    };
    let names = [
        (
            "frames/s, TCP, 256 in flight, encrypted",
            "frames/s",
            Some("≥ 0.7"),
        ),
        ("MB/s, TCP, 4 MiB frames, encrypted", "MB/s", None),
    ];
    for (i, (name, unit, target)) in names.into_iter().enumerate() {
        let scale = if unit == "MB/s" { 1e-6 } else { 1.0 };
        let scaled = |p: Pair| Pair {
            ours: p.ours * scale,
            baseline: p.baseline * scale,
        };
        report.rows.push(Row {
            name: name.to_string(),
            unit,
            baseline: "the same transport, plain".to_string(),
            same: scaled(same[i]),
            split: split.map(|s| scaled(s[i])),
            target: target.map(str::to_string),
        });
    }
}
