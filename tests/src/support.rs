//! Running the workspace's binaries with a time limit, so a hung program fails the test
//! instead of hanging it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A binary built by `cargo test --workspace` (in the same target directory as this test).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/debug/deps/<test> → target/debug/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "`{}` is missing: run the tests with `cargo test --workspace` so every binary is built",
        path.display()
    );
    path
}

/// What a finished process printed, and how it ended.
#[derive(Debug)]
pub struct Output {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Output {
    /// Stdout and stderr together, for assertions that do not care which.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `command` from the workspace root; kills it and panics (showing its output) when it
/// takes longer than `limit`.
pub fn run(mut command: Command, limit: Duration) -> Output {
    command
        .current_dir(workspace())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {command:?}: {e}"));
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("waitable child") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = out_reader.join().unwrap_or_default();
            let stderr = err_reader.join().unwrap_or_default();
            panic!("{command:?} did not finish within {limit:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    Output {
        status: status.code(),
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
        elapsed,
    }
}

/// Whether the external tool `name` can be run. When it cannot, the calling test should skip
/// — except under `CI=true`, where a missing tool is a failure: this panics.
pub fn tool_available(name: &str) -> bool {
    let found = Command::new(name)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`{name}` is required under CI=true: install it (scripts/setup does)"
        );
        eprintln!("skipped: `{name}` is not installed (scripts/setup installs it)");
    }
    found
}

/// Calls `produce` every `every` until `ready` holds for what it returned (then returns that),
/// panicking with the last value when `limit` passes first.
pub fn poll_until<T: std::fmt::Debug>(
    limit: Duration,
    every: Duration,
    mut produce: impl FnMut() -> T,
    ready: impl Fn(&T) -> bool,
) -> T {
    let started = Instant::now();
    loop {
        let value = produce();
        if ready(&value) {
            return value;
        }
        assert!(
            started.elapsed() < limit,
            "not ready within {limit:?}: {value:#?}"
        );
        std::thread::sleep(every);
    }
}
