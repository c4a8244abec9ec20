//! The live dashboard a launch serves (`docs/dashboard.md`): the line the launcher prints, the
//! token, every field of the JSON API, `/metrics` as `promtool check metrics` sees it, the view
//! of a failed program, and the page in a real browser (Debian's `chromium`, driven over the
//! DevTools protocol), whose screenshot is kept in `target/dashboard/`.
//!
//! `promtool` and `chromium` are installed by `scripts/setup`; without them their tests skip,
//! except under `CI=true`, where they fail.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lp::{LaunchOptions, LaunchType};
use lp_tests::faults::{make_program, Params};
use lp_tests::launched::Launched;
use lp_tests::support::{tool_available, workspace};
use serde_json::Value;

use lp_tests::fault_nodes::LABELS;
use lp_tests::http::{exchange, get, Response};

/// The fields every node of `/api/nodes` has.
const NODE_FIELDS: [&str; 17] = [
    "label",
    "kind",
    "pid",
    "state",
    "outcome",
    "uptime_seconds",
    "restarts",
    "cpu_seconds",
    "rss_bytes",
    "calls",
    "errors",
    "methods",
    "calls_made",
    "errors_made",
    "made",
    "slowest",
    "log",
];

/// A dashboard's address and token, from its URL.
struct Dashboard {
    addr: String,
    token: String,
}

impl Dashboard {
    fn from_url(url: &str) -> Dashboard {
        let rest = url.strip_prefix("http://").expect("an http URL");
        let (addr, query) = rest.split_once("/?token=").expect("a token in the URL");
        assert!(addr.starts_with("127.0.0.1:"), "{url}");
        Dashboard {
            addr: addr.to_string(),
            token: query.to_string(),
        }
    }

    /// The URL the launcher printed in `output`.
    fn printed(output: &str) -> Dashboard {
        let line = output
            .lines()
            .find_map(|l| l.strip_prefix("lp: dashboard at "))
            .unwrap_or_else(|| panic!("no dashboard line in:\n{output}"));
        Dashboard::from_url(line.trim())
    }

    fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }

    /// `GET path` with the token.
    fn get(&self, path: &str) -> Response {
        let separator = if path.contains('?') { '&' } else { '?' };
        get(
            &self.addr,
            &format!("{path}{separator}token={}", self.token),
            "",
        )
    }

    /// Waits until `/api/nodes` satisfies `ready`; the nodes then.
    fn nodes_when(&self, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        lp_tests::http::nodes_when(&self.addr, &self.token, ready)
    }
}

fn node<'a>(nodes: &'a [Value], label: &str) -> &'a Value {
    nodes
        .iter()
        .find(|n| n["label"] == label)
        .unwrap_or_else(|| panic!("no node `{label}` in {nodes:#?}"))
}

/// Starts the `faults` program calling at full rate under `launch_type`, with its dashboard.
fn start_calls(launch_type: &str, extra: &[&str]) -> (Launched, Dashboard) {
    let mut args = vec!["--lp_launch_type", launch_type, "--mode", "calls"];
    args.extend_from_slice(extra);
    let mut launched = Launched::start("faults", &args, &[]);
    launched.wait_for("lp: dashboard at ", Duration::from_secs(30));
    let dashboard = Dashboard::printed(&launched.output());
    (launched, dashboard)
}

/// Every node is up and its `run`, if any, going.
fn all_up(nodes: &[Value]) -> bool {
    nodes.len() == LABELS.len()
        && nodes
            .iter()
            .all(|n| n["state"] == "running" || n["state"] == "serving")
}

