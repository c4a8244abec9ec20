//! `lpc top`: the terminal view of a running launch, attached by its dashboard URL or its
//! launch directory; one frame with `--once`, and live under tmux (`capture-pane`), quitting
//! on `q`; the slowest recent calls of the node selected (`--node`, arrows), with the nodes
//! their traces went through.

use std::process::Command;
use std::time::{Duration, Instant};

use lp_tests::launched::Launched;
use lp_tests::support::{binary, tool_available};
use rustix::process::Signal;

/// The `faults` program under `local_mp`, its caller calling; the dashboard URL it printed.
fn launch() -> (Launched, String) {
    let mut run = Launched::start(
        "faults",
        &["--lp_launch_type", "local_mp", "--mode", "calls"],
        &[],
    );
    run.wait_for("caller: 500 calls ok", Duration::from_secs(60));
    let url = run
        .output()
        .lines()
        .find_map(|l| l.strip_prefix("lp: dashboard at ").map(str::to_string))
        .expect("the dashboard line");
    (run, url)
}

/// Every node of the program is in `frame`, with a state.
fn shows_every_node(frame: &str) {
    for label in lp_tests::fault_nodes::LABELS {
        assert!(
            frame.lines().any(|l| l.starts_with(label)),
            "{label} in:\n{frame}"
        );
    }
    assert!(frame.contains("faults (local_mp"), "{frame}");
    assert!(
        frame.contains("serving") && frame.contains("running"),
        "{frame}"
    );
    assert!(frame.contains("MADE"), "{frame}");
}

/// The calls the caller made, as the last column of its row says.
fn caller_made(frame: &str) -> Option<u64> {
    let caller = frame.lines().find(|l| l.starts_with("caller "))?;
    caller.split_whitespace().last()?.parse().ok()
}

/// Takes frames until `shows` holds of one (a process publishes its counters every half
/// second); that frame.
fn until(frame: impl Fn() -> String, shows: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let frame = frame();
        if shows(&frame) {
            return frame;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{frame}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Takes frames until the caller's calls made show; that frame.
fn until_calls_made(frame: impl Fn() -> String) -> String {
    until(frame, |frame| caller_made(frame) > Some(0))
}

/// The slowest calls `victim` served are shown: `ping`s, each traced from the caller.
fn shows_victims_slowest_calls(frame: &str) -> bool {
    let mut section = frame
        .lines()
        .skip_while(|l| !l.starts_with("slowest calls served by `victim`"));
    section.next().is_some()
        && section.any(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            cells.get(1..) == Some(&["ping", "ok", "caller", "→", "victim"][..])
        })
}

fn lpc_top(args: &[&str]) -> std::process::Output {
    Command::new(binary("lpc"))
        .arg("top")
        .args(args)
        .output()
        .expect("lpc runs")
}

#[test]
fn one_frame_by_url_or_launch_directory() {
    let (run, url) = launch();
    for target in [url.clone(), run.launch_dir().display().to_string()] {
        let frame = until_calls_made(|| {
            let out = lpc_top(&["--once", &target]);
            assert!(out.status.success(), "{target}: {out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        });
        shows_every_node(&frame);
    }
    let once = |args: &[&str]| {
        let out = lpc_top(&[&["--once", &url], args].concat());
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The first node (`victim`) is selected by default; `--node` selects another.
    until(|| once(&[]), shows_victims_slowest_calls);
    let caller = once(&["--node", "caller"]);
    assert!(
        caller.contains("slowest calls served by `caller`")
            && caller.ends_with("none traced yet\n"),
        "a worker serves no calls: {caller}"
    );
    // A wrong token, a URL that is not one, a directory that is not a launch, a node that is
    // not one: a clear error.
    let wrong = url.replace("token=", "token=0");
    let no_node = format!("{url} --node nobody");
    for (target, says) in [
        (wrong.as_str(), "403"),
        ("http://127.0.0.1:1", "not a dashboard URL"),
        (
            "/",
            "not a dashboard URL (http://HOST:PORT/?token=…) nor a launch directory",
        ),
        (no_node.as_str(), "the launch has no node `nobody`"),
    ] {
        let out = lpc_top(&[&["--once"], &target.split(' ').collect::<Vec<_>>()[..]].concat());
        let error = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{target}: {out:?}");
        assert!(error.contains(says), "{target}: {error}");
    }
    run.signal(Signal::TERM);
    let ended = run.wait(Duration::from_secs(30));
    assert_eq!(ended.code, Some(0), "{}", ended.output);
}

fn tmux(args: &[&str]) -> std::process::Output {
    Command::new("tmux").args(args).output().expect("tmux runs")
}

#[test]
fn live_under_tmux_until_q() {
    if !tool_available("tmux") {
        return;
    }
    let (run, url) = launch();
    let tmp = tempfile::tempdir().expect("temp dir");
    let socket = tmp.path().join("tmux.sock");
    let socket = socket.to_str().expect("a UTF-8 path");
    let top = format!("{} top {url}", binary("lpc").display());
    let started = tmux(&[
        "-S",
        socket,
        "new-session",
        "-d",
        "-x",
        "160",
        "-y",
        "40",
        "-s",
        "top",
        &top,
    ]);
    assert!(started.status.success(), "{started:?}");
    let pane = || {
        let captured = tmux(&["-S", socket, "capture-pane", "-p", "-t", "top"]);
        String::from_utf8_lossy(&captured.stdout).into_owned()
    };
    let start = Instant::now();
    while !pane().contains("caller") {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", pane());
        std::thread::sleep(Duration::from_millis(100));
    }
    shows_every_node(&until_calls_made(pane));
    // The first node is selected: its slowest calls show; the down arrow selects the next.
    until(pane, shows_victims_slowest_calls);
    let _ = tmux(&["-S", socket, "send-keys", "-t", "top", "Down"]);
    until(pane, |frame| {
        frame.contains("slowest calls served by `phoenix/0`") && !frame.contains("`victim`")
    });
    let _ = tmux(&["-S", socket, "send-keys", "-t", "top", "q"]);
    let start = Instant::now();
    while tmux(&["-S", socket, "has-session", "-t", "top"])
        .status
        .success()
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "q quits: {}",
            pane()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = tmux(&["-S", socket, "kill-server"]);
    run.signal(Signal::TERM);
    let ended = run.wait(Duration::from_secs(30));
    assert_eq!(ended.code, Some(0), "{}", ended.output);
}
