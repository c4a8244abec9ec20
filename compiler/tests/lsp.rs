//! `lpc lsp`, driven by a small LSP client over the real binary's stdin/stdout: the diagnostics
//! are those of `lpc check --format json` (related information into the `.rs` files), go to
//! definition reaches the Rust items, hover describes nodes and groups, formatting is `lpc fmt`,
//! and no input ends the server.

mod common;

use common::seed_package;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

/// An LSP client talking to one `lpc lsp` process.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications received while waiting for something else.
    queued: VecDeque<Value>,
    next_id: i64,
    stderr: std::thread::JoinHandle<String>,
}

impl Client {
    /// Starts `lpc lsp` in `dir` and completes the initialize handshake; returns the client and
    /// the server's capabilities.
    fn start(dir: &Path) -> (Client, Value) {
        Client::start_with(dir, json!({}))
    }

    /// [`Client::start`] announcing the client `capabilities`.
    fn start_with(dir: &Path, capabilities: Value) -> (Client, Value) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lpc"))
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lpc lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let (sender, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            queued: VecDeque::new(),
            next_id: 1,
            stderr,
        };
        let root = uri(dir);
        let result = client.request(
            "initialize",
            json!({ "processId": null, "rootUri": root, "capabilities": capabilities }),
        );
        client.notify("initialized", json!({}));
        (client, result["capabilities"].clone())
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .expect("write to lpc lsp");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its whole response (`result` or `error`).
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive(&format!("the response to `{method}`"));
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message;
            }
            self.queued.push_back(message);
        }
    }

    /// Sends a request and returns its result; panics on an error response.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params);
        assert!(
            response.get("error").is_none(),
            "`{method}` failed: {response}"
        );
        response["result"].clone()
    }

    fn receive(&mut self, what: &str) -> Value {
        match self.messages.recv_timeout(TIMEOUT) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => panic!("no {what} from lpc lsp in {TIMEOUT:?}"),
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait();
                panic!("lpc lsp ended ({status:?}) while waiting for {what}")
            }
        }
    }

    /// The next message from the server that `wanted` accepts (others stay queued).
    fn next(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.queued.iter().position(&wanted) {
            return self.queued.remove(i).unwrap_or_default();
        }
        loop {
            let message = self.receive(what);
            if wanted(&message) {
                return message;
            }
            self.queued.push_back(message);
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Value {
        let message = self.next(&format!("diagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        message["params"].clone()
    }

    fn open(&mut self, uri: &str, text: &str) -> Value {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "lp", "version": 1, "text": text } }),
        );
        self.diagnostics(uri)
    }

    fn change(&mut self, uri: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// A request at the `n`th occurrence of `needle` in `text` (the document at `uri`), plus
    /// `extra` params.
    fn at(
        &mut self,
        method: &str,
        uri: &str,
        text: &str,
        needle: &str,
        n: usize,
        extra: Value,
    ) -> Value {
        let mut params =
            json!({ "textDocument": { "uri": uri }, "position": position_of(text, needle, n) });
        if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
            params.extend(extra.clone());
        }
        self.call(method, params)
    }

    /// Shuts the server down and checks that it exits successfully; returns its stderr.
    fn shutdown(mut self) -> String {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin);
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for lpc lsp") {
                break status;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "lpc lsp did not exit after `exit`"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let stderr = self.stderr.join().unwrap_or_default();
        assert!(
            status.success(),
            "lpc lsp exited with {status}; stderr:\n{stderr}"
        );
        stderr
    }
}

/// One `Content-Length`-framed JSON-RPC message, or `None` at the end of the stream.
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
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

const SEED: &str = "use crate::nodes::{Consumer, Producer};

/// One consumer sends work to every producer and summarizes the results.
program consumer_producers {
    /// The number of concurrent producers.
    param num_producers: u32 = 2;

    group producer[num_producers] = courier Producer::new();

    node consumer = courier Consumer::new(producers: producer);
}
";

/// The LSP position (0-based line, UTF-16 column) of the `n`th occurrence of `needle`.
fn position_of(text: &str, needle: &str, n: usize) -> Value {
    let offset = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("no occurrence {n} of `{needle}`"))
        .0;
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .encode_utf16()
        .count();
    json!({ "line": line, "character": column })
}

#[test]
fn initialize_announces_what_the_server_does() {
    let package = seed_package();
    let (client, capabilities) = Client::start(package.path());
    assert_eq!(
        capabilities["definitionProvider"],
        json!(true),
        "{capabilities}"
    );
    assert_eq!(capabilities["hoverProvider"], json!(true), "{capabilities}");
    assert_eq!(
        capabilities["documentFormattingProvider"],
        json!(true),
        "{capabilities}"
    );
    assert_eq!(
        capabilities["textDocumentSync"]["change"],
        json!(1),
        "full sync: {capabilities}"
    );
    client.shutdown();
}

