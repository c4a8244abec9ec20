//! The live view of a running program that `local_mt` and `local_mp` launches serve on
//! 127.0.0.1 (`--lp_dashboard`): a web page, a JSON API, Server-Sent Events and `/metrics`,
//! every request authorised by the launch's token (see `docs/dashboard.md`).
//!
//! - [`http`]: a small, strict HTTP/1.1 server;
//! - [`board`]: what the launcher knows of its nodes, written by the launchers;
//! - [`view`] and [`prom`]: the API's JSON and the Prometheus text;
//! - [`logs`], [`procfs`]: the nodes' last log lines, their processes' CPU and memory.

pub(crate) mod board;
pub(crate) mod http;
pub(crate) mod logs;
mod procfs;
mod prom;
pub(crate) mod view;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use self::board::Board;
use self::http::{Reply, Request, Response, Status};
use crate::transport::frame::Secret;

/// How often `/api/events` sends the program's state.
pub(crate) const EVENT_EVERY: Duration = Duration::from_secs(1);

/// The page: HTML, with its style and script put in place of `/*STYLE*/` and `/*SCRIPT*/`.
const PAGE: &str = include_str!("page.html");
const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// Why the dashboard cannot be served.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DashboardError {
    /// No token could be drawn from the system's randomness.
    #[error("cannot draw the dashboard's token")]
    Token(#[source] std::io::Error),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A dashboard being served; dropping it stops serving.
pub(crate) struct Dashboard {
    /// Where to open it, token included.
    pub(crate) url: String,
    /// Ends the server and its connections when dropped.
    _stop: tokio_util::sync::DropGuard,
}

/// Serves `board`'s dashboard on `addr` (port 0: any free port), with a fresh token.
pub(crate) async fn serve(
    addr: SocketAddr,
    board: Arc<Board>,
) -> Result<Dashboard, DashboardError> {
    let token = Secret::random().map_err(DashboardError::Token)?.to_hex();
    let token = token.get(..32).unwrap_or(&token).to_string();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| DashboardError::Listen { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| DashboardError::Listen { addr, source })?;
    let url = format!("http://{bound}/?token={token}");
    let page = PAGE
        .replace("/*STYLE*/", STYLE)
        .replace("/*SCRIPT*/", SCRIPT);
    let site = Arc::new(Site { token, board, page });
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(http::serve(listener, site, stop.clone()));
    Ok(Dashboard {
        url,
        _stop: stop.drop_guard(),
    })
}

/// What the dashboard answers.
struct Site {
    token: String,
    board: Arc<Board>,
    /// The page, whole.
    page: String,
}

impl http::Handler for Site {
    fn handle(&self, request: &Request) -> Reply {
        if let Err(status) = self.authorise(request) {
            let body = match status {
                Status::UNAUTHORIZED => "a token is required: open the URL the launcher printed\n",
                _ => "wrong token\n",
            };
            return Reply::Whole(Response::text(status, body));
        }
        let path = request.path.as_str();
        if let Some(label) = path.strip_prefix("/api/logs/") {
            return Reply::Whole(self.logs(label));
        }
        Reply::Whole(match path {
            "/" => Response::ok("text/html; charset=utf-8", self.page.clone()),
            "/api/nodes" => json(&view::nodes(&self.board)),
            "/api/program" => json(&view::program(&self.board)),
            "/metrics" => Response::ok(
                prom::CONTENT_TYPE,
                prom::render(&view::program(&self.board), &view::nodes(&self.board)),
            ),
            "/api/events" => return Reply::Events(self.events()),
            _ => Response::text(Status::NOT_FOUND, "not found\n"),
        })
    }
}

impl Site {
    /// The request's token (`?token=` or `Authorization: Bearer`) is the launch's: 401
    /// without one, 403 for another.
    fn authorise(&self, request: &Request) -> Result<(), Status> {
        let bearer = request
            .authorization
            .as_deref()
            .and_then(|a| a.strip_prefix("Bearer "));
        let given = request
            .param("token")
            .or(bearer)
            .ok_or(Status::UNAUTHORIZED)?;
        match same(given.as_bytes(), self.token.as_bytes()) {
            true => Ok(()),
            false => Err(Status::FORBIDDEN),
        }
    }

    /// `/api/logs/LABEL`: every kept line of a node.
    fn logs(&self, label: &str) -> Response {
        let entry = self.board.entries().into_iter().find(|e| e.label == label);
        match entry {
            Some(entry) => json(&serde_json::json!({
                "label": entry.label,
                "lines": logs::last(&entry.log_key, logs::LINES),
            })),
            None => Response::text(Status::NOT_FOUND, format!("no node `{label}`\n")),
        }
    }

    /// `/api/events`: the program and its nodes now, then every [`EVENT_EVERY`]; a client
    /// too slow to take one misses it (one event waits at most).
    fn events(&self) -> mpsc::Receiver<String> {
        let (sender, receiver) = mpsc::channel(1);
        let board = self.board.clone();
        tokio::spawn(async move {
            loop {
                let state = serde_json::json!({
                    "program": view::program(&board),
                    "nodes": view::nodes(&board),
                });
                if let Err(mpsc::error::TrySendError::Closed(_)) =
                    sender.try_send(state.to_string())
                {
                    return;
                }
                tokio::select! {
                    _ = sender.closed() => return,
                    _ = tokio::time::sleep(EVENT_EVERY) => {}
                }
            }
        });
        receiver
    }
}

fn json(value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => Response::ok("application/json", body),
        Err(e) => Response::text(Status(500, "Internal Server Error"), format!("{e}\n")),
    }
}

/// Whether `a` and `b` are equal, in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_compare_whole() {
        assert!(super::same(b"abc", b"abc"));
        assert!(!super::same(b"abc", b"abd"));
        assert!(!super::same(b"abc", b"ab"));
    }
}
