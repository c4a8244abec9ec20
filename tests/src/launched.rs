//! A program binary launched by a test as a user would (`local_mt`, `local_mp`), watched from
//! outside: its output as it comes, its processes, their memory and descriptors; signals to
//! send and sockets to abuse. What the fault matrix and the chaos soak are written with.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::binary;

/// A launched program binary.
pub struct Launched {
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    started: Instant,
    /// Every process it ran (its descendants), as seen so far.
    seen: Vec<u32>,
}

/// How a launched program ended.
#[derive(Debug)]
pub struct Ended {
    /// Its exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// Stdout and stderr, interleaved as read.
    pub output: String,
    /// From the launch to its end.
    pub elapsed: Duration,
    /// Processes it ran that were still alive when it ended (should be none).
    pub orphans: Vec<u32>,
}

impl Launched {
    /// Starts binary `name` with `args` and the extra environment `env`.
    pub fn start(name: &str, args: &[&str], env: &[(&str, &str)]) -> Launched {
        let mut cmd = Command::new(binary(name));
        cmd.args(args)
            .envs(env.iter().copied())
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Launched::spawn(cmd)
    }

    /// Starts `cmd` (its output piped here).
    pub fn spawn(mut cmd: Command) -> Launched {
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        let stdout = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>);
        for stream in [stdout, stderr].into_iter().flatten() {
            let output = output.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut out = output.lock().unwrap_or_else(|e| e.into_inner());
                    out.push_str(&line);
                    out.push('\n');
                }
            }));
        }
        Launched {
            child,
            output,
            readers,
            started: Instant::now(),
            seen: Vec::new(),
        }
    }

    /// The launcher's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it printed so far.
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until its output contains `needle`; panics with the output after `limit`.
    pub fn wait_for(&mut self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while !self.output().contains(needle) {
            self.note_processes();
            assert!(
                start.elapsed() < limit,
                "`{needle}` not printed within {limit:?}:\n{}",
                self.output()
            );
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "ended ({status}) before printing `{needle}`:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.note_processes();
    }

    /// The pid a node printed as `{name} up: pid N` (the last such line: after a restart, the
    /// new process).
    pub fn pid_of(&mut self, name: &str) -> u32 {
        let needle = format!("{name} up: pid ");
        self.wait_for(&needle, Duration::from_secs(30));
        let output = self.output();
        output
            .lines()
            .filter_map(|l| l.split_once(&needle).map(|(_, pid)| pid.trim()))
            .filter_map(|pid| pid.parse().ok())
            .next_back()
            .unwrap_or_else(|| panic!("no pid of `{name}`:\n{output}"))
    }

    /// Records its descendants now, to check later that none outlives it.
    pub fn note_processes(&mut self) {
        for pid in descendants(self.pid()) {
            if !self.seen.contains(&pid) {
                self.seen.push(pid);
            }
        }
    }

    /// Sends `signal` to the launcher.
    pub fn signal(&self, signal: rustix::process::Signal) {
        send(self.pid(), signal);
    }

    /// The launch's private directory (`local_mp`): its node sockets and control socket.
    pub fn launch_dir(&self) -> PathBuf {
        let prefix = format!("lp-{}-", self.pid());
        let base = lp::testing::launch_base();
        std::fs::read_dir(&base)
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .unwrap_or_else(|| panic!("no launch directory {prefix}* in {}", base.display()))
    }

    /// Waits until it exits; kills it (and every process it ran) and panics with its output
    /// after `limit`. A process it ran that is still alive a moment after it ended is an
    /// orphan.
    pub fn wait(mut self, limit: Duration) -> Ended {
        let status = loop {
            self.note_processes();
            if let Ok(Some(status)) = self.child.try_wait() {
                break status;
            }
            if self.started.elapsed() > limit {
                for pid in &self.seen {
                    send(*pid, rustix::process::Signal::KILL);
                }
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("still running after {limit:?}; killed:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = self.started.elapsed();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        // A child killed with its launcher (PR_SET_PDEATHSIG) needs a moment to go.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut orphans: Vec<u32> = self.seen.iter().copied().filter(|p| alive(*p)).collect();
        while !orphans.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            orphans.retain(|p| alive(*p));
        }
        for pid in &orphans {
            send(*pid, rustix::process::Signal::KILL);
        }
        Ended {
            code: status.code(),
            output: self.output(),
            elapsed,
            orphans,
        }
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            for pid in &self.seen {
                send(*pid, rustix::process::Signal::KILL);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends `signal` to process `pid`, if it is still there.
pub fn send(pid: u32, signal: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// The field of `/proc/PID/stat` after the command: state, ppid.
fn stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Whether `pid` is a live process (not gone, not a zombie).
pub fn alive(pid: u32) -> bool {
    matches!(stat(pid), Some((state, _)) if state != 'Z' && state != 'X')
}

/// Every live descendant of `pid`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        {
            if let Some((state, ppid)) = stat(p) {
                if state != 'Z' {
                    parents.push((p, ppid));
                }
            }
        }
    }
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// The resident memory of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// How many descriptors `pid` has open.
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}