/// Every diagnostics case checked against the seed fixture: what the server publishes for its
/// text is what `lpc check --format json` prints for the same file — code, severity, message,
/// and range when the primary label is in the `.lp` file; the other labels are related
/// information (into `src/nodes.rs` for the Rust-side problems).
#[test]
fn diagnostics_are_those_of_lpc_check() {
    let package = seed_package();
    let cases_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("build/tests/cases");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&cases_dir)
        .expect("the cases")
        .map(|e| e.expect("an entry").path())
        .filter(|case| !case.join("src").exists() && case.join("main.lp").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() > 20, "only {} seed cases", cases.len());
    let (mut client, _) = Client::start(package.path());
    let mut related_into_rust = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(case.join("main.lp")).expect("the case");
        let Ok(text) = String::from_utf8(bytes) else {
            continue; // not UTF-8 (an E0004 case): an editor's buffer is always text
        };
        let file = package.path().join(format!("{name}.lp"));
        std::fs::write(&file, &text).expect("write the case");
        let output = Command::new(env!("CARGO_BIN_EXE_lpc"))
            .args(["check", "--format", "json"])
            .arg(&file)
            .current_dir(package.path())
            .output()
            .expect("lpc check runs");
        let expected: Vec<Value> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON diagnostic"))
            .collect();
        let published = client.open(&uri(&file), &text);
        let got = published["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if got.len() != expected.len() {
            failures.push(format!(
                "{name}: {} diagnostics published, lpc check prints {}:\n{got:#?}\n{expected:#?}",
                got.len(),
                expected.len()
            ));
            continue;
        }
        for (want, have) in expected.iter().zip(&got) {
            let mut problems = Vec::new();
            if have["code"] != want["code"] {
                problems.push(format!("code {} != {}", have["code"], want["code"]));
            }
            let severity = if want["severity"] == "error" { 1 } else { 2 };
            if have["severity"] != json!(severity) {
                problems.push(format!(
                    "severity {} != {}",
                    have["severity"], want["severity"]
                ));
            }
            let message = have["message"].as_str().unwrap_or("");
            if !message.starts_with(want["message"].as_str().unwrap_or("?")) {
                problems.push(format!("message {message:?} != {}", want["message"]));
            }
            if let Some(help) = want["help"].as_str() {
                if !message.contains(&format!("help: {help}")) {
                    problems.push(format!("message {message:?} lacks the help {help:?}"));
                }
            }
            let primary_here = want["file"]
                .as_str()
                .is_some_and(|f| f.ends_with(&format!("{name}.lp")));
            if primary_here {
                let r = &want["range"];
                let range = json!({
                    "start": { "line": r["start_line"].as_u64().unwrap_or(0) - 1, "character": r["start_column"].as_u64().unwrap_or(0) - 1 },
                    "end": { "line": r["end_line"].as_u64().unwrap_or(0) - 1, "character": r["end_column"].as_u64().unwrap_or(0) - 1 },
                });
                if have["range"] != range {
                    problems.push(format!("range {} != {range}", have["range"]));
                }
            }
            let labels = want["labels"].as_array().map_or(0, Vec::len);
            let related = have["relatedInformation"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // One label in this `.lp` file is where the diagnostic is shown; the rest are related.
            let in_lp = want["labels"].as_array().is_some_and(|labels| {
                labels.iter().any(|l| {
                    l["file"]
                        .as_str()
                        .is_some_and(|f| f.ends_with(&format!("{name}.lp")))
                })
            });
            let expected_related = labels - usize::from(in_lp);
            if related.len() != expected_related {
                problems.push(format!(
                    "{} related, expected {expected_related}: {related:?}",
                    related.len()
                ));
            }
            for info in &related {
                let target = info["location"]["uri"].as_str().unwrap_or("");
                if target.ends_with("/src/nodes.rs") {
                    related_into_rust += 1;
                }
                if !target.starts_with("file:///") {
                    problems.push(format!("related information outside a file: {info}"));
                }
            }
            if !problems.is_empty() {
                failures.push(format!("{name} {}: {}", want["code"], problems.join("; ")));
            }
        }
    }
    client.shutdown();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        related_into_rust >= 3,
        "only {related_into_rust} related locations in src/nodes.rs"
    );
}

#[test]
fn a_rust_side_problem_is_shown_in_the_lp_file_with_the_rust_location() {
    let package = seed_package();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("build/tests/cases/E0300_mut_self_courier/main.lp"),
    )
    .expect("the E0300 case");
    let file = package.path().join("main.lp");
    let (mut client, _) = Client::start(package.path());
    let published = client.open(&uri(&file), &text);
    let diagnostic = &published["diagnostics"][0];
    assert_eq!(diagnostic["code"], "E0300", "{published}");
    // Shown on `Counter` in `courier Counter::new()`, the label that is in the `.lp` file.
    assert_eq!(
        diagnostic["range"]["start"],
        position_of(&text, "Counter::new", 0),
        "{diagnostic}"
    );
    let related = &diagnostic["relatedInformation"][0];
    let nodes = std::fs::read_to_string(package.path().join("src/nodes.rs")).expect("nodes.rs");
    assert_eq!(
        related["location"]["uri"],
        uri(&package.path().join("src/nodes.rs")),
        "{related}"
    );
    assert_eq!(
        related["location"]["range"]["start"],
        position_of(&nodes, "&mut self", 0),
        "{related}"
    );
    assert_eq!(related["message"], "`&mut self` here", "{related}");
    client.shutdown();
}

#[test]
fn fixing_the_text_clears_the_diagnostics() {
    let package = seed_package();
    let file = package.path().join("main.lp");
    let (mut client, _) = Client::start(package.path());
    let broken = SEED.replace(
        "param num_producers: u32 = 2;",
        "param num_producers: u32 = 2",
    );
    let published = client.open(&uri(&file), &broken);
    assert_eq!(published["diagnostics"][0]["code"], "E0001", "{published}");
    assert_eq!(published["version"], 1);
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&file), "version": 2 }, "contentChanges": [{ "text": SEED }] }),
    );
    let published = client.diagnostics(&uri(&file));
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    assert_eq!(published["version"], 2);
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": uri(&file) } }),
    );
    assert_eq!(client.diagnostics(&uri(&file))["diagnostics"], json!([]));
    client.shutdown();
}

