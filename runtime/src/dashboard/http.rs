//! A small, strict HTTP/1.1 server: GET (and HEAD) only, no request bodies, at most
//! [`MAX_HEAD`] bytes of request head read within [`HEAD_TIMEOUT`], keep-alive for at most
//! [`MAX_REQUESTS`] requests, at most [`MAX_CONNECTIONS`] connections at once. A hostile client
//! costs one bounded buffer and a task, for a bounded time. What a request gets is the
//! [`Handler`]'s business: a whole [`Response`], or a stream of Server-Sent Events.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

/// The most bytes a request's head (request line and headers) may take.
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// How long a client has to send a request's head (and, between requests, to start the next).
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// How many requests one connection may make.
pub(crate) const MAX_REQUESTS: usize = 1000;

/// How many connections are served at once; others wait in the backlog.
pub(crate) const MAX_CONNECTIONS: usize = 64;

/// How long writing a response (or an event) may take before the connection is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed request: what the server needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// `true` for HEAD: the response goes without its body.
    pub(crate) head_only: bool,
    /// The path, percent-decoded (`/api/logs/producer/3`).
    pub(crate) path: String,
    /// The query's `name=value` pairs, percent-decoded.
    pub(crate) query: Vec<(String, String)>,
    /// The `Authorization` header's value, if any.
    pub(crate) authorization: Option<String>,
    /// Whether the client asked to close the connection after this request (or speaks
    /// HTTP/1.0).
    pub(crate) close: bool,
}

impl Request {
    /// The value of query parameter `name`, if given.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request head is refused; each is a status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadRequest {
    /// Malformed: a request line or header that is not HTTP/1.1's syntax.
    #[error("bad request: {0}")]
    Syntax(&'static str),
    /// A method other than GET or HEAD.
    #[error("method not allowed")]
    Method,
    /// A protocol other than HTTP/1.0 or HTTP/1.1.
    #[error("HTTP version not supported")]
    Version,
    /// A request with a body.
    #[error("a request body is not accepted")]
    Body,
    /// A head over [`MAX_HEAD`] bytes.
    #[error("request head too large")]
    TooLarge,
}

impl BadRequest {
    /// The status line's code and reason.
    pub(crate) fn status(&self) -> Status {
        match self {
            BadRequest::Syntax(_) | BadRequest::Body => Status::BAD_REQUEST,
            BadRequest::Method => Status::METHOD_NOT_ALLOWED,
            BadRequest::Version => Status::VERSION_NOT_SUPPORTED,
            BadRequest::TooLarge => Status::HEADERS_TOO_LARGE,
        }
    }
}

/// A response status: its code and reason phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Status(pub(crate) u16, pub(crate) &'static str);

impl Status {
    pub(crate) const OK: Status = Status(200, "OK");
    pub(crate) const BAD_REQUEST: Status = Status(400, "Bad Request");
    pub(crate) const UNAUTHORIZED: Status = Status(401, "Unauthorized");
    pub(crate) const FORBIDDEN: Status = Status(403, "Forbidden");
    pub(crate) const NOT_FOUND: Status = Status(404, "Not Found");
    pub(crate) const METHOD_NOT_ALLOWED: Status = Status(405, "Method Not Allowed");
    pub(crate) const HEADERS_TOO_LARGE: Status = Status(431, "Request Header Fields Too Large");
    pub(crate) const VERSION_NOT_SUPPORTED: Status = Status(505, "HTTP Version Not Supported");
}

/// Parses a request head (everything before the blank line, which is not included).
pub(crate) fn parse(head: &[u8]) -> Result<Request, BadRequest> {
    let head = std::str::from_utf8(head).map_err(|_| BadRequest::Syntax("not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BadRequest::Syntax("malformed request line"));
    };
    if method.is_empty() || !method.bytes().all(is_token) {
        return Err(BadRequest::Syntax("malformed method"));
    }
    let close = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        v if v.starts_with("HTTP/") => return Err(BadRequest::Version),
        _ => return Err(BadRequest::Syntax("malformed version")),
    };
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Err(BadRequest::Method),
    };
    let (path, query) = parse_target(target)?;
    let mut request = Request {
        head_only,
        path,
        query,
        authorization: None,
        close,
    };
    for line in lines {
        header(line, &mut request)?;
    }
    Ok(request)
}

