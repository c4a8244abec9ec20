//! `--lp_terminal tmux`: one tmux window per node process, following its log; the session
//! closes with the launch. Uses a private tmux server (`TMUX_TMPDIR`).

use std::process::Command;
use std::time::Duration;

use lp::{LaunchOptions, LaunchType, Terminal};
use lp_tests::restarts::{make_program, Params};
use lp_tests::support::tool_available;

fn tmux(args: &[&str]) -> std::process::Output {
    Command::new("tmux").args(args).output().expect("tmux runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_window_per_node_process_following_its_log() {
    if !tool_available("tmux") {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    // A private tmux server, so the test neither needs nor disturbs the user's.
    std::env::set_var("TMUX_TMPDIR", tmp.path());
    let logs = tmp.path().join("logs");
    let attempts = tmp.path().join("attempts");
    let program = make_program(Params {
        attempts_file: attempts.display().to_string(),
        failures: 1,
    });
    let options = LaunchOptions::new()
        .binary(env!("CARGO_BIN_EXE_restarts"))
        .terminal(Terminal::Tmux(logs.clone()));
    let running = lp::launch_with(program, LaunchType::TestMp, options)
        .await
        .expect("launch");
    let session = format!("lp-restarts-{}", std::process::id());

    let listed = tmux(&["list-windows", "-t", &session, "-F", "#{window_name}"]);
    let mut windows: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    windows.sort();
    assert_eq!(windows, ["crasher", "flaky/0", "flaky/1"], "{listed:?}");

    // The crasher's first attempt fails (then it is restarted): its window shows the error.
    let mut pane = String::new();
    for _ in 0..100 {
        let captured = tmux(&["capture-pane", "-p", "-t", &format!("{session}:crasher")]);
        pane = String::from_utf8_lossy(&captured.stdout).into_owned();
        if pane.contains("attempt 1 of `crasher` fails on purpose") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        pane.contains("attempt 1 of `crasher` fails on purpose"),
        "the window follows the node's log:\n{pane}"
    );
    let log = std::fs::read_to_string(logs.join("crasher.log")).expect("the log file");
    assert!(log.contains("fails on purpose"), "{log}");

    running.stop().await.expect("clean stop");
    let gone = tmux(&["has-session", "-t", &session]);
    assert!(!gone.status.success(), "the session closes with the launch");
    let _ = tmux(&["kill-server"]);
}