/// Typing through syntax errors inside a program's items (each version parsed from the last
/// clean one): every version's diagnostics are those of the same text opened afresh (parsed
/// whole), and the last, clean again, has none.
#[test]
fn typing_through_syntax_errors_shows_what_a_fresh_parse_shows() {
    let package = seed_package();
    let file = uri(&package.path().join("main.lp"));
    let (mut client, _) = Client::start(package.path());
    assert_eq!(client.open(&file, SEED)["diagnostics"], json!([]));
    let group = "courier Producer::new();";
    let node = "Consumer::new(producers: producer);";
    let versions = [
        SEED.replace(group, "courier Producer::new("),
        SEED.replace(group, "courier Producer::new(x"),
        SEED.replace(group, "courier Producer::new(x)"),
        SEED.replace(node, "Consumer::new(producers: producer,, );"),
        SEED.replace(node, "Consumer::new(producers: producer,, );\n    node"),
        SEED.replace("u32 = 2;", "u32 = 2"),
        SEED.to_string(),
    ];
    for (n, text) in versions.iter().enumerate() {
        let version = n as i32 + 2;
        client.change(&file, version, text);
        let published = client.diagnostics(&file);
        assert_eq!(published["version"], version, "{published}");
        let fresh = uri(&package.path().join(format!("fresh{n}.lp")));
        let expected = client.open(&fresh, text);
        let same = expected["diagnostics"].to_string().replace(&fresh, &file);
        assert_eq!(published["diagnostics"].to_string(), same, "{text}");
        let errors = published["diagnostics"].as_array().map_or(0, Vec::len);
        assert_eq!(errors == 0, n == versions.len() - 1, "{published}");
    }
    client.shutdown();
}

#[test]
fn definition_goes_from_node_types_to_their_rust_items() {
    let package = seed_package();
    let file = package.path().join("main.lp");
    let nodes_path = package.path().join("src/nodes.rs");
    let nodes = std::fs::read_to_string(&nodes_path).expect("nodes.rs");
    let (mut client, _) = Client::start(package.path());
    client.open(&uri(&file), SEED);
    let mut definition = |needle: &str, n: usize| {
        client.request(
            "textDocument/definition",
            json!({ "textDocument": { "uri": uri(&file) }, "position": position_of(SEED, needle, n) }),
        )
    };
    let in_nodes = |needle: &str, n: usize| {
        json!({
            "uri": uri(&nodes_path),
            "range": {
                "start": position_of(&nodes, needle, n),
                "end": {
                    "line": position_of(&nodes, needle, n)["line"],
                    "character": position_of(&nodes, needle, n)["character"].as_u64().unwrap_or(0)
                        + needle.encode_utf16().count() as u64,
                },
            },
        })
    };
    // `Producer` in `courier Producer::new()` → `pub struct Producer`.
    assert_eq!(definition("Producer::new", 0), in_nodes("Producer", 0));
    // `new` → `pub fn new` of `impl Producer` (the first `new` of the file).
    assert_eq!(definition("new()", 0), in_nodes("new", 0));
    // `Consumer` in the `use` → `pub struct Consumer`.
    let consumer = nodes.find("pub struct Consumer").expect("Consumer") + "pub struct ".len();
    let found = definition("Consumer", 0);
    assert_eq!(found["uri"], uri(&nodes_path), "{found}");
    assert_eq!(
        found["range"]["start"]["line"],
        json!(nodes[..consumer].matches('\n').count()),
        "{found}"
    );
    // The group's name → its type.
    assert_eq!(definition("producer[", 0), in_nodes("Producer", 0));
    // An argument's name → the Rust constructor's parameter.
    assert_eq!(
        definition("producers: producer", 0),
        in_nodes("producers", 1)
    );
    // `producer` used as an argument → the group's declaration in the `.lp` file.
    let at = position_of(SEED, "producer)", 0);
    let found = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri(&file) }, "position": at }),
    );
    assert_eq!(found["uri"], uri(&file), "{found}");
    assert_eq!(
        found["range"]["start"],
        position_of(SEED, "producer[", 0),
        "{found}"
    );
    client.shutdown();
}

