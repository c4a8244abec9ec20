//! `cargo run --release -p lp-bench [-- --quick] [--json FILE]`: measures lp against the
//! physical limits and its peers, side by side, in one run, and prints a Markdown table (also
//! written as JSON, by default to `target/lp-bench.json`). Ratios are ours / baseline: below 1
//! is better for times, above 1 for rates. See `bench/README.md`.
//!
//! The same binary is the benchmark program's node binary: the `local_mp` launcher re-executes
//! it with `LP_NODE_ID` set, and then it runs that node (so `cargo run` builds all it needs).

mod baseline;
mod calls;
mod check_time;
mod launch_stop;
mod lsp;
mod measure;
mod pin;
mod ray;
mod report;
mod scale;
mod tcp;
mod watchdog;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use report::Report;

fn usage() -> ! {
    eprintln!(
        "usage: lp-bench [--quick] [--json FILE] [--only calls|tcp|launch|scale|check|lsp|ray]\n       \
         lp-bench profile same|split|mt IN_FLIGHT SECONDS   (only lp's local_mp or local_mt calls/s, for perf)\n       \
         lp-bench lsp   (the language server, `lpc lsp`, that the LSP rows drive)\n       \
         lp-bench launch NODES RUNS [forked|spawned]   (only launching and stopping NODES local_mp nodes: forked, then spawned, or one of them)\n       \
         lp-bench scale NODES   (local_mt: launch NODES idle nodes, call each once; prints ms)"
    );
    std::process::exit(2);
}

/// The groups of rows `--only` picks from.
const GROUPS: [&str; 7] = ["calls", "tcp", "launch", "scale", "check", "lsp", "ray"];

/// Runs `measure` to its end on a current-thread runtime (the caller side is one thread), as
/// a task of it, the way a node's `run` calls: a runtime's `block_on` future is woken by a
/// task through a path of its own (2–3 µs a wake-up on these machines: a non-blocking look at
/// the driver first), which would be measured as the call's.
fn on_caller_thread<F>(measure: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime
        .block_on(async { tokio::spawn(measure).await })
        .expect("the measuring task panicked")
}

/// Logs nothing: tarpc traces every call, and lp would install its log formatter and print
/// them, slowing tarpc down.
fn quiet() {
    let _ = lp::tracing::subscriber::set_global_default(
        lp::tracing::subscriber::NoSubscriber::default(),
    );
}

/// The `profile` subcommand: lp's `local_mp` (`same`, `split`) or `local_mt` (`mt`) calls/s
/// alone, printed.
fn profile(args: &[String]) {
    let [placement, in_flight, seconds] = args else {
        usage()
    };
    let placement = match placement.as_str() {
        "same" => Some(pin::Placement::Same),
        "split" => Some(pin::Placement::Split),
        "mt" => None,
        _ => usage(),
    };
    let (Ok(in_flight), Ok(seconds)) = (in_flight.parse(), seconds.parse()) else {
        usage()
    };
    quiet();
    pin::pin_this_process(0);
    let window = Duration::from_secs_f64(seconds);
    let rate = on_caller_thread(calls::profile(placement, in_flight, window));
    let launch = match placement {
        Some(placement) => format!("local_mp, {placement:?}"),
        None => "local_mt".to_string(),
    };
    println!("{rate:.0} calls/s, {launch}, {in_flight} in flight");
}

/// Set by the `local_mp` launcher in every node process it spawns (see `lp::main`).
const NODE_PROCESS: &str = "LP_NODE_ID";

fn main() -> ExitCode {
    if std::env::var_os(NODE_PROCESS).is_some() {
        return lp_bench::bench::main();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        let [_, kind, addr, cpu] = &args[..] else {
            usage()
        };
        baseline::serve(kind, addr, cpu.parse().unwrap_or(0));
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("lsp") {
        return match lsp::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("lp-bench lsp: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if args.first().map(String::as_str) == Some("scale") {
        let Some(Ok(nodes)) = args.get(1).map(|n| n.parse()) else {
            usage()
        };
        quiet();
        pin::pin_this_process(0);
        println!("{}", on_caller_thread(scale::first_step(nodes)));
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("profile") {
        profile(&args[1..]);
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("launch") {
        let (Some(Ok(nodes)), Some(Ok(runs))) = (
            args.get(1).map(|n| n.parse()),
            args.get(2).map(|r| r.parse()),
        ) else {
            usage()
        };
        let ways: &[bool] = match args.get(3).map(String::as_str) {
            None => &[true, false],
            Some("forked") => &[true],
            Some("spawned") => &[false],
            Some(_) => usage(),
        };
        quiet();
        pin::pin_this_process(0);
        on_caller_thread(launch_stop::profile(nodes, runs, ways));
        return ExitCode::SUCCESS;
    }
    let mut quick = false;
    let mut json = PathBuf::from("target/lp-bench.json");
    let mut only = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--json" => json = rest.next().map_or_else(|| usage(), PathBuf::from),
            "--only" => {
                only = Some(
                    rest.next()
                        .filter(|g| GROUPS.contains(&g.as_str()))
                        .unwrap_or_else(|| usage()),
                )
            }
            _ => usage(),
        }
    }
    // A stall ends the run, saying where, instead of hanging it.
    watchdog::start(watchdog::limit());
    let only = only.cloned();
    let run = move |group: &'static str| {
        let chosen = only.as_ref().is_none_or(|only| only == group);
        if chosen {
            watchdog::phase(group);
        }
        chosen
    };
    quiet();
    // The caller side runs on vCPU 0, on one thread.
    pin::pin_this_process(0);
    let effort = if quick {
        calls::Effort {
            calls: 2_000,
            window: Duration::from_millis(300),
            large_calls: 20,
        }
    } else {
        calls::Effort {
            calls: 20_000,
            window: Duration::from_secs(2),
            large_calls: 200,
        }
    };
    let report = Report {
        quick,
        vcpus: pin::cpus(),
        ..Report::default()
    };
    let measured = run.clone();
    let mut report = on_caller_thread(async move {
        let (run, mut report) = (measured, report);
        if run("calls") {
            calls::rows(&mut report, effort).await;
        }
        if run("tcp") {
            tcp::rows(&mut report, effort).await;
        }
        if run("launch") {
            launch_stop::rows(&mut report, quick).await;
        }
        if run("ray") {
            ray::rows(&mut report, effort).await;
        }
        report
    });
    if run("scale") {
        scale::rows(&mut report);
    }
    if run("check") {
        check_time::rows(&mut report, quick);
    }
    if run("lsp") {
        lsp::rows(&mut report, quick);
    }
    println!("{}", report.markdown());
    match serde_json::to_string_pretty(&report) {
        Ok(text) => match std::fs::write(&json, text) {
            Ok(()) => eprintln!("lp-bench: wrote {}", json.display()),
            Err(e) => eprintln!("lp-bench: cannot write {}: {e}", json.display()),
        },
        Err(e) => eprintln!("lp-bench: cannot encode the report: {e}"),
    }
    ExitCode::SUCCESS
}