/// Takes one header line into `request`.
fn header(line: &str, request: &mut Request) -> Result<(), BadRequest> {
    let (name, value) = line
        .split_once(':')
        .ok_or(BadRequest::Syntax("a header without a colon"))?;
    if name.is_empty() || !name.bytes().all(is_token) {
        return Err(BadRequest::Syntax("malformed header name"));
    }
    if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Err(BadRequest::Syntax("a control character in a header"));
    }
    let value = value.trim_matches([' ', '\t']);
    match name.to_ascii_lowercase().as_str() {
        "content-length" if value != "0" => Err(BadRequest::Body),
        "transfer-encoding" => Err(BadRequest::Body),
        "authorization" => {
            if request.authorization.is_some() {
                return Err(BadRequest::Syntax("two Authorization headers"));
            }
            request.authorization = Some(value.to_string());
            Ok(())
        }
        "connection" => {
            let tokens = value.split(',').map(|t| t.trim().to_ascii_lowercase());
            for token in tokens {
                match token.as_str() {
                    "close" => request.close = true,
                    "keep-alive" => request.close = false,
                    _ => {}
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A token character of RFC 9110 (method and header names).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// An origin-form target: the decoded path and query pairs.
fn parse_target(target: &str) -> Result<(String, Vec<(String, String)>), BadRequest> {
    if !target.starts_with('/') || target.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err(BadRequest::Syntax("malformed target"));
    }
    let target = target.split('#').next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name, true)?, decode(value, true)?))
        })
        .collect::<Result<_, BadRequest>>()?;
    Ok((decode(path, false)?, pairs))
}

/// Percent-decodes `text` (and `+` as a space in a query); the result must be UTF-8.
pub(crate) fn decode(text: &str, query: bool) -> Result<String, BadRequest> {
    let bad = BadRequest::Syntax("malformed percent-encoding");
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.bytes();
    while let Some(b) = rest.next() {
        match b {
            b'%' => {
                let hex = [
                    rest.next().ok_or(bad.clone())?,
                    rest.next().ok_or(bad.clone())?,
                ];
                let hex = std::str::from_utf8(&hex).map_err(|_| bad.clone())?;
                bytes.push(u8::from_str_radix(hex, 16).map_err(|_| bad.clone())?);
            }
            b'+' if query => bytes.push(b' '),
            b => bytes.push(b),
        }
    }
    String::from_utf8(bytes).map_err(|_| bad)
}

/// A whole response.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: Status,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// A response of `status` with a plain-text body.
    pub(crate) fn text(status: Status, body: impl Into<String>) -> Self {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into().into_bytes(),
        }
    }

    /// A 200 with a body of `content_type`.
    pub(crate) fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status: Status::OK,
            content_type,
            body: body.into(),
        }
    }

    /// The status line and headers.
    fn head(&self, close: bool) -> String {
        let Status(code, reason) = self.status;
        let mut head = format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}",
            self.content_type,
            self.body.len(),
            COMMON_HEADERS
        );
        if code == 401 {
            head.push_str("WWW-Authenticate: Bearer realm=\"lp\"\r\n");
        }
        if code == 405 {
            head.push_str("Allow: GET, HEAD\r\n");
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        head
    }
}

/// Headers of every response: nothing cached, nothing sniffed, nothing framed, nothing
/// fetched from elsewhere.
const COMMON_HEADERS: &str = "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\
X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n\
Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; \
style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'\r\n";

/// What a request gets.
pub(crate) enum Reply {
    /// A whole response.
    Whole(Response),
    /// A stream of Server-Sent Events: each message received is sent as one event's `data`
    /// (its lines each prefixed `data: `); the stream ends when the sender is dropped.
    Events(mpsc::Receiver<String>),
}

/// Answers requests.
pub(crate) trait Handler: Send + Sync + 'static {
    /// What `request` gets.
    fn handle(&self, request: &Request) -> Reply;
}