#[test]
fn hover_describes_nodes_and_groups() {
    let package = seed_package();
    let file = package.path().join("main.lp");
    let (mut client, _) = Client::start(package.path());
    client.open(&uri(&file), SEED);
    let mut hover = |needle: &str| {
        let result = client.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri(&file) }, "position": position_of(SEED, needle, 0) }),
        );
        result["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let group = hover("producer[");
    for part in [
        "group producer[num_producers] = courier Producer::new",
        "**group** of `num_producers` replicas (2 by default)",
        "**courier**",
        "crate::nodes::Producer",
        "fn work(&self, context: u64) -> u64",
    ] {
        assert!(
            group.contains(part),
            "hover on the group lacks {part:?}:\n{group}"
        );
    }
    let node = hover("consumer =");
    for part in [
        "**node** (one replica)",
        "crate::nodes::Consumer",
        "async fn step(&self, context: u64) -> Result<Vec<u64>, lp::CallError>",
        "Runs `lp::Run::run`",
    ] {
        assert!(
            node.contains(part),
            "hover on the node lacks {part:?}:\n{node}"
        );
    }
    let param = hover("num_producers:");
    assert!(param.contains("param num_producers: u32 = 2"), "{param}");
    assert!(
        param.contains("The number of concurrent producers."),
        "{param}"
    );
    client.shutdown();
}

/// A method's `#[lp::nonblocking]` mark shows in the hover of a node serving it.
#[test]
fn hover_shows_a_nonblocking_mark() {
    const LEARNER: &str = "use crate::nodes::Learner;\nprogram learning {\n    node learner = courier Learner::new(steps: 3);\n}\n";
    let package = seed_package();
    let file = package.path().join("learning.lp");
    std::fs::write(&file, LEARNER).expect("write");
    let (mut client, _) = Client::start(package.path());
    client.open(&uri(&file), LEARNER);
    let result = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&file) }, "position": position_of(LEARNER, "learner =", 0) }),
    );
    let shown = result["contents"]["value"].as_str().unwrap_or("");
    assert!(
        shown.contains("`#[lp::nonblocking] fn steps(&self) -> u32`"),
        "{shown}"
    );
    client.shutdown();
}

#[test]
fn formatting_is_lpc_fmt() {
    let package = seed_package();
    let file = package.path().join("main.lp");
    let ugly = "use crate::nodes::{Producer,Consumer};\nprogram consumer_producers{param num_producers:u32=2;\n  group producer[num_producers]=courier Producer::new();node consumer=courier Consumer::new(producers:producer);}\n";
    std::fs::write(&file, ugly).expect("write");
    let (mut client, _) = Client::start(package.path());
    client.open(&uri(&file), ugly);
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri(&file) }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    let status = Command::new(env!("CARGO_BIN_EXE_lpc"))
        .arg("fmt")
        .arg(&file)
        .status()
        .expect("lpc fmt runs");
    assert!(status.success());
    let formatted = std::fs::read_to_string(&file).expect("the formatted file");
    assert_ne!(formatted, ugly);
    assert_eq!(edits.as_array().map(Vec::len), Some(1), "{edits}");
    assert_eq!(edits[0]["newText"], formatted);
    assert_eq!(
        edits[0]["range"]["start"],
        json!({ "line": 0, "character": 0 })
    );
    assert_eq!(
        edits[0]["range"]["end"],
        json!({ "line": 3, "character": 0 })
    );
    // A file with syntax errors is not formatted.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&file), "version": 2 }, "contentChanges": [{ "text": "program {" }] }),
    );
    client.diagnostics(&uri(&file));
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri(&file) }, "options": { "tabSize": 4, "insertSpaces": true } }),
    );
    assert_eq!(edits, json!(null));
    client.shutdown();
}

#[test]
fn no_input_ends_the_server() {
    let package = seed_package();
    let outside = tempfile::tempdir().expect("a directory outside any package");
    let (mut client, _) = Client::start(package.path());
    let texts = [
        "",
        "program",
        "{{{{{{{{",
        "}}}}",
        "/* unterminated /* nested",
        "\"unterminated",
        "\u{0}\u{FEFF}é😀\r\n\r\n",
        "program p { group g[-1] = courier X::new(a: 99999999999999999999999999999999999999999); }",
        "program p { node n = fn (); param : = ; }",
        &"(".repeat(5000),
        &"program p { node a = courier A::new(x: ".repeat(200),
        "use crate::::{;\nuse ;\nprogram p { process { node } }",
    ];
    for (i, text) in texts.iter().enumerate() {
        let file = package.path().join(format!("garbage{i}.lp"));
        let published = client.open(&uri(&file), text);
        assert!(published["diagnostics"].is_array(), "{published}");
        for position in [
            json!({ "line": 0, "character": 3 }),
            json!({ "line": 999, "character": 999 }),
        ] {
            for method in [
                "textDocument/hover",
                "textDocument/definition",
                "textDocument/completion",
                "textDocument/signatureHelp",
                "textDocument/prepareRename",
            ] {
                let response = client.call(
                    method,
                    json!({ "textDocument": { "uri": uri(&file) }, "position": position }),
                );
                assert!(
                    response.get("error").is_none(),
                    "{method} on {text:?}: {response}"
                );
            }
        }
        client.request(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": uri(&file) }, "options": { "tabSize": 4, "insertSpaces": true } }),
        );
        let whole = json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 999, "character": 0 } });
        for (method, extra) in [
            ("textDocument/documentSymbol", json!({})),
            ("textDocument/semanticTokens/full", json!({})),
            ("textDocument/inlayHint", json!({ "range": whole })),
            (
                "textDocument/codeAction",
                json!({ "range": whole, "context": { "diagnostics": published["diagnostics"] } }),
            ),
        ] {
            let mut params = json!({ "textDocument": { "uri": uri(&file) } });
            if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
                params.extend(extra.clone());
            }
            let response = client.call(method, params);
            assert!(
                response.get("error").is_none(),
                "{method} on {text:?}: {response}"
            );
        }
    }
    // Outside any package: the parser's diagnostics and a warning that Rust was not checked.
    let file = outside.path().join("lone.lp");
    let published = client.open(&uri(&file), "program p { param x u32; }");
    let messages: Vec<&str> = published["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.starts_with("expected")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("not checked against Rust")),
        "{messages:?}"
    );
    // Unknown methods, documents never opened, other schemes, bad params: errors or nothing.
    let response = client.call("textDocument/unknownThing", json!({}));
    assert_eq!(response["error"]["code"], json!(-32601), "{response}");
    let response = client.call("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(response["error"]["code"], json!(-32602), "{response}");
    let response = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "untitled:Untitled-1" }, "position": { "line": 0, "character": 0 } }),
    );
    assert_eq!(response, json!(null));
    client.notify("textDocument/didOpen", json!({ "bad": "params" }));
    client.notify("textDocument/didChange", json!(null));
    // Still serving.
    let file = package.path().join("main.lp");
    let published = client.open(&uri(&file), SEED);
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    let stderr = client.shutdown();
    assert!(!stderr.contains("panicked"), "lpc lsp panicked:\n{stderr}");
}

