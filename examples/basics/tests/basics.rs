//! The ported examples, run as their binaries in both local launch types.

use std::process::Command;

fn run(binary: &str, launch_type: &str, args: &[&str]) -> String {
    let out = Command::new(binary)
        .args(["--lp_launch_type", launch_type])
        .args(args)
        .output()
        .expect("the example runs");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{binary} {launch_type}: {all}");
    all
}

#[test]
fn hello_world() {
    for launch_type in ["local_mt", "local_mp"] {
        let out = run(
            env!("CARGO_BIN_EXE_hello_world"),
            launch_type,
            &["--name", "Rust"],
        );
        assert!(
            out.contains("[greeter] Hello Rust!"),
            "{launch_type}: {out}"
        );
    }
}

#[test]
fn program_wait() {
    for launch_type in ["local_mt", "local_mp"] {
        let out = run(
            env!("CARGO_BIN_EXE_program_wait"),
            launch_type,
            &["--stop_after", "300ms"],
        );
        assert!(
            out.contains("[stopper] stopping the program"),
            "{launch_type}: {out}"
        );
        for ticker in ["[ticker/0] stopped after", "[ticker/1] stopped after"] {
            assert!(out.contains(ticker), "{launch_type}: {out}");
        }
    }
}
