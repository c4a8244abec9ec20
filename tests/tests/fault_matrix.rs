//! The fault matrix: every fault × the launch types it applies to (`local_mt`, `local_mp`, and
//! the pods of a Kubernetes launch, run by [`lp_tests::pods`]) → the outcome and its bound.
//! docs/runtime.md shows it as a table; a test here checks that the table names every fault.
//!
//! Each fault is done to the `faults` program (`tests/faults.lp`) from outside, as an operator
//! or an attacker would: signals, `kill -9`, connections to its sockets. Every row checks that
//! nothing hangs (the run ends within its bound), that no process outlives the program, that
//! nothing ran without the launch secret (every `ping` the victim runs is printed), that memory
//! stays bounded where a peer could inflate it, and the exit status docs/launch.md documents.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use lp_tests::fault_nodes::calls_ok;
use lp_tests::launched::{rss_kib, Ended, Launched};
use lp_tests::pods::{self, Pods};
use rustix::process::Signal;

/// The grace period of every row (`--lp_termination_notice_secs`).
const GRACE: &str = "2";

/// The launch types of a local row.
const LOCAL: &[&str] = &["local_mt", "local_mp"];

/// Launches the `faults` program as `launch` with the extra flags `args`.
fn launch(launch: &str, args: &[&str], env: &[(&str, &str)]) -> Launched {
    let mut all = vec![
        "--lp_launch_type",
        launch,
        "--lp_termination_notice_secs",
        GRACE,
    ];
    all.extend_from_slice(args);
    Launched::start("faults", &all, env)
}

/// What every row checks of how the program ended.
struct Expect<'a> {
    /// The exit code (`None`: ended by a signal).
    code: Option<i32>,
    /// Within how long of the launch.
    within: Duration,
    /// Text the output must contain (e.g. the failed node's name and why).
    says: &'a [&'a str],
    /// A clean stop prints nothing at error level.
    quiet: bool,
}

fn check(row: &str, ended: &Ended, expect: Expect) {
    let context = || format!("{row}: {ended:#?}\n--- output\n{}", ended.output);
    assert_eq!(ended.code, expect.code, "exit status of {}", context());
    assert!(
        ended.elapsed <= expect.within,
        "took {:?}, more than {:?}: {}",
        ended.elapsed,
        expect.within,
        context()
    );
    assert!(ended.orphans.is_empty(), "orphans: {}", context());
    for says in expect.says {
        assert!(
            ended.output.contains(says),
            "expected `{says}`: {}",
            context()
        );
    }
    if expect.quiet {
        assert!(
            !ended.output.contains(" panicked at "),
            "a panic's message: {}",
            context()
        );
        for noise in ["error", "ERROR", "failed", "panicked", "WARN"] {
            let noisy: Vec<&str> = ended
                .output
                .lines()
                .filter(|l| l.contains(noise) && !l.contains("calls ok, 0 failed"))
                .collect();
            assert!(
                noisy.is_empty(),
                "a clean stop is quiet, not {noisy:?}: {}",
                context()
            );
        }
    }
}

/// A clean stop within the grace period and a bit.
fn stopped_cleanly(within: Duration) -> Expect<'static> {
    Expect {
        code: Some(0),
        within,
        says: &[],
        quiet: true,
    }
}

