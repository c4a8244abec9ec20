//! What Linux says about a process: its CPU time and resident memory, from `/proc`.

/// Clock ticks per second of `/proc/PID/stat`'s times (`USER_HZ`, 100 on Linux's every
/// architecture the runtime builds for).
const TICKS_PER_SECOND: f64 = 100.0;

/// A process's CPU time and memory.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Usage {
    /// User and system CPU time, in seconds.
    pub(crate) cpu_seconds: f64,
    /// Resident memory, in bytes.
    pub(crate) rss_bytes: u64,
}

/// The usage of process `pid`, if it is there to read.
pub(crate) fn usage(pid: u32) -> Option<Usage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(Usage {
        cpu_seconds: cpu_seconds(&stat)?,
        rss_bytes: rss_bytes(&status).unwrap_or(0),
    })
}

/// `utime + stime` of a `/proc/PID/stat` line, in seconds. The command name (field 2) may
/// hold spaces and parentheses: fields are counted after its last `)`.
fn cpu_seconds(stat: &str) -> Option<f64> {
    let (_, after) = stat.rsplit_once(')')?;
    let mut fields = after.split_whitespace();
    // After the name: state (3), ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt,
    // majflt, cmajflt, utime (14), stime (15).
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_SECOND)
}

/// `VmRSS` of a `/proc/PID/status`, in bytes.
fn rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_times_after_a_name_with_spaces_and_parentheses() {
        let stat = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(cpu_seconds(stat), Some(3.0));
        assert_eq!(cpu_seconds("42 (x"), None);
        assert_eq!(cpu_seconds("42 (x) S 1"), None);
        assert_eq!(
            rss_bytes("Name:\tx\nVmRSS:\t  2048 kB\n"),
            Some(2048 * 1024)
        );
        assert_eq!(rss_bytes("Name:\tx\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let usage = usage(std::process::id()).expect("this process is in /proc");
        assert!(usage.rss_bytes > 0);
    }
}