#[test]
fn a_local_mp_launch_serves_every_field_to_the_token_only() {
    let (mut launched, dashboard) = start_calls("local_mp", &[]);
    refuses_without_the_token(&dashboard);
    let nodes = dashboard.nodes_when(all_up);
    for label in LABELS {
        let n = node(&nodes, label);
        for field in NODE_FIELDS {
            assert!(n.get(field).is_some(), "`{field}` missing in {n:#}");
        }
        let pid = n["pid"].as_u64().expect("a pid") as u32;
        assert_ne!(pid, launched.pid(), "{label} runs in its own process");
        assert!(n["rss_bytes"].as_u64().unwrap_or(0) > 0, "{n:#}");
        assert_eq!(n["restarts"], 0, "{n:#}");
    }
    assert_eq!(node(&nodes, "victim")["kind"], "courier");
    assert_eq!(node(&nodes, "caller")["kind"], "worker");
    assert_eq!(node(&nodes, "caller")["state"], "running");
    assert_eq!(node(&nodes, "victim")["state"], "serving");
    assert_eq!(
        node(&nodes, "sprinter")["pid"],
        node(&nodes, "stayer")["pid"],
        "a process block is one process"
    );
    let program = dashboard.get("/api/program").json();
    assert_eq!(program["program"], "faults");
    assert_eq!(program["launch_type"], "local_mp");
    assert_eq!(program["state"], "running");
    assert_eq!(program["pid"], launched.pid());
    assert_eq!(program["nodes"], LABELS.len());
    assert!(program["failure"].is_null(), "{program:#}");
    // The caller prints a line every 500 calls: its log is kept.
    launched.wait_for("calls ok", Duration::from_secs(30));
    let logs = dashboard.get("/api/logs/caller").json();
    assert!(
        logs["lines"].as_array().is_some_and(|l| l
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains("calls ok")))),
        "{logs:#}"
    );
    // Calls are counted where they are served: the victim's `ping`, by the caller.
    let nodes = dashboard.nodes_when(|nodes| node(nodes, "victim")["calls"].as_u64() > Some(0));
    let victim = node(&nodes, "victim");
    assert!(
        victim["methods"].as_array().is_some_and(|methods| methods
            .iter()
            .any(|m| m["method"] == "ping" && m["calls"].as_u64() > Some(0))),
        "{victim:#}"
    );
    calls_made_rise(&dashboard);
    slowest_calls_name_their_chain(&dashboard);
    assert_eq!(dashboard.get("/api/logs/phoenix%2F0").status, 200);
    assert_eq!(dashboard.get("/api/logs/nobody").status, 404);
    let page = dashboard.get("/");
    assert_eq!(
        (page.status, page.content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    assert!(page.body.contains("EventSource") && !page.body.contains("/*SCRIPT*/"));
    metrics_pass_promtool(&dashboard);
    launched.signal(rustix::process::Signal::TERM);
    let ended = launched.wait(Duration::from_secs(30));
    assert_eq!(ended.code, Some(0), "{}", ended.output);
    assert!(ended.orphans.is_empty(), "{:?}", ended.orphans);
}

/// The caller's calls to the victim's `ping`, counted where they are made (the caller serves
/// nothing), rise, with their latency; the victim made none.
fn calls_made_rise(dashboard: &Dashboard) {
    let ping = |nodes: &[Value]| -> Option<Value> {
        let made = node(nodes, "caller")["made"].as_array()?.clone();
        made.into_iter()
            .find(|c| c["callee"] == "victim" && c["method"] == "ping")
    };
    let calls = |nodes: &[Value]| ping(nodes).and_then(|p| p["calls"].as_u64());
    let first = dashboard.nodes_when(|nodes| calls(nodes) > Some(0));
    let later = dashboard.nodes_when(|nodes| calls(nodes) > calls(&first));
    let caller = node(&later, "caller");
    let ping = ping(&later).expect("the caller's pings");
    assert!(ping["p50_seconds"].as_f64() > Some(0.0), "{ping:#}");
    assert!(
        ping["p99_seconds"].as_f64() >= ping["p50_seconds"].as_f64(),
        "{ping:#}"
    );
    assert_eq!(ping["errors"], 0, "{ping:#}");
    assert!(
        caller["calls_made"].as_u64() >= ping["calls"].as_u64(),
        "{caller:#}"
    );
    assert_eq!(caller["calls"], 0, "the caller serves nothing: {caller:#}");
    assert_eq!(node(&later, "victim")["made"], serde_json::json!([]));
}

/// The victim's slowest recent calls are the caller's pings, each naming its trace and the
/// nodes it went through: the caller, then the victim.
fn slowest_calls_name_their_chain(dashboard: &Dashboard) {
    let nodes = dashboard.nodes_when(|nodes| {
        node(nodes, "victim")["slowest"]
            .as_array()
            .is_some_and(|calls| !calls.is_empty())
    });
    let calls = node(&nodes, "victim")["slowest"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(calls.len() <= 5, "{calls:#?}");
    for call in &calls {
        assert_eq!(call["method"], "ping", "{call:#}");
        assert_eq!(
            call["chain"],
            serde_json::json!(["caller", "victim"]),
            "{call:#}"
        );
        let trace = call["trace"].as_str().unwrap_or_default();
        assert!(
            trace.len() == 16 && trace.chars().all(|c| c.is_ascii_hexdigit()),
            "{call:#}"
        );
        assert!(call["seconds"].as_f64() > Some(0.0), "{call:#}");
    }
    let seconds: Vec<f64> = calls.iter().filter_map(|c| c["seconds"].as_f64()).collect();
    assert!(
        seconds.windows(2).all(|w| w[0] >= w[1]),
        "slowest first: {seconds:?}"
    );
    assert_eq!(node(&nodes, "caller")["slowest"], serde_json::json!([]));
}

/// No token: 401; a wrong one: 403; in the header: served. Malformed requests are refused.
fn refuses_without_the_token(dashboard: &Dashboard) {
    let addr = dashboard.addr.as_str();
    // The token with its first digit changed.
    let first = if dashboard.token.starts_with('0') {
        '1'
    } else {
        '0'
    };
    let wrong = format!("{first}{}", &dashboard.token[1..]);
    for path in [
        "/",
        "/api/nodes",
        "/api/program",
        "/metrics",
        "/api/events",
        "/api/logs/caller",
    ] {
        assert_eq!(get(addr, path, "").status, 401, "{path}");
        assert_eq!(get(addr, &format!("{path}?token={wrong}"), "").status, 403);
    }
    let bearer = format!("Authorization: Bearer {}\r\n", dashboard.token);
    assert_eq!(get(addr, "/api/program", &bearer).status, 200);
    let post = exchange(addr, b"POST /api/program HTTP/1.1\r\n\r\n");
    assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
    let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    let huge = exchange(addr, huge.as_bytes());
    assert!(huge.starts_with("HTTP/1.1 431 "), "{huge}");
    let garbage = exchange(
        addr,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    );
    assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
}

/// `/metrics` has every family, and `promtool check metrics` finds nothing to say.
fn metrics_pass_promtool(dashboard: &Dashboard) {
    let metrics = dashboard.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .content_type
            .starts_with("text/plain; version=0.0.4"),
        "{metrics:?}"
    );
    for family in [
        "lp_program_start_time_seconds",
        "lp_calls_total",
        "lp_call_errors_total",
        "lp_call_duration_seconds",
        "lp_calls_made_total",
        "lp_calls_made_errors_total",
        "lp_calls_made_duration_seconds",
        "lp_node_restarts_total",
        "lp_node_state",
        "lp_node_cpu_seconds_total",
        "lp_node_resident_memory_bytes",
    ] {
        assert!(
            metrics.body.contains(&format!("# TYPE {family} ")),
            "{family}: {}",
            metrics.body
        );
    }
    for line in [
        "lp_node_state{node=\"caller\",state=\"running\"} 1",
        "lp_calls_made_total{node=\"caller\",callee=\"victim\",method=\"ping\"} ",
    ] {
        assert!(metrics.body.contains(line), "{line}: {}", metrics.body);
    }
    if !tool_available("promtool") {
        return;
    }
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    check
        .stdin
        .take()
        .expect("its stdin")
        .write_all(metrics.body.as_bytes())
        .expect("promtool reads the metrics");
    let out = check.wait_with_output().expect("promtool ends");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {out:?}\n{}",
        metrics.body
    );
}

