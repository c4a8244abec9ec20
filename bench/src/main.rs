//! `cargo run --release -p lp-bench [-- --quick] [--json FILE]`: measures lp against the
//! physical limits and its peers, side by side, in one run, and prints a Markdown table (also
//! written as JSON, by default to `target/lp-bench.json`). Ratios are ours / baseline: below 1
//! is better for times, above 1 for rates. See `bench/README.md`.

mod baseline;
mod calls;
mod check_time;
mod launch_stop;
mod measure;
mod pin;
mod report;

use std::path::PathBuf;
use std::time::Duration;

use report::Report;

fn usage() -> ! {
    eprintln!("usage: lp-bench [--quick] [--json FILE]");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        let [_, kind, addr, cpu] = &args[..] else {
            usage()
        };
        baseline::serve(kind, addr, cpu.parse().unwrap_or(0));
        return;
    }
    let mut quick = false;
    let mut json = PathBuf::from("target/lp-bench.json");
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--json" => json = rest.next().map_or_else(|| usage(), PathBuf::from),
            _ => usage(),
        }
    }
    // tarpc traces every call; lp would install its log formatter and print them, slowing
    // tarpc down. Nothing is logged during the measurements.
    let _ = lp::tracing::subscriber::set_global_default(
        lp::tracing::subscriber::NoSubscriber::default(),
    );
    // The caller side runs on vCPU 0, on one thread.
    pin::pin_this_process(0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
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
    let mut report = Report {
        quick,
        vcpus: pin::cpus(),
        ..Report::default()
    };
    runtime.block_on(async {
        calls::rows(&mut report, effort).await;
        launch_stop::rows(&mut report, quick).await;
    });
    check_time::rows(&mut report, quick);
    report
        .skipped
        .push("Ray: not measured (not installable here without its binary wheels)".into());
    println!("{}", report.markdown());
    match serde_json::to_string_pretty(&report) {
        Ok(text) => match std::fs::write(&json, text) {
            Ok(()) => eprintln!("lp-bench: wrote {}", json.display()),
            Err(e) => eprintln!("lp-bench: cannot write {}: {e}", json.display()),
        },
        Err(e) => eprintln!("lp-bench: cannot encode the report: {e}"),
    }
}
