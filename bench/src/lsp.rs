//! Row 6: `lpc lsp`'s change → diagnostics latency on a generated program of 10,000 node
//! declarations: from writing a `textDocument/didChange` (the whole text, as editors send it) to
//! the server's stdin, to reading that version's `textDocument/publishDiagnostics` from its
//! stdout. The server is this binary run as `lp-bench lsp` (which is `lpc lsp`), a process of
//! its own in the package's directory; edits are sent one at a time, each after the last one's
//! diagnostics. Then hovers and go-to-definitions on the same file, each timed from its request
//! to its response. There is no peer to compare with: the figures are set against the issue's
//! targets, 100 ms and 20 ms. `lp-bench --only lsp [--quick]` measures only these rows.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::pin::{self, Placement};
use crate::report::{Pair, Report, Row};

/// The bound on change → diagnostics, in milliseconds.
const TARGET_MS: f64 = 100.0;

/// The bound on hover and go-to-definition, in milliseconds.
const LOOKUP_TARGET_MS: f64 = 20.0;

/// How long any one answer of the server may take before the run gives up.
const TIMEOUT: Duration = Duration::from_secs(60);

/// How many nodes the generated program declares (one hub and the workers).
const NODES: usize = 10_000;

/// A program of one hub and `NODES - 1` workers, each with a handle to the hub and an index.
fn program() -> String {
    let mut text = String::from("use crate::nodes::{Hub, Worker};\n\nprogram big {\n");
    text.push_str("    node hub = courier Hub::new(workers: [w0, w1, w2]);\n");
    for i in 0..NODES - 1 {
        text.push_str(&format!(
            "    node w{i} = courier Worker::new(hub: hub, index: {i});\n"
        ));
    }
    text.push_str("}\n");
    text
}

/// The `lp-bench lsp` subcommand: serves LSP on stdin/stdout, as `lpc lsp` does.
pub fn serve() -> Result<(), String> {
    lpc::lsp::run()
}

/// An LSP client driving one `lp-bench lsp` process.
struct Client {
    child: Child,
    stdin: ChildStdin,
    /// Every message the server wrote, parsed, in order.
    messages: Receiver<Value>,
    next_id: i64,
}

impl Client {
    /// Starts the server in `dir` and completes the initialize handshake.
    fn start(dir: &Path) -> Client {
        let exe = std::env::current_exe().expect("the lp-bench binary");
        let mut child = Command::new(exe)
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("lp-bench lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            next_id: 1,
        };
        let root = uri(dir);
        client.request(
            "initialize",
            json!({ "processId": null, "rootUri": root, "capabilities": {} }),
        );
        client.notify("initialized", json!({}));
        client
    }

    /// One message, framed, as bytes ready to write.
    fn frame(message: &Value) -> Vec<u8> {
        let body = message.to_string();
        let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        bytes
    }

    fn write(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write to lp-bench lsp");
        self.stdin.flush().expect("flush to lp-bench lsp");
    }

    fn notify(&mut self, method: &str, params: Value) {
        let bytes = Client::frame(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
        self.write(&bytes);
    }

    /// Sends a request and waits for its response.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        self.write(&Client::frame(&message));
        self.wait(|m| m["id"] == id)
    }

    /// The next message `wanted` accepts (others are dropped).
    fn wait(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self
                .messages
                .recv_timeout(TIMEOUT)
                .expect("lp-bench lsp answers");
            if wanted(&message) {
                return message;
            }
        }
    }

    /// The diagnostics published for `version` of the document.
    fn diagnostics(&mut self, version: i32) -> Vec<Value> {
        let published = self.wait(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == version
        });
        published["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Sends the whole `text` as `version` of the document at `file`; returns the time until
    /// its diagnostics arrived, and their number.
    fn change(&mut self, file: &str, version: i32, text: &str) -> (Duration, usize) {
        let bytes = Client::frame(&json!({
            "jsonrpc": "2.0",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": { "uri": file, "version": version },
                "contentChanges": [{ "text": text }],
            },
        }));
        let start = Instant::now();
        self.write(&bytes);
        let diagnostics = self.diagnostics(version);
        (start.elapsed(), diagnostics.len())
    }

    fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let _ = self.child.wait();
    }
}

/// One LSP message from `reader`, `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The p50 and p99 of `times`, in milliseconds.
fn percentiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1000.0;
    (at(0.50), at(0.99))
}

/// Change → diagnostics latencies with the server on `placement`'s vCPU.
struct Latencies {
    /// Edits of one node's index: the program stays clean.
    clean: Vec<Duration>,
    /// Edits that drop a comma: a syntax error.
    broken: Vec<Duration>,
    /// Edits that put the comma back.
    fixed: Vec<Duration>,
    /// Hovers over a node's type.
    hover: Vec<Duration>,
    /// Go-to-definitions of a node named in an argument.
    definition: Vec<Duration>,
}