/// Serves `listener` with `handler` until `stop`, which also ends every connection.
pub(crate) async fn serve(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    stop: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = async {
                let permit = permits.clone().acquire_owned().await;
                (permit, listener.accept().await)
            } => accepted,
        };
        let stream = match accepted {
            (Ok(permit), Ok((stream, _))) => (permit, stream),
            (Err(_), _) => return,
            (Ok(_), Err(_)) => {
                // Out of descriptors, say: wait a moment rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (handler, stop) = (handler.clone(), stop.clone());
        tokio::spawn(async move {
            let (permit, stream) = stream;
            tokio::select! {
                _ = connection(stream, handler.as_ref()) => {}
                _ = stop.cancelled() => {}
            }
            drop(permit);
        });
    }
}

/// Serves one connection: requests until it closes, errs, idles, or makes too many.
async fn connection(mut stream: TcpStream, handler: &dyn Handler) -> std::io::Result<()> {
    let mut buffer = Vec::with_capacity(1024);
    for _ in 0..MAX_REQUESTS {
        let head =
            match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream, &mut buffer)).await {
                Ok(Ok(Some(head))) => head,
                Ok(Err(bad)) => {
                    let response = Response::text(bad.status(), format!("{bad}\n"));
                    return write(&mut stream, &response, false, true).await;
                }
                Ok(Ok(None)) | Err(_) => return Ok(()),
            };
        let request = match parse(&head) {
            Ok(request) => request,
            Err(bad) => {
                let response = Response::text(bad.status(), format!("{bad}\n"));
                return write(&mut stream, &response, false, true).await;
            }
        };
        match handler.handle(&request) {
            Reply::Whole(response) => {
                write(&mut stream, &response, request.head_only, request.close).await?;
                if request.close {
                    return Ok(());
                }
            }
            Reply::Events(events) => return stream_events(&mut stream, events).await,
        }
    }
    Ok(())
}

/// Reads one request head into `buffer` (which keeps whatever follows it, for the next
/// request): `None` when the client closed the connection between requests.
async fn read_head(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Result<Option<Vec<u8>>, BadRequest> {
    loop {
        if let Some(end) = find_blank_line(buffer) {
            let head = buffer[..end].to_vec();
            buffer.drain(..end + 4);
            return Ok(Some(head));
        }
        if buffer.len() >= MAX_HEAD {
            return Err(BadRequest::TooLarge);
        }
        let mut chunk = [0u8; 1024];
        let room = (MAX_HEAD + 3 - buffer.len()).min(chunk.len());
        match stream.read(&mut chunk[..room]).await {
            Ok(0) if buffer.is_empty() => return Ok(None),
            Ok(0) => return Err(BadRequest::Syntax("the request head ended early")),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(_) => return Ok(None),
        }
    }
}

/// Where the head's blank line (`\r\n\r\n`) starts, if it has arrived.
fn find_blank_line(buffer: &[u8]) -> Option<usize> {
    buffer.windows(4).position(|w| w == b"\r\n\r\n")
}

/// Writes a whole response (its head only, for HEAD).
async fn write(
    stream: &mut TcpStream,
    response: &Response,
    head_only: bool,
    close: bool,
) -> std::io::Result<()> {
    let mut bytes = response.head(close).into_bytes();
    if !head_only {
        bytes.extend_from_slice(&response.body);
    }
    timed_write(stream, &bytes).await
}

async fn timed_write(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(bytes))
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// Sends each message of `events` as a Server-Sent Event until the sender is done or the
/// client goes away.
async fn stream_events(
    stream: &mut TcpStream,
    mut events: mpsc::Receiver<String>,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n{COMMON_HEADERS}Connection: close\r\n\r\n"
    );
    timed_write(stream, head.as_bytes()).await?;
    let mut closed = [0u8; 64];
    loop {
        tokio::select! {
            message = events.recv() => match message {
                Some(message) => timed_write(stream, event(&message).as_bytes()).await?,
                None => return Ok(()),
            },
            // Anything the client sends now, or its close, ends the stream.
            _ = stream.read(&mut closed) => return Ok(()),
        }
    }
}