/// The failure of `says` (the failing node and why), exit status 1.
fn failed<'a>(within: Duration, says: &'a [&'a str]) -> Expect<'a> {
    Expect {
        code: Some(1),
        within,
        says,
        quiet: false,
    }
}

#[test]
fn a_killed_node_mid_call_fails_the_program_naming_it() {
    let mut run = launch("local_mp", &["--mode", "calls"], &[]);
    run.wait_for("caller: 500 calls ok", Duration::from_secs(30));
    lp_tests::launched::send(run.pid_of("victim"), Signal::KILL);
    let ended = run.wait(Duration::from_secs(30));
    check(
        "kill -9 of a node",
        &ended,
        failed(Duration::from_secs(30), &["error: node `", "victim"]),
    );
    let last = ended.output.lines().last().unwrap_or_default().to_string();
    assert!(
        last.contains("victim") && !last.contains("phoenix"),
        "the last word names the victim: {last}"
    );
}

#[test]
fn a_killed_restartable_node_comes_back_and_calls_go_on() {
    let mut run = launch("local_mp", &["--mode", "chaos", "--target", "phoenix"], &[]);
    run.wait_for("caller: 500 calls ok", Duration::from_secs(30));
    let first = run.pid_of("phoenix");
    lp_tests::launched::send(first, Signal::KILL);
    let start = Instant::now();
    while run.pid_of("phoenix") == first {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{}",
            run.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = calls_ok(&run.output());
    while calls_ok(&run.output()) < before + 1000 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "calls go on after the restart: {}",
            run.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    run.signal(Signal::TERM);
    let ended = run.wait(Duration::from_secs(60));
    check(
        "kill -9 of a restartable node",
        &ended,
        Expect {
            code: Some(0),
            within: Duration::from_secs(60),
            says: &["restarting"],
            quiet: false,
        },
    );
}

#[test]
fn sigkill_of_the_launcher_leaves_no_process() {
    let mut run = launch("local_mp", &["--mode", "calls"], &[]);
    run.wait_for("caller: 500 calls ok", Duration::from_secs(30));
    run.signal(Signal::KILL);
    let ended = run.wait(Duration::from_secs(30));
    check(
        "SIGKILL of the launcher",
        &ended,
        Expect {
            code: None,
            within: Duration::from_secs(30),
            says: &[],
            quiet: false,
        },
    );
}

#[test]
fn sigterm_of_the_launcher_stops_cleanly_and_quietly() {
    for launch_type in LOCAL {
        let mut run = launch(launch_type, &["--mode", "calls"], &[]);
        run.wait_for("caller: 500 calls ok", Duration::from_secs(30));
        let asked = Instant::now();
        run.signal(Signal::TERM);
        let ended = run.wait(Duration::from_secs(60));
        check(
            launch_type,
            &ended,
            stopped_cleanly(Duration::from_secs(60)),
        );
        assert!(
            asked.elapsed() < Duration::from_secs(4),
            "{launch_type}: within the grace"
        );
    }
}

/// The `faults` program with a caller that ignores the stop and a grace period of `notice`
/// seconds, once the caller is up.
fn ignoring_the_stop(launch_type: &str, notice: &str) -> Launched {
    let mut run = Launched::start(
        "faults",
        &[
            "--lp_launch_type",
            launch_type,
            "--lp_termination_notice_secs",
            notice,
            "--mode",
            "ignore_stop",
        ],
        &[],
    );
    run.wait_for("caller up", Duration::from_secs(30));
    run
}

#[test]
fn a_second_interrupt_kills_at_once() {
    for launch_type in LOCAL {
        let mut run = ignoring_the_stop(launch_type, "600");
        run.signal(Signal::INT);
        run.wait_for("again to kill", Duration::from_secs(10));
        let asked = Instant::now();
        run.signal(Signal::INT);
        let ended = run.wait(Duration::from_secs(30));
        check(
            launch_type,
            &ended,
            Expect {
                code: Some(130),
                within: Duration::from_secs(30),
                says: &["killing every node"],
                quiet: false,
            },
        );
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "{launch_type}: at once"
        );
    }
}

#[test]
fn a_zero_notice_kills_at_once_and_is_no_failure() {
    for launch_type in LOCAL {
        let run = ignoring_the_stop(launch_type, "0");
        run.signal(Signal::TERM);
        let ended = run.wait(Duration::from_secs(10));
        check(
            launch_type,
            &ended,
            stopped_cleanly(Duration::from_secs(10)),
        );
    }
}

#[test]
fn panics_in_a_constructor_a_method_and_a_run_fail_the_program_naming_the_node() {
    let rows: &[(&[&str], &[&str])] = &[
        (
            &["--construct", "panic"],
            &["node `victim` failed: its constructor panicked: victim: the constructor exploded"],
        ),
        (
            &["--construct", "fail"],
            &["node `victim` failed: its constructor failed: victim: the constructor gave up"],
        ),
        (
            &["--mode", "panic_method"],
            &["node `caller` failed: `boom` on `victim` panicked: victim: the method exploded"],
        ),
        (
            &["--mode", "panic_run"],
            &["node `caller` failed: run panicked: caller: the run exploded"],
        ),
    ];
    for launch_type in LOCAL {
        for (args, says) in rows {
            let ended = launch(launch_type, args, &[]).wait(Duration::from_secs(30));
            let row = format!("{launch_type} {args:?}");
            check(&row, &ended, failed(Duration::from_secs(30), says));
        }
    }
}

#[test]
fn a_constructor_that_never_returns_fails_the_program_after_the_ready_timeout() {
    for launch_type in LOCAL {
        let ended = launch(
            launch_type,
            &["--construct", "hang"],
            &[("LP_READY_TIMEOUT_SECS", "2")],
        )
        .wait(Duration::from_secs(30));
        check(
            launch_type,
            &ended,
            failed(
                Duration::from_secs(15),
                &["node `victim` failed: not up after 2s: its constructor has not returned"],
            ),
        );
    }
}

#[test]
fn a_method_that_never_returns_is_cut_by_the_stop_or_its_deadline() {
    for launch_type in LOCAL {
        let mut run = launch(launch_type, &["--mode", "hang"], &[]);
        run.wait_for("caller up", Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(300));
        run.signal(Signal::TERM);
        let ended = run.wait(Duration::from_secs(30));
        check(
            launch_type,
            &ended,
            stopped_cleanly(Duration::from_secs(30)),
        );

        let ended =
            launch(launch_type, &["--mode", "hang_deadline"], &[]).wait(Duration::from_secs(30));
        check(
            launch_type,
            &ended,
            failed(
                Duration::from_secs(30),
                &["node `caller` failed: deadline exceeded calling `hang` on `victim`"],
            ),
        );
    }
}

/// The victim's socket in a `local_mp` launch (it is node 0).
fn victim_socket(run: &Launched) -> std::path::PathBuf {
    run.launch_dir().join("0.sock")
}

/// Reads until the peer closes; false when it is still open after `limit`.
fn closed_within(stream: &mut impl Read, limit: Duration) -> bool {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    while start.elapsed() < limit {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

/// What a hostile peer does before the handshake.
#[derive(Debug, Clone, Copy)]
enum Hostile {
    /// Bytes that are not a frame of lp's.
    Garbage,
    /// A header announcing a frame just under 128 MiB, then nothing.
    Oversized,
    /// A hello with a proof made from another secret.
    WrongSecret,
    /// One byte every 300 ms.
    Slow,
}

/// Does `what` on `stream`; whether the peer closed the connection within `limit`.
fn abuse<S: Read + Write>(stream: &mut S, what: Hostile, limit: Duration) -> bool {
    match what {
        Hostile::Garbage => {
            let garbage: Vec<u8> = (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            let _ = stream.write_all(&garbage);
        }
        Hostile::Oversized => {
            let _ = stream.write_all(&(128u32 << 20).saturating_sub(16).to_be_bytes());
        }
        Hostile::WrongSecret => {
            // A hello-shaped frame: variant 0, protocol 2, a 32-byte proof of nothing.
            let mut hello = vec![0u8, 2, 32];
            hello.extend_from_slice(&[7u8; 32]);
            let _ = stream.write_all(&(hello.len() as u32).to_be_bytes());
            let _ = stream.write_all(&hello);
        }
        Hostile::Slow => {
            let start = Instant::now();
            while start.elapsed() < limit {
                if stream.write_all(&[0]).is_err() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
            return false;
        }
    }
    closed_within(stream, limit)
}

#[test]
fn hostile_peers_before_the_handshake_run_nothing_and_cost_bounded_memory() {
    let mut run = launch("local_mp", &[], &[]);
    let victim = run.pid_of("victim");
    run.wait_for("launched 6/6 nodes", Duration::from_secs(30));
    let socket = victim_socket(&run);
    let before = rss_kib(victim);
    for what in [Hostile::Garbage, Hostile::Oversized, Hostile::WrongSecret] {
        let mut held = Vec::new();
        for _ in 0..8 {
            let mut stream = UnixStream::connect(&socket).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_millis(100)))
                .ok();
            assert!(
                abuse(&mut stream, what, Duration::from_secs(2)),
                "{what:?}: closed at once"
            );
            held.push(stream);
        }
    }
    let mut slow = UnixStream::connect(&socket).expect("connect");
    slow.set_read_timeout(Some(Duration::from_millis(100))).ok();
    assert!(
        abuse(&mut slow, Hostile::Slow, Duration::from_secs(8)),
        "a slow peer is dropped after the handshake timeout"
    );
    let grown = rss_kib(victim).saturating_sub(before);
    assert!(grown < 32 << 10, "the victim grew by {grown} KiB");
    run.signal(Signal::TERM);
    let ended = run.wait(Duration::from_secs(30));
    check(
        "hostile peers",
        &ended,
        stopped_cleanly(Duration::from_secs(60)),
    );
    assert!(
        !ended.output.contains("ping #"),
        "nothing ran: {}",
        ended.output
    );
}

#[test]
fn a_connection_flood_leaves_the_program_serving() {
    let mut run = launch("local_mp", &["--mode", "calls"], &[]);
    run.wait_for("caller: 500 calls ok", Duration::from_secs(30));
    let victim = run.pid_of("victim");
    let dir = run.launch_dir();
    let before = rss_kib(victim);
    let mut flood = Vec::new();
    for socket in [dir.join("0.sock"), dir.join("launcher.sock")] {
        for _ in 0..1000 {
            match UnixStream::connect(&socket) {
                Ok(stream) => flood.push(stream),
                Err(_) => break,
            }
        }
    }
    let ok = calls_ok(&run.output());
    let start = Instant::now();
    while calls_ok(&run.output()) < ok + 1000 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "calls go on during the flood: {}",
            run.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let grown = rss_kib(victim).saturating_sub(before);
    assert!(grown < 32 << 10, "the victim grew by {grown} KiB");
    drop(flood);
    run.signal(Signal::TERM);
    let ended = run.wait(Duration::from_secs(30));
    check(
        "connection flood",
        &ended,
        stopped_cleanly(Duration::from_secs(60)),
    );
}

#[test]
fn a_stop_reaches_every_process_with_the_launcher_out_of_descriptors() {
    let marker = tempfile::NamedTempFile::new().expect("temp file");
    let marker_path = marker.path().with_extension("go");
    let mut cmd = std::process::Command::new("prlimit");
    cmd.args(["--nofile=64:64", "--"])
        .arg(lp_tests::support::binary("faults"))
        .args([
            "--lp_launch_type",
            "local_mp",
            "--lp_termination_notice_secs",
            GRACE,
            "--mode",
            "stop_later",
        ])
        .env("FAULTS_MARKER", &marker_path)
        .env_remove("RUST_BACKTRACE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut run = Launched::spawn(cmd);
    run.wait_for("launched 6/6 nodes", Duration::from_secs(30));
    let control = run.launch_dir().join("launcher.sock");
    let mut flood = Vec::new();
    while lp_tests::launched::open_fds(run.pid()) < 62 && flood.len() < 500 {
        match UnixStream::connect(&control) {
            Ok(stream) => flood.push(stream),
            Err(_) => break,
        }
    }
    std::fs::write(&marker_path, b"go").expect("marker");
    let ended = run.wait(Duration::from_secs(30));
    let _ = std::fs::remove_file(&marker_path);
    check(
        "stop() with the launcher out of descriptors",
        &ended,
        Expect {
            code: Some(0),
            within: Duration::from_secs(30),
            says: &["node `caller` called stop()"],
            quiet: false,
        },
    );
    drop(flood);
}

#[test]
fn a_launch_over_the_descriptor_limit_is_refused_before_any_process_starts() {
    let mut cmd = std::process::Command::new("prlimit");
    cmd.args(["--nofile=40:40", "--"])
        .arg(lp_tests::support::binary("faults"))
        .args(["--lp_launch_type", "local_mp", "--mode", "calls"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let ended = Launched::spawn(cmd).wait(Duration::from_secs(30));
    check(
        "a launch too large for its descriptors",
        &ended,
        failed(
            Duration::from_secs(10),
            &["open files", "may have 40", "ulimit -n", "`process` blocks"],
        ),
    );
    assert!(
        !ended.output.contains(" up: pid "),
        "no node started: {}",
        ended.output
    );
}

#[test]
fn the_secret_is_in_no_process_environment() {
    let mut run = launch("local_mp", &[], &[]);
    run.wait_for("launched 6/6 nodes", Duration::from_secs(30));
    for name in ["victim", "caller"] {
        let pid = run.pid_of(name);
        let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
        let environ = String::from_utf8_lossy(&environ);
        assert!(
            !environ.contains("LP_SECRET="),
            "{name}'s environment holds the secret"
        );
        let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let hexes = |s: &str| {
            s.split(|c: char| !c.is_ascii_hexdigit())
                .any(|w| w.len() >= 64)
        };
        assert!(!hexes(&environ) && !hexes(&cmdline), "{name}: {environ:?}");
    }
    run.signal(Signal::TERM);
    check(
        "the secret",
        &run.wait(Duration::from_secs(30)),
        stopped_cleanly(Duration::from_secs(60)),
    );
}

/// Checks that every line of chatter in `output` is whole, with or without its prefix.
fn chatter_is_whole(output: &str, at_least: usize) {
    let whole = lp_tests::fault_nodes::chatter_line("victim");
    let chatter: Vec<&str> = output.lines().filter(|l| l.contains("chatter")).collect();
    assert!(chatter.len() >= at_least, "{} lines", chatter.len());
    for line in chatter {
        let rest = line.trim_end().strip_suffix(whole.trim_end());
        assert!(
            matches!(rest, Some("" | "[victim] ")),
            "a line mixed with another: {line:?}"
        );
    }
}

#[test]
fn every_line_of_local_mt_output_is_whole() {
    let ended = launch("local_mt", &["--mode", "chatter"], &[]).wait(Duration::from_secs(60));
    check(
        "whole lines",
        &ended,
        stopped_cleanly(Duration::from_secs(60)),
    );
    chatter_is_whole(&ended.output, 2400);
}

/// Runs the `faults` binary with its stdout and stderr on one pipe (`2>&1`), read slowly; what
/// it printed, and its exit status.
fn merged_and_read_slowly(args: &[&str]) -> (String, Option<i32>) {
    let (reader, writer) = rustix::pipe::pipe().expect("a pipe");
    let mut child = std::process::Command::new(lp_tests::support::binary("faults"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(writer.try_clone().expect("dup"))
        .stderr(writer)
        .spawn()
        .expect("spawned");
    let mut reader = std::fs::File::from(reader);
    let (mut output, mut chunk) = (Vec::new(), vec![0u8; 4096]);
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(120), "no end");
        match reader.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => output.extend_from_slice(&chunk[..n]),
        }
        std::thread::sleep(Duration::from_micros(300));
    }
    let status = child.wait().expect("waited");
    (String::from_utf8_lossy(&output).into_owned(), status.code())
}

#[test]
fn every_line_of_local_mp_output_is_whole_on_one_slow_pipe() {
    let (output, code) = merged_and_read_slowly(&[
        "--lp_launch_type",
        "local_mp",
        "--lp_termination_notice_secs",
        GRACE,
        "--mode",
        "chatter",
    ]);
    assert_eq!(code, Some(0), "{output}");
    chatter_is_whole(&output, 2400);
    for line in output.lines().filter(|l| !l.contains("chatter")) {
        assert!(
            line.starts_with("lp: ") || line.starts_with('['),
            "a line that is not whole: {line:?}"
        );
    }
}

/// The pods rows: the same program as pods of its Kubernetes manifests.
mod on_pods {
    use super::*;

    fn start(args: &[&str], env: &[(&str, &str)]) -> (tempfile::TempDir, Pods) {
        let mut all = vec!["--lp_termination_notice_secs", GRACE];
        all.extend_from_slice(args);
        pods::start_program("faults", &all, env)
    }

    #[test]
    fn a_killed_pod_fails_the_program_naming_it() {
        let (_dir, mut pods) = start(&["--mode", "calls"], &[]);
        pods.wait_for_output("caller-0", "caller: 500 calls ok", Duration::from_secs(60));
        pods.kill("victim-0");
        let all = pods.wait_all(Duration::from_secs(30));
        let coordinator = pods::ended(&all, "lp-coordinator-0");
        assert_eq!(coordinator.code, Some(1), "{all:#?}");
        assert!(coordinator.output.contains("victim"), "{all:#?}");
    }

    #[test]
    fn a_killed_restartable_pod_comes_back() {
        let (_dir, mut pods) = start(&["--mode", "chaos", "--target", "phoenix"], &[]);
        pods.wait_for_output("caller-0", "caller: 500 calls ok", Duration::from_secs(60));
        pods.kill("phoenix-0");
        pods.wait_for_restarts("phoenix-0", 1, Duration::from_secs(30));
        pods.wait_for_output("caller-0", "caller: 3000 calls ok", Duration::from_secs(60));
        pods.signal("lp-coordinator-0", Signal::TERM);
        let all = pods.wait_all(Duration::from_secs(30));
        for pod in &all {
            assert_eq!(pod.code, Some(0), "{}: {all:#?}", pod.name);
        }
    }

    #[test]
    fn sigterm_of_the_coordinator_stops_every_pod_cleanly() {
        let (_dir, mut pods) = start(&["--mode", "calls"], &[]);
        pods.wait_for_output("caller-0", "caller: 500 calls ok", Duration::from_secs(60));
        pods.signal("lp-coordinator-0", Signal::TERM);
        let all = pods.wait_all(Duration::from_secs(30));
        for pod in &all {
            assert_eq!(pod.code, Some(0), "{}: {all:#?}", pod.name);
            assert!(!pod.output.contains("error"), "quiet: {all:#?}");
        }
    }

    #[test]
    fn panics_fail_the_program_naming_the_node() {
        for (args, says) in [
            (
                &["--construct", "panic"][..],
                "node `victim` failed: its constructor panicked",
            ),
            (&["--mode", "panic_method"], "`boom` on `victim` panicked"),
            (
                &["--mode", "panic_run"],
                "node `caller` failed: run panicked",
            ),
        ] {
            let (_dir, mut pods) = start(args, &[]);
            let all = pods.wait_all(Duration::from_secs(60));
            let coordinator = pods::ended(&all, "lp-coordinator-0");
            assert_eq!(coordinator.code, Some(1), "{args:?}: {all:#?}");
            assert!(coordinator.output.contains(says), "{args:?}: {all:#?}");
        }
    }

    #[test]
    fn a_constructor_that_never_returns_fails_the_program_after_the_join_timeout() {
        let (_dir, mut pods) = start(&["--construct", "hang"], &[("LP_JOIN_TIMEOUT_SECS", "3")]);
        let all = pods.wait_all(Duration::from_secs(60));
        let coordinator = pods::ended(&all, "lp-coordinator-0");
        assert_eq!(coordinator.code, Some(1), "{all:#?}");
        assert!(
            coordinator.output.contains("was not ready within")
                && coordinator.output.contains("victim"),
            "{all:#?}"
        );
    }

    #[test]
    fn hostile_peers_before_and_after_the_handshake_run_nothing() {
        let (_dir, mut pods) = start(&[], &[]);
        pods.wait_for_output("victim-0", "victim up", Duration::from_secs(60));
        pods.wait_for_output("caller-0", "caller up", Duration::from_secs(60));
        let addr = pods.address("victim-0", 0);
        let victim = pods.pid("victim-0");
        let before = rss_kib(victim);
        for what in [Hostile::Garbage, Hostile::Oversized, Hostile::WrongSecret] {
            for _ in 0..8 {
                let mut stream = TcpStream::connect(addr).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_millis(100)))
                    .ok();
                assert!(abuse(&mut stream, what, Duration::from_secs(2)), "{what:?}");
            }
        }
        // The sealed handshake with another launch's secret is refused, and so is the key of
        // a node that holds no handle to the victim (`stayer`): what the stayer's pod holds.
        // (Node ids in `faults.lp` order.)
        const VICTIM: usize = 0;
        const STAYER: usize = 4;
        let secret = pods.env("lp-coordinator-0", "LP_SECRET");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let other = if secret.starts_with('0') { "1" } else { "0" }.to_string() + &secret[1..];
        let refused = runtime.block_on(lp::testing::authenticated_tcp(addr, &other, VICTIM));
        assert!(refused.is_err(), "another launch's secret must be refused");
        let refused = runtime.block_on(lp::testing::authenticated_tcp(addr, &secret, STAYER));
        let refused = refused.err().expect("another node's key must be refused");
        assert!(refused.to_string().contains("refused"), "{refused}");
        // With the secret: a frame that is not a call, and one announced at a gigabyte.
        for first in [
            b"\x00\x00\x00\x04\xff\xff\xff\xff".to_vec(),
            (1u32 << 30).to_be_bytes().to_vec(),
        ] {
            runtime.block_on(async {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut stream = lp::testing::authenticated_tcp(addr, &secret, VICTIM)
                    .await
                    .expect("the victim's key is accepted");
                stream.write_all(&first).await.expect("write");
                stream.flush().await.expect("flush");
                let mut buf = [0u8; 1024];
                let closed = tokio::time::timeout(Duration::from_secs(2), async {
                    while let Ok(1..) = stream.read(&mut buf).await {}
                });
                assert!(closed.await.is_ok(), "closed");
            });
        }
        let grown = rss_kib(victim).saturating_sub(before);
        assert!(grown < 32 << 10, "the victim grew by {grown} KiB");
        // A flood of connections on the victim's and the coordinator's ports.
        let coordinator = {
            let node0 = pods.address("lp-coordinator-0", 0);
            std::net::SocketAddr::new(node0.ip(), node0.port() - 1)
        };
        let mut flood = Vec::new();
        for target in [addr, coordinator] {
            for _ in 0..500 {
                if let Ok(stream) = TcpStream::connect(target) {
                    flood.push(stream);
                }
            }
        }
        drop(flood);
        pods.signal("lp-coordinator-0", Signal::TERM);
        let all = pods.wait_all(Duration::from_secs(30));
        for pod in &all {
            assert_eq!(pod.code, Some(0), "{}: {all:#?}", pod.name);
        }
        assert!(
            !pods::ended(&all, "victim-0").output.contains("ping #"),
            "nothing ran"
        );
    }
}

#[test]
fn docs_list_every_fault() {
    let doc = std::fs::read_to_string(lp_tests::support::workspace().join("docs/runtime.md"))
        .expect("docs/runtime.md");
    let source =
        std::fs::read_to_string(lp_tests::support::workspace().join("tests/tests/fault_matrix.rs"))
            .expect("this file");
    let tests: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fn "))
        .filter_map(|l| l.split('(').next())
        .filter(|name| {
            source.contains(&format!("#[test]\n    fn {name}("))
                || source.contains(&format!("#[test]\nfn {name}("))
        })
        .filter(|name| *name != "docs_list_every_fault")
        .collect();
    for name in tests {
        assert!(
            doc.contains(&format!("`{name}`")),
            "docs/runtime.md's fault matrix lacks `{name}`"
        );
    }
}
