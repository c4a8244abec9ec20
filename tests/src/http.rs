//! A dashboard's HTTP, as a client sees it: one request per connection, the answer whole.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// A response: its status, content type and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Response {
    /// The body as JSON, once the status and content type say it is.
    pub fn json(&self) -> Value {
        assert_eq!(self.status, 200, "{self:?}");
        assert_eq!(self.content_type, "application/json", "{self:?}");
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Sends `raw` (a whole request) to `addr`; what came back.
pub fn exchange(addr: &str, raw: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("the dashboard accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a timeout");
    stream.write_all(raw).expect("the request is sent");
    let mut text = Vec::new();
    let _ = stream.read_to_end(&mut text);
    String::from_utf8_lossy(&text).into_owned()
}

/// `GET target` from the dashboard at `addr`, with `headers`.
pub fn get(addr: &str, target: &str, headers: &str) -> Response {
    let raw =
        format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n");
    let text = exchange(addr, raw.as_bytes());
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or_default()
        .to_string();
    Response {
        status,
        content_type,
        body: body.to_string(),
    }
}

/// The `/api/nodes` of the dashboard at `addr` (with `token`), polled until `ready` says so
/// (at most 60 s); the nodes then.
pub fn nodes_when(addr: &str, token: &str, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let nodes = || {
        let nodes = get(addr, &format!("/api/nodes?token={token}"), "").json();
        nodes.as_array().cloned().expect("a list of nodes")
    };
    crate::support::poll_until(
        Duration::from_secs(60),
        Duration::from_millis(100),
        nodes,
        |nodes| ready(nodes),
    )
}