#[test]
fn a_changed_rust_file_rechecks_the_open_documents() {
    let package = seed_package();
    let file = package.path().join("main.lp");
    let capabilities =
        json!({ "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } });
    let (mut client, _) = Client::start_with(package.path(), capabilities);
    // The server asks to watch the Rust files; the client agrees.
    let request = client.next("a registerCapability request", |m| {
        m["method"] == "client/registerCapability"
    });
    let registration = &request["params"]["registrations"][0];
    assert_eq!(
        registration["method"], "workspace/didChangeWatchedFiles",
        "{request}"
    );
    let globs = registration["registerOptions"]["watchers"].to_string();
    assert!(globs.contains("**/*.rs"), "{globs}");
    client.send(json!({ "jsonrpc": "2.0", "id": request["id"], "result": null }));

    let text = SEED.replace("Producer::new()", "Producer::fresh()");
    let published = client.open(&uri(&file), &text);
    assert_eq!(published["diagnostics"][0]["code"], "E0201", "{published}");
    // The constructor appears in the crate: the document is checked again, and is clean.
    let nodes = package.path().join("src/nodes.rs");
    let source = std::fs::read_to_string(&nodes).expect("nodes.rs");
    let source = source.replacen(
        "impl Producer {",
        "impl Producer {\n    pub fn fresh() -> Self {\n        Producer::new()\n    }\n",
        1,
    );
    std::fs::write(&nodes, source).expect("write nodes.rs");
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri(&nodes), "type": 2 }] }),
    );
    let published = client.diagnostics(&uri(&file));
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    client.shutdown();
}

/// `text` without its `$0` marker, and the LSP position of the marker.
fn marked(text: &str) -> (String, Value) {
    let position = position_of(text, "$0", 0);
    (text.replacen("$0", "", 1), position)
}

/// The labels of a completion answer, in the order an editor shows them (by `sortText`).
fn labels(answer: &Value) -> Vec<String> {
    let mut items: Vec<&Value> = answer["result"].as_array().into_iter().flatten().collect();
    items.sort_by_key(|i| {
        i["sortText"]
            .as_str()
            .or(i["label"].as_str())
            .unwrap_or("")
            .to_string()
    });
    items
        .iter()
        .filter_map(|i| i["label"].as_str().map(String::from))
        .collect()
}

/// Completion at the `$0` of `text`, opened as `uri`.
fn complete(client: &mut Client, uri: &str, text: &str) -> Value {
    let (text, position) = marked(text);
    client.change(uri, 2, &text);
    client.call(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": position }),
    )
}

#[test]
fn completion_offers_what_fits_where_the_cursor_is() {
    let package = seed_package();
    let file = uri(&package.path().join("main.lp"));
    let (mut client, _) = Client::start(package.path());
    client.open(&file, SEED);
    let head = "use crate::nodes::{Consumer, Producer};\nprogram p {\n    param n: u32 = 2;\n    group producer[n] = courier Producer::new();\n    ";
    let cases: Vec<(String, Vec<&str>, Vec<&str>)> = vec![
        (format!("{head}$0\n}}"), vec!["param", "node", "group", "process"], vec![]),
        (format!("{head}node c = $0\n}}"), vec!["courier", "worker", "fn"], vec![]),
        (format!("{head}node c = courier Con$0\n}}"), vec!["Consumer", "Producer"], vec![]),
        (format!("{head}node c = courier Consumer::$0\n}}"), vec!["new"], vec!["step"]),
        (format!("{head}node c = courier Producer::$0\n}}"), vec!["new", "with_delay"], vec!["work"]),
        (format!("{head}node c = courier Consumer::new($0\n}}"), vec!["producers"], vec![]),
        (format!("{head}node c = courier Consumer::new(producers: $0\n}}"), vec!["n", "producer"], vec!["replica"]),
        (format!("{head}group c[2] = worker crate::nodes::Actor::new(seed: $0\n}}"), vec!["replica", "replicas", "n"], vec![]),
        (format!("{head}node c = fn crate::nodes::$0\n}}"), vec!["setup", "warm_up"], vec![]),
        (format!("{head}node c = courier Consumer::new(producers: producer) {{ $0 }}\n}}"), vec!["resources", "env", "restart", "batch"], vec![]),
        (format!("{head}node c = courier Consumer::new(producers: producer) {{ batch $0 }}\n}}"), vec!["step"], vec!["new", "run"]),
        (format!("{head}node c = courier Consumer::new(producers: producer) {{ resources {{ $0 }} }}\n}}"), vec!["cpus", "memory", "gpus"], vec![]),
        (format!("{head}node c = courier Consumer::new(producers: producer) {{ restart: $0 }}\n}}"), vec!["on_failure", "never"], vec![]),
        (format!("{head}param m: $0\n}}"), vec!["u32", "Duration", "String"], vec![]),
    ];
    for (text, wanted, unwanted) in cases {
        let answer = complete(&mut client, &file, &text);
        let got = labels(&answer);
        for label in wanted {
            assert!(
                got.iter().any(|l| l == label),
                "no `{label}` at\n{text}\n{got:?}"
            );
        }
        for label in unwanted {
            assert!(
                !got.iter().any(|l| l == label),
                "`{label}` at\n{text}\n{got:?}"
            );
        }
    }
    // After `courier`, couriers come first; an argument shows its Rust type and inserts `name: `.
    let got = labels(&complete(
        &mut client,
        &file,
        &format!("{head}node c = courier $0\n}}"),
    ));
    let courier = got.iter().position(|l| l == "Consumer").expect("Consumer");
    let not_courier = got.iter().position(|l| l == "Sleeper").expect("Sleeper");
    assert!(courier < not_courier, "{got:?}");
    let answer = complete(
        &mut client,
        &file,
        &format!("{head}node c = courier Consumer::new($0\n}}"),
    );
    let item = &answer["result"][0];
    assert_eq!(item["detail"], "Vec<Handle<Producer>>", "{item}");
    assert_eq!(item["textEdit"]["newText"], "producers: ", "{item}");
    // Inside a comment or a string: nothing.
    let answer = complete(&mut client, &file, &format!("{head}// node c = $0\n}}"));
    assert_eq!(answer["result"], json!([]), "{answer}");
    client.shutdown();
}