#[test]
fn a_local_mt_launch_serves_its_nodes_in_its_own_process_and_off_serves_none() {
    let (launched, dashboard) = start_calls("local_mt", &["--lp_dashboard", "127.0.0.1:0"]);
    let nodes = dashboard.nodes_when(all_up);
    for n in &nodes {
        assert_eq!(n["pid"], launched.pid(), "{n:#}");
    }
    assert_eq!(node(&nodes, "victim")["kind"], "courier");
    assert_eq!(node(&nodes, "caller")["kind"], "worker");
    assert_eq!(
        dashboard.get("/api/program").json()["launch_type"],
        "local_mt"
    );
    calls_made_rise(&dashboard);
    slowest_calls_name_their_chain(&dashboard);
    launched.signal(rustix::process::Signal::TERM);
    assert_eq!(launched.wait(Duration::from_secs(30)).code, Some(0));

    let mut off = Launched::start(
        "faults",
        &["--lp_launch_type", "local_mt", "--lp_dashboard", "off"],
        &[],
    );
    off.wait_for("sprinter", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!off.output().contains("dashboard"), "{}", off.output());
    off.signal(rustix::process::Signal::TERM);
    assert_eq!(off.wait(Duration::from_secs(30)).code, Some(0));
}

fn on_loopback() -> LaunchOptions {
    LaunchOptions::new().dashboard(Some("127.0.0.1:0".parse().expect("an address")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_a_node_s_log_lines_are_kept_and_tests_serve_no_dashboard_unless_asked() {
    let program = make_program(Params::default());
    let quiet = lp::launch_with(program, LaunchType::TestMt, LaunchOptions::new())
        .await
        .expect("launch");
    assert!(
        quiet.dashboard_url().is_none(),
        "tests serve no dashboard unless asked"
    );
    quiet.stop().await.expect("a clean stop");

    let mut program = make_program(Params::default());
    program.caller.disable_run();
    let victim = program.victim.id();
    let running = lp::launch_with(program, LaunchType::TestMt, on_loopback())
        .await
        .expect("launch");
    let dashboard = Dashboard::from_url(running.dashboard_url().expect("a dashboard"));
    assert_eq!(running.handle(victim).chatter(3).await.expect("a call"), 3);
    let logs = tokio::task::spawn_blocking(move || dashboard.get("/api/logs/victim").json())
        .await
        .expect("the request");
    let lines: Vec<&str> = logs["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let chatter = lines
        .iter()
        .filter(|l| l.starts_with("victim: chatter chatter"))
        .count();
    assert_eq!(chatter, 3, "{lines:#?}");
    assert!(
        lines.iter().all(|l| l.len() <= 1024),
        "lines are cut to 1 KiB"
    );
    running.stop().await.expect("a clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_view_of_a_failed_program_names_the_failure() {
    let program = make_program(Params {
        mode: "panic_run".into(),
        ..Params::default()
    });
    let running = lp::launch_with(program, LaunchType::TestMt, on_loopback())
        .await
        .expect("launch");
    let dashboard = Dashboard::from_url(running.dashboard_url().expect("a dashboard"));
    let until = Instant::now() + Duration::from_secs(30);
    while !running.is_stopping() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let program = tokio::task::spawn_blocking(move || {
        let program = dashboard.get("/api/program").json();
        let nodes = dashboard.nodes_when(|nodes| node(nodes, "caller")["state"] == "failed");
        (program, nodes)
    })
    .await
    .expect("the requests");
    let (program, nodes) = program;
    assert_eq!(program["state"], "failed", "{program:#}");
    assert_eq!(program["failure"]["node"], "caller", "{program:#}");
    assert!(program["failure"]["error"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    let caller = node(&nodes, "caller");
    assert!(
        caller["outcome"]
            .as_str()
            .is_some_and(|o| o.starts_with("panicked")),
        "{caller:#}"
    );
    assert!(running.stop().await.is_err());
}

#[test]
fn the_page_shows_every_node_live_in_chromium() {
    let Some(chromium) = chromium() else {
        return;
    };
    let (launched, dashboard) = start_calls("local_mp", &[]);
    dashboard.nodes_when(all_up);
    let mut browser = Browser::open(&chromium, &dashboard.url());
    let cards = "JSON.stringify([...document.querySelectorAll('.node')].map(n => ({label: n.dataset.label, \
        state: n.dataset.state, uptime: +n.dataset.uptime, cpu: +n.dataset.cpu, calls: +n.dataset.calls, \
        made: +n.dataset.made, log: n.querySelector('.log').textContent, \
        made_to: [...n.querySelectorAll('table.made tr[data-callee]')].map(r => r.dataset.callee + ' ' + r.dataset.method), \
        chains: [...new Set([...n.querySelectorAll('.slowest li')].map(l => l.dataset.chain))]})))";
    let first = browser.until(cards, |cards| {
        cards.as_array().is_some_and(|c| c.len() == LABELS.len())
    });
    for label in LABELS {
        let card = node(first.as_array().expect("cards"), label);
        assert!(
            ["running", "serving"].contains(&card["state"].as_str().unwrap_or_default()),
            "{card:#}"
        );
    }
    let sum = |cards: &Value, key: &str| -> f64 {
        cards
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c[key].as_f64())
            .sum()
    };
    // Uptime, CPU, the victim's calls and the caller's rise, live.
    let later = browser.until(cards, |cards| {
        sum(cards, "uptime") > sum(&first, "uptime") + 1.0
            && sum(cards, "cpu") > sum(&first, "cpu")
            && sum(cards, "calls") > sum(&first, "calls")
            && sum(cards, "made") > sum(&first, "made")
    });
    let caller = node(later.as_array().expect("cards"), "caller");
    assert_eq!(
        caller["made_to"],
        serde_json::json!(["victim ping"]),
        "{caller:#}"
    );
    let victim = browser.until(cards, |cards| {
        cards
            .as_array()
            .is_some_and(|cards| node(cards, "victim")["chains"] != serde_json::json!([]))
    });
    let victim = node(victim.as_array().expect("cards"), "victim");
    assert_eq!(
        victim["chains"],
        serde_json::json!(["caller → victim"]),
        "{victim:#}"
    );
    assert!(
        caller["log"]
            .as_str()
            .is_some_and(|l| l.contains("calls ok")),
        "{caller:#}"
    );
    let header = browser.evaluate("document.getElementById('program-state').textContent");
    assert_eq!(header, "running");
    let shot = workspace().join("target/dashboard/dashboard.png");
    browser.screenshot(&shot);
    eprintln!("screenshot: {}", shot.display());
    launched.signal(rustix::process::Signal::TERM);
    assert_eq!(launched.wait(Duration::from_secs(30)).code, Some(0));
}

/// The README's picture: the `actor_learner` example's page, every node serving or running
/// and calls counted; written to `target/dashboard/actor_learner.png` (docs/dashboard.png is
/// a copy of it).
#[test]
fn the_actor_learner_page_in_chromium() {
    let Some(chromium) = chromium() else {
        return;
    };
    let args = ["--lp_launch_type", "local_mp", "--num_steps", "1000000"];
    let mut launched = Launched::start("actor_learner", &args, &[]);
    launched.wait_for("lp: dashboard at ", Duration::from_secs(60));
    let dashboard = Dashboard::printed(&launched.output());
    // Every node up; the learner and the replay buffer serve calls (the actors make them).
    let labels = [
        "actor/0", "actor/1", "actor/2", "actor/3", "learner", "replay",
    ];
    let served = ["learner", "replay"];
    let ready = |cards: &[Value], calls: &str| {
        labels.iter().all(|label| {
            cards.iter().any(|c| {
                c["label"] == *label
                    && (c["state"] == "running" || c["state"] == "serving")
                    && (!served.contains(label) || c[calls].as_f64() > Some(0.0))
            })
        })
    };
    dashboard.nodes_when(|nodes| ready(nodes, "calls"));
    let mut browser = Browser::open(&chromium, &dashboard.url());
    let cards = "JSON.stringify([...document.querySelectorAll('.node')].map(n => \
        ({label: n.dataset.label, state: n.dataset.state, calls: +n.dataset.calls})))";
    browser.until(cards, |cards| {
        cards.as_array().is_some_and(|cards| ready(cards, "calls"))
    });
    let shot = workspace().join("target/dashboard/actor_learner.png");
    browser.screenshot(&shot);
    eprintln!("screenshot: {}", shot.display());
    launched.signal(rustix::process::Signal::TERM);
    // The bound counts from the launch.
    let ended = launched.wait(Duration::from_secs(180));
    assert_eq!(ended.code, Some(0), "{}", ended.output);
}

/// The chromium binary, if installed (under `CI=true` it must be).
fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(str::to_string)
        .or_else(|| {
            tool_available("chromium");
            None
        })
}

/// A headless chromium showing one page, driven over the DevTools protocol.
struct Browser {
    process: std::process::Child,
    socket: websocket::Socket,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Browser {
    fn open(chromium: &str, url: &str) -> Browser {
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut process = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg("--remote-debugging-port=0")
            .arg("--window-size=1400,1000")
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("chromium starts");
        let stderr = process.stderr.take().expect("its stderr");
        let port = devtools_port(stderr);
        let list = get(&format!("127.0.0.1:{port}"), "/json/list", "");
        let targets: Value = serde_json::from_str(&list.body).expect("the targets");
        let page = targets
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .unwrap_or_else(|| panic!("no page in {targets:#}"))
            .to_string();
        let socket = websocket::Socket::connect(&page);
        Browser {
            process,
            socket,
            next_id: 0,
            _profile: profile,
        }
    }

    /// Calls DevTools method `method`; its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = serde_json::json!({"id": id, "method": method, "params": params});
        self.socket.send(&message.to_string());
        loop {
            let reply: Value = serde_json::from_str(&self.socket.receive()).expect("JSON");
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {reply:#}");
                return reply["result"].clone();
            }
        }
    }

    /// The value of `expression` in the page.
    fn evaluate(&mut self, expression: &str) -> Value {
        let params = serde_json::json!({"expression": expression, "returnByValue": true});
        self.call("Runtime.evaluate", params)["result"]["value"].clone()
    }

    /// Evaluates `expression` (a JSON string) until `ready` holds (within 30 s); its value.
    fn until(&mut self, expression: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let value = || {
            let text = self.evaluate(expression);
            serde_json::from_str(text.as_str().unwrap_or("null")).unwrap_or(Value::Null)
        };
        let (limit, every) = (Duration::from_secs(30), Duration::from_millis(200));
        lp_tests::support::poll_until(limit, every, value, ready)
    }

    /// Saves a PNG of the page to `path`.
    fn screenshot(&mut self, path: &std::path::Path) {
        let shot = self.call(
            "Page.captureScreenshot",
            serde_json::json!({"format": "png"}),
        );
        let png = base64(shot["data"].as_str().expect("image data"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the artifact directory");
        }
        std::fs::write(path, png).expect("the screenshot is written");
    }
}

/// The port chromium's DevTools listen on, from its `DevTools listening on ws://…` line.
fn devtools_port(stderr: std::process::ChildStderr) -> u16 {
    use std::io::BufRead;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.split("ws://127.0.0.1:").nth(1) {
                let port = rest.split('/').next().and_then(|p| p.parse::<u16>().ok());
                let _ = sender.send(port);
            }
        }
    });
    receiver
        .recv_timeout(Duration::from_secs(30))
        .ok()
        .flatten()
        .expect("chromium says where its DevTools listen")
}

/// Decodes standard base64.
fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .map(value)
        .collect();
    digits
        .chunks(4)
        .flat_map(|chunk| {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            bytes.into_iter().take(chunk.len().saturating_sub(1))
        })
        .collect()
}

/// The least of a WebSocket client (RFC 6455) the DevTools protocol needs: the opening
/// handshake, masked text frames out, text frames (maybe fragmented) in.
mod websocket {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    pub struct Socket(TcpStream);

    impl Socket {
        /// Opens `ws://HOST:PORT/PATH`.
        pub fn connect(url: &str) -> Socket {
            let rest = url.strip_prefix("ws://").expect("a ws:// URL");
            let (host, path) = rest.split_once('/').expect("a path");
            let mut stream = TcpStream::connect(host).expect("DevTools accept");
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .expect("a timeout");
            let request = format!(
                "GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            );
            stream
                .write_all(request.as_bytes())
                .expect("the handshake is sent");
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                stream
                    .read_exact(&mut byte)
                    .expect("the handshake's answer");
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head);
            assert!(head.starts_with("HTTP/1.1 101"), "{head}");
            Socket(stream)
        }

        /// Sends `text` in one masked frame.
        pub fn send(&mut self, text: &str) {
            let payload = text.as_bytes();
            let mut frame = vec![0x81];
            match payload.len() {
                n if n < 126 => frame.push(0x80 | n as u8),
                n if n <= 0xffff => {
                    frame.push(0x80 | 126);
                    frame.extend_from_slice(&(n as u16).to_be_bytes());
                }
                n => {
                    frame.push(0x80 | 127);
                    frame.extend_from_slice(&(n as u64).to_be_bytes());
                }
            }
            let mask = [0x12, 0x34, 0x56, 0x78];
            frame.extend_from_slice(&mask);
            frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
            self.0.write_all(&frame).expect("the frame is sent");
        }

        /// The next text message (its fragments joined); control frames are skipped.
        pub fn receive(&mut self) -> String {
            let mut message = Vec::new();
            loop {
                let mut head = [0u8; 2];
                self.0.read_exact(&mut head).expect("a frame");
                let (fin, opcode) = (head[0] & 0x80 != 0, head[0] & 0x0f);
                let len = match head[1] & 0x7f {
                    126 => {
                        let mut n = [0u8; 2];
                        self.0.read_exact(&mut n).expect("a length");
                        u64::from(u16::from_be_bytes(n))
                    }
                    127 => {
                        let mut n = [0u8; 8];
                        self.0.read_exact(&mut n).expect("a length");
                        u64::from_be_bytes(n)
                    }
                    n => u64::from(n),
                };
                let mut payload = vec![0u8; usize::try_from(len).expect("a length that fits")];
                self.0.read_exact(&mut payload).expect("a payload");
                if opcode >= 0x8 {
                    continue;
                }
                message.extend_from_slice(&payload);
                if fin {
                    return String::from_utf8(message).expect("a text message");
                }
            }
        }
    }
}