/// One Server-Sent Event carrying `message`.
pub(crate) fn event(message: &str) -> String {
    let mut event = String::with_capacity(message.len() + 16);
    for line in message.split('\n') {
        event.push_str("data: ");
        event.push_str(line.trim_end_matches('\r'));
        event.push('\n');
    }
    event.push('\n');
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(head: &str) -> Request {
        parse(head.as_bytes()).unwrap_or_else(|e| panic!("{head:?}: {e}"))
    }

    fn bad(head: &str) -> BadRequest {
        parse(head.as_bytes()).expect_err(head)
    }

    #[test]
    fn parses_a_get_with_its_query_and_headers() {
        let r = ok("GET /api/logs/producer%2F3?token=ab+c&x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\nConnection: keep-alive");
        assert_eq!(r.path, "/api/logs/producer/3");
        assert_eq!(r.param("token"), Some("ab c"));
        assert_eq!(r.param("x"), Some(""));
        assert_eq!(r.authorization.as_deref(), Some("Bearer t"));
        assert!(!r.close && !r.head_only);
        assert!(ok("HEAD / HTTP/1.0").close && ok("HEAD / HTTP/1.0").head_only);
        assert!(ok("GET / HTTP/1.1\r\nConnection: Close").close);
    }

    #[test]
    fn refuses_malformed_heads() {
        for (head, want) in [
            ("", BadRequest::Syntax("malformed request line")),
            ("GET /", BadRequest::Syntax("malformed request line")),
            (
                "GET  / HTTP/1.1",
                BadRequest::Syntax("malformed request line"),
            ),
            (
                "GET / HTTP/1.1 x",
                BadRequest::Syntax("malformed request line"),
            ),
            ("G(T / HTTP/1.1", BadRequest::Syntax("malformed method")),
            ("POST / HTTP/1.1", BadRequest::Method),
            ("GET / HTTP/2.0", BadRequest::Version),
            ("GET / HTPP/1.1", BadRequest::Syntax("malformed version")),
            (
                "GET http://x/ HTTP/1.1",
                BadRequest::Syntax("malformed target"),
            ),
            (
                "GET /%zz HTTP/1.1",
                BadRequest::Syntax("malformed percent-encoding"),
            ),
            (
                "GET /%ff HTTP/1.1",
                BadRequest::Syntax("malformed percent-encoding"),
            ),
            (
                "GET /% HTTP/1.1",
                BadRequest::Syntax("malformed percent-encoding"),
            ),
            (
                "GET / HTTP/1.1\r\nHost",
                BadRequest::Syntax("a header without a colon"),
            ),
            (
                "GET / HTTP/1.1\r\n Host: a",
                BadRequest::Syntax("malformed header name"),
            ),
            (
                "GET / HTTP/1.1\r\nX: a\u{1}b",
                BadRequest::Syntax("a control character in a header"),
            ),
            ("GET / HTTP/1.1\r\nContent-Length: 5", BadRequest::Body),
            (
                "GET / HTTP/1.1\r\nTransfer-Encoding: chunked",
                BadRequest::Body,
            ),
            (
                "GET / HTTP/1.1\r\nAuthorization: a\r\nauthorization: b",
                BadRequest::Syntax("two Authorization headers"),
            ),
        ] {
            assert_eq!(bad(head), want, "{head:?}");
        }
        assert_eq!(
            parse(b"GET /\xff HTTP/1.1"),
            Err(BadRequest::Syntax("not UTF-8"))
        );
    }

    #[test]
    fn events_put_each_line_in_its_own_data_field() {
        assert_eq!(event("a\nb"), "data: a\ndata: b\n\n");
        assert_eq!(event("{}"), "data: {}\n\n");
    }

    proptest! {
        /// Any bytes: a request or a refusal, never a panic.
        #[test]
        fn arbitrary_heads_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&data);
        }

        /// Heads built from HTTP's own pieces: a request or a refusal, never a panic.
        #[test]
        fn plausible_heads_never_panic(
            method in "(GET|HEAD|POST|get)",
            target in "[/a-z%0-9?=&+#]{0,40}",
            version in "HTTP/1\\.[01]",
            headers in proptest::collection::vec("[A-Za-z-]{0,12}:[ -~]{0,30}", 0..6),
        ) {
            let head = format!("{method} {target} {version}\r\n{}", headers.join("\r\n"));
            let _ = parse(head.as_bytes());
        }
    }
}