#[test]
fn signature_help_shows_the_constructor_and_the_current_argument() {
    let package = seed_package();
    let file = uri(&package.path().join("main.lp"));
    let (mut client, _) = Client::start(package.path());
    client.open(&file, SEED);
    let (text, position) = marked("use crate::nodes::Actor;\nprogram p {\n    node a = worker Actor::new(learner: l, seed: $0\n}\n");
    client.change(&file, 2, &text);
    let help = client.request(
        "textDocument/signatureHelp",
        json!({ "textDocument": { "uri": file }, "position": position }),
    );
    let signature = &help["signatures"][0];
    let label = signature["label"].as_str().unwrap_or("");
    assert_eq!(
        label,
        "fn Actor::new(learner: Handle<Learner>, seed: u64, name: String, rate: f64, verbose: bool) -> crate::nodes::Actor"
    );
    assert_eq!(help["activeParameter"], 1, "{help}");
    let offsets = &signature["parameters"][1]["label"];
    let (start, end) = (
        offsets[0].as_u64().unwrap_or(0) as usize,
        offsets[1].as_u64().unwrap_or(0) as usize,
    );
    assert_eq!(&label[start..end], "seed: u64");
    // After a comma: the first argument not given yet.
    let (text, position) = marked(
        "use crate::nodes::Actor;\nprogram p {\n    node a = worker Actor::new(seed: 1, $0\n}\n",
    );
    client.change(&file, 3, &text);
    let help = client.request(
        "textDocument/signatureHelp",
        json!({ "textDocument": { "uri": file }, "position": position }),
    );
    assert_eq!(help["activeParameter"], 0, "{help}");
    client.shutdown();
}