/// `edits` edits of one node's index each, then `edits` edits that alternately break a node's
/// syntax and repair it.
fn measure(dir: &Path, placement: Placement, edits: usize) -> Latencies {
    let mut client = Client::start(dir);
    let file = uri(&dir.join("big.lp"));
    let mut text = program();
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": file, "languageId": "lp", "version": 1, "text": text } }),
    );
    let opened = client.diagnostics(1);
    assert!(
        opened.is_empty(),
        "the generated program must check clean: {opened:?}"
    );
    // Every thread of the server exists by now.
    pin::pin_process(client.child.id(), placement.callee_cpu());
    let mut version = 1;
    let mut clean = Vec::with_capacity(edits);
    for k in 0..edits {
        // Nodes spread over the file, each given a new index.
        let node = (k * 997) % (NODES - 1);
        let at = text
            .find(&format!("node w{node} = "))
            .expect("the node's line");
        let line_end = at + text[at..].find('\n').expect("a line end");
        let line = format!(
            "node w{node} = courier Worker::new(hub: hub, index: {});",
            k + NODES
        );
        text.replace_range(at..line_end, &line);
        version += 1;
        let (time, diagnostics) = client.change(&file, version, &text);
        assert_eq!(diagnostics, 0, "an edited index must check clean");
        clean.push(time);
    }
    let (hover, definition) = lookups(&mut client, &file, &text, edits);
    let (mut broken, mut fixed) = (Vec::new(), Vec::new());
    let node = format!(
        "node w{} = courier Worker::new(hub: hub, index: ",
        NODES / 2
    );
    let at = text.find(&node).expect("the node's line") + node.len();
    let comma = text[..at].rfind(',').expect("a comma");
    for k in 0..edits {
        // Even edits drop a comma (a syntax error), odd ones put it back.
        let edited = if k % 2 == 0 {
            format!("{}{}", &text[..comma], &text[comma + 1..])
        } else {
            text.clone()
        };
        version += 1;
        let (time, diagnostics) = client.change(&file, version, &edited);
        assert_eq!(diagnostics > 0, k % 2 == 0, "a dropped comma is reported");
        match k % 2 {
            0 => broken.push(time),
            _ => fixed.push(time),
        }
    }
    client.shutdown();
    Latencies {
        clean,
        broken,
        fixed,
        hover,
        definition,
    }
}

/// Request → response times of `count` hovers over a node's type and as many go-to-definitions
/// of the node an argument names (`hub`), on nodes spread over `text`.
fn lookups(
    client: &mut Client,
    file: &str,
    text: &str,
    count: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let lines: Vec<&str> = text.lines().collect();
    let (mut hover, mut definition) = (Vec::new(), Vec::new());
    for k in 0..count {
        let node = (k * 991) % (NODES - 1);
        let line = lines
            .iter()
            .position(|l| l.contains(&format!("node w{node} = ")))
            .expect("the node's line");
        let at = |needle: &str| lines[line].find(needle).expect("the token") + 1;
        let position = |character: usize| {
            json!({
                "textDocument": { "uri": file },
                "position": { "line": line, "character": character },
            })
        };
        let start = Instant::now();
        let answer = client.request("textDocument/hover", position(at("Worker")));
        hover.push(start.elapsed());
        assert!(!answer["result"].is_null(), "a hover over a type: {answer}");
        let start = Instant::now();
        let answer = client.request("textDocument/definition", position(at("hub,")));
        definition.push(start.elapsed());
        assert!(!answer["result"].is_null(), "a node's definition: {answer}");
    }
    (hover, definition)
}

/// Adds the rows: p50 and p99 of edits that keep the program clean, p50 of edits that make a
/// syntax error (parsed, like the others, from the last clean parse) and of those that fix it,
/// the server on the client's vCPU and on the other.
pub fn rows(report: &mut Report, quick: bool) {
    let edits = if quick { 20 } else { 100 };
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("src dir");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"big\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .expect("Cargo.toml");
    std::fs::write(src.join("lib.rs"), "pub mod nodes;\n").expect("lib.rs");
    std::fs::write(src.join("nodes.rs"), crate::check_time::NODES_RS).expect("nodes.rs");
    let same = measure(dir.path(), Placement::Same, edits);
    let split = measure(dir.path(), Placement::Split, edits);
    let (same_p50, same_p99) = percentiles(same.clean);
    let (split_p50, split_p99) = percentiles(split.clean);
    let (same_broken_p50, _) = percentiles(same.broken);
    let (split_broken_p50, _) = percentiles(split.broken);
    let (same_fixed_p50, _) = percentiles(same.fixed);
    let (split_fixed_p50, _) = percentiles(split.fixed);
    let bounded = |name: &str, same: f64, split: f64, goal: &str, bound: f64| Row {
        name: name.to_string(),
        unit: "ms",
        baseline: format!("the target, {bound} ms"),
        same: Pair {
            ours: same,
            baseline: bound,
        },
        split: Some(Pair {
            ours: split,
            baseline: bound,
        }),
        target: Some(goal.to_string()),
    };
    let target =
        |name: &str, same: f64, split: f64, goal: &str| bounded(name, same, split, goal, TARGET_MS);
    let nodes = "10,000 nodes";
    report.rows.push(target(
        &format!("`lpc lsp` change → diagnostics p50, {nodes}, an edit inside a node"),
        same_p50,
        split_p50,
        "≤ 1",
    ));
    report.rows.push(target(
        &format!("`lpc lsp` change → diagnostics p99, {nodes}, an edit inside a node"),
        same_p99,
        split_p99,
        "≤ 1",
    ));
    report.rows.push(target(
        &format!("`lpc lsp` change → diagnostics p50, {nodes}, a syntax error made"),
        same_broken_p50,
        split_broken_p50,
        "≤ 1",
    ));
    report.rows.push(target(
        &format!("`lpc lsp` change → diagnostics p50, {nodes}, the syntax error fixed"),
        same_fixed_p50,
        split_fixed_p50,
        "≤ 1",
    ));
    for (what, same, split) in [
        ("hover over a node's type", same.hover, split.hover),
        (
            "go to the definition of a node",
            same.definition,
            split.definition,
        ),
    ] {
        let (same_p50, _) = percentiles(same);
        let (split_p50, _) = percentiles(split);
        report.rows.push(bounded(
            &format!("`lpc lsp` {what}, p50, {nodes}"),
            same_p50,
            split_p50,
            "≤ 1",
            LOOKUP_TARGET_MS,
        ));
    }
}