#[test]
fn symbols_rename_and_references() {
    let package = seed_package();
    let file = uri(&package.path().join("main.lp"));
    std::fs::write(
        package.path().join("other.lp"),
        "use crate::nodes::Learner;\nprogram other { process learners { group learner[2] = courier Learner::new(steps: 1); } }\n",
    )
    .expect("write other.lp");
    let (mut client, _) = Client::start(package.path());
    client.open(&file, SEED);
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": file } }),
    );
    let program = &symbols[0];
    assert_eq!(program["name"], "consumer_producers", "{symbols}");
    let children: Vec<&str> = program["children"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        children,
        ["num_producers", "producer", "consumer"],
        "{symbols}"
    );
    assert_eq!(
        program["children"][1]["selectionRange"]["start"],
        position_of(SEED, "producer[", 0)
    );
    // Workspace symbols: the open document and the other file on disk, nested in a process.
    let found = client.request("workspace/symbol", json!({ "query": "learn" }));
    let names: Vec<String> = found
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            format!(
                "{}::{}",
                s["containerName"].as_str().unwrap_or(""),
                s["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        names,
        ["other::learners", "other::learners::learner"],
        "{found}"
    );
    let found = client.request("workspace/symbol", json!({ "query": "" }));
    assert_eq!(found.as_array().map(Vec::len), Some(7), "{found}");

    // References of the group: its declaration and its use.
    let refs = client.at(
        "textDocument/references",
        &file,
        SEED,
        "producer)",
        0,
        json!({ "context": { "includeDeclaration": true } }),
    );
    let starts: Vec<&Value> = refs["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| &l["range"]["start"])
        .collect();
    assert_eq!(
        starts,
        [
            &position_of(SEED, "producer[", 0),
            &position_of(SEED, "producer)", 0)
        ],
        "{refs}"
    );
    // Rename of the param everywhere; refused on Rust names, keywords and taken names.
    let prepared = client.at(
        "textDocument/prepareRename",
        &file,
        SEED,
        "num_producers]",
        0,
        json!({}),
    );
    assert_eq!(
        prepared["result"]["placeholder"], "num_producers",
        "{prepared}"
    );
    let renamed = client.at(
        "textDocument/rename",
        &file,
        SEED,
        "num_producers]",
        0,
        json!({ "newName": "width" }),
    );
    let edits = renamed["result"]["changes"][&file]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(edits.len(), 2, "{renamed}");
    assert!(edits.iter().all(|e| e["newText"] == "width"), "{renamed}");
    for (needle, name) in [
        ("Producer::new", "x"),
        ("new()", "x"),
        ("producers: producer", "x"),
        ("Consumer,", "x"),
    ] {
        let refused = client.at(
            "textDocument/prepareRename",
            &file,
            SEED,
            needle,
            0,
            json!({ "newName": name }),
        );
        let message = refused["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains("is a Rust name"), "{needle}: {refused}");
    }
    for name in ["node", "consumer", "1x"] {
        let refused = client.at(
            "textDocument/rename",
            &file,
            SEED,
            "producer[",
            0,
            json!({ "newName": name }),
        );
        assert!(refused.get("error").is_some(), "{name}: {refused}");
    }
    client.shutdown();
}

/// The semantic tokens of `text`, decoded: (line, column, length, type name).
fn semantic_tokens(
    client: &mut Client,
    legend: &Value,
    file: &str,
) -> Vec<(u64, u64, u64, String)> {
    let answer = client.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": file } }),
    );
    let data: Vec<u64> = answer["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    let (mut line, mut column) = (0, 0);
    data.chunks(5)
        .map(|t| {
            if t[0] > 0 {
                column = 0;
            }
            line += t[0];
            column += t[1];
            let kind = legend["tokenTypes"][t[3] as usize]
                .as_str()
                .unwrap_or("?")
                .to_string();
            (line, column, t[2], kind)
        })
        .collect()
}

#[test]
fn semantic_tokens_colour_keyword_named_arguments_as_names() {
    let package = seed_package();
    std::fs::write(
        package.path().join("src/relay.rs"),
        "use lp::Handle;\nuse crate::nodes::Producer;\npub struct Relay;\nimpl Relay {\n    pub fn new(node: Handle<Producer>, batch: u32) -> Self {\n        Relay\n    }\n}\n",
    )
    .expect("write relay.rs");
    let lib = package.path().join("src/lib.rs");
    let root = std::fs::read_to_string(&lib).expect("lib.rs");
    std::fs::write(&lib, format!("{root}pub mod relay;\n")).expect("write lib.rs");
    let text = "use crate::nodes::Producer;\nuse crate::relay::Relay;\n// a comment\nprogram p {\n    node p = courier Producer::new();\n    node r = courier Relay::new(node: p, batch: 2);\n}\n";
    let file = uri(&package.path().join("main.lp"));
    let (mut client, capabilities) = Client::start(package.path());
    let published = client.open(&file, text);
    let errors = published["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["severity"] == 1);
    assert_eq!(errors.count(), 0, "{published}");
    let legend = capabilities["semanticTokensProvider"]["legend"].clone();
    let tokens = semantic_tokens(&mut client, &legend, &file);
    let kind_at = |needle: &str, n: usize| {
        let at = position_of(text, needle, n);
        tokens
            .iter()
            .find(|t| json!(t.0) == at["line"] && json!(t.1) == at["character"])
            .map(|t| t.3.clone())
            .unwrap_or_else(|| format!("nothing at {needle:?}: {tokens:?}"))
    };
    assert_eq!(kind_at("node: p", 0), "parameter");
    assert_eq!(kind_at("batch: 2", 0), "parameter");
    assert_eq!(kind_at("node p", 0), "keyword");
    assert_eq!(kind_at("courier Relay", 0), "keyword");
    assert_eq!(kind_at("Relay::new", 0), "type");
    assert_eq!(kind_at("p, batch", 0), "variable");
    assert_eq!(kind_at("2)", 0), "number");
    assert_eq!(kind_at("// a comment", 0), "comment");
    client.shutdown();
}

/// The code actions for the diagnostics published for `text`: (title, edits).
fn quick_fixes(client: &mut Client, file: &str, text: &str, version: i32) -> Vec<(String, Value)> {
    client.change(file, version, text);
    let published = client.diagnostics(file);
    let diagnostics = published["diagnostics"].clone();
    let answer = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": { "uri": file },
            "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 99, "character": 0 } },
            "context": { "diagnostics": diagnostics },
        }),
    );
    answer
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["title"].as_str().unwrap_or("").to_string(),
                a["edit"]["changes"][file].clone(),
            )
        })
        .collect()
}

#[test]
fn code_actions_apply_the_diagnostics_help() {
    let package = seed_package();
    let file = uri(&package.path().join("main.lp"));
    let (mut client, _) = Client::start(package.path());
    client.open(&file, SEED);
    let cases = [
        (
            SEED.replace("producers: producer)", "producers: produce)"),
            "Replace with `producer`",
            "producer",
        ),
        (
            SEED.replace("Consumer::new(producers: producer)", "Consumer::new()"),
            "Add argument `producers: producer`",
            "producers: producer",
        ),
        (
            SEED.replace("{Consumer, Producer}", "Consumer"),
            "Add `use crate::nodes::Producer;`",
            "use crate::nodes::Producer;\n",
        ),
    ];
    for (version, (text, title, new_text)) in (2..).zip(cases) {
        let fixes = quick_fixes(&mut client, &file, &text, version);
        let fix = fixes.iter().find(|(t, _)| t == title);
        let (_, edits) = fix.unwrap_or_else(|| panic!("no `{title}` in {fixes:?}"));
        assert_eq!(edits[0]["newText"], new_text, "{edits}");
    }
    let rl = "use crate::nodes::{Actor, Learner};\nprogram rl {\n    group learner[2] = courier Learner::new(steps: 10);\n    group actor[4] = worker Actor::new(learner: learner, seed: replica, name: \"a\", rate: 1.0, verbose: false);\n}\n";
    let fixes = quick_fixes(&mut client, &file, rl, 9);
    let (_, edits) = fixes
        .iter()
        .find(|(t, _)| t == "Replace with `learner[0]`")
        .expect("the group fix");
    assert_eq!(
        edits[0]["range"]["start"],
        position_of(rl, "learner, seed", 0),
        "{edits}"
    );
    client.shutdown();
}

#[test]
fn inlay_hints_show_replica_counts_and_argument_types() {
    let package = seed_package();
    let file = uri(&package.path().join("main.lp"));
    let (mut client, _) = Client::start(package.path());
    client.open(&file, SEED);
    let hints = client.request(
        "textDocument/inlayHint",
        json!({ "textDocument": { "uri": file }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 99, "character": 0 } } }),
    );
    let shown: Vec<(Value, &str)> = hints
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| (h["position"].clone(), h["label"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        shown,
        [
            (position_of(SEED, "] = courier Producer", 0), "= 2"),
            (position_of(SEED, ");\n}", 0), "as Vec<Handle<Producer>>"),
        ],
        "{hints}"
    );
    client.shutdown();
}

#[test]
fn an_untitled_buffer_gets_syntax_diagnostics() {
    let package = seed_package();
    let (mut client, _) = Client::start(package.path());
    let published = client.open("untitled:Untitled-1", "program p { param x u32; }");
    let diagnostics = published["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(diagnostics.len(), 1, "{published}");
    assert_eq!(diagnostics[0]["code"], "E0001", "{published}");
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": "untitled:Untitled-1" } }),
    );
    assert_eq!(symbols[0]["name"], "p", "{symbols}");
    client.shutdown();
}

/// A program of `nodes` courier nodes and a consumer of two of them.
fn big_program(nodes: usize) -> String {
    let mut text = String::from(
        "use crate::nodes::{Consumer, Producer};\nprogram big {\n    param n: u32 = 2;\n",
    );
    for i in 0..nodes {
        text.push_str(&format!("    node p{i} = courier Producer::new();\n"));
    }
    text.push_str("    node consumer = courier Consumer::new(producers: [p0, p1]);\n}\n");
    text
}

/// A 10,000-node file is served correctly, and a burst of changes is checked once it has all
/// arrived: the last diagnostics are those of the last version, and not every version is
/// checked. (Timings are measured outside the test suite, never asserted.)
#[test]
fn a_10000_node_file_and_a_burst_of_changes() {
    let package = seed_package();
    let file = uri(&package.path().join("big.lp"));
    let text = big_program(10_000);
    let (mut client, _) = Client::start(package.path());
    let published = client.open(&file, &text);
    let errors = published["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["severity"] == 1);
    assert_eq!(errors.count(), 0, "{published}");
    let hover = client.at("textDocument/hover", &file, &text, "p5000 =", 0, json!({}));
    let shown = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(
        shown.contains("node p5000 = courier Producer::new"),
        "{hover}"
    );
    let definition = client.at("textDocument/definition", &file, &text, "p1]", 0, json!({}));
    assert_eq!(
        definition["result"]["range"]["start"],
        position_of(&text, "p1 =", 0),
        "{definition}"
    );
    for version in 2..=11 {
        let edited = text.replace("param n: u32 = 2;", &format!("param n: u32 = {version};"));
        let edited = if version == 11 {
            edited.replace("[p0, p1]", "[p0, nowhere]")
        } else {
            edited
        };
        client.change(&file, version, &edited);
    }
    let mut versions = Vec::new();
    let last = loop {
        let published = client.diagnostics(&file);
        versions.push(published["version"].clone());
        if published["version"] == 11 {
            break published;
        }
    };
    assert!(
        versions.len() < 10,
        "every change was checked: {versions:?}"
    );
    assert_eq!(last["diagnostics"][0]["code"], "E0100", "{last}");
    client.shutdown();
}

/// Without file watching by the client, the server notices a changed `.rs` file itself.
#[test]
fn a_changed_rust_file_is_noticed_without_the_client() {
    let package = seed_package();
    let file = uri(&package.path().join("main.lp"));
    let (mut client, _) = Client::start(package.path());
    let published = client.open(&file, SEED);
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    let nodes = package.path().join("src/nodes.rs");
    let source = std::fs::read_to_string(&nodes).expect("nodes.rs");
    std::fs::write(
        &nodes,
        source.replace("pub fn new(producers:", "pub fn new(workers:"),
    )
    .expect("write nodes.rs");
    let published = loop {
        let published = client.diagnostics(&file);
        if published["diagnostics"] != json!([]) {
            break published;
        }
    };
    let codes: Vec<&Value> = published["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| &d["code"])
        .collect();
    assert_eq!(codes, ["E0202", "E0203"], "{published}");
    // A request sees the new crate too.
    let hover = client.at(
        "textDocument/hover",
        &file,
        SEED,
        "producers: producer",
        0,
        json!({}),
    );
    assert_eq!(
        hover["result"],
        json!(null),
        "`producers` is no parameter any more: {hover}"
    );
    client.shutdown();
}
