//! Placement: pinning threads and processes to vCPUs (`sched_setaffinity`), so that a "same
//! vCPU" and a "split" measurement each mean one thing on a 2-vCPU VM, where a wake-up on the
//! other vCPU costs 20–25 µs.

/// Where the caller and the callee run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Both on vCPU 0.
    Same,
    /// Caller on vCPU 0, callee on vCPU 1.
    Split,
}

impl Placement {
    /// The callee's vCPU (the caller is always on vCPU 0).
    pub fn callee_cpu(self) -> usize {
        match self {
            Placement::Same => 0,
            Placement::Split => 1.min(cpus() - 1),
        }
    }
}

/// How many vCPUs the machine has online (whatever this process is pinned to).
pub fn cpus() -> usize {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|ranges| online_cpus(ranges.trim()))
        .unwrap_or(1)
        .max(1)
}

/// How many CPUs a kernel CPU list (`0-3,6`) names.
fn online_cpus(ranges: &str) -> Option<usize> {
    ranges.split(',').try_fold(0, |count, range| {
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        let (first, last): (usize, usize) = (first.parse().ok()?, last.parse().ok()?);
        Some(count + last.checked_sub(first)? + 1)
    })
}

fn set_affinity(tid: i32, cpus: impl IntoIterator<Item = usize>) -> std::io::Result<()> {
    let mut set = rustix::thread::CpuSet::new();
    cpus.into_iter().for_each(|cpu| set.set(cpu));
    let pid = rustix::process::Pid::from_raw(tid);
    Ok(rustix::thread::sched_setaffinity(pid, &set)?)
}

/// Pins the calling thread (and the threads it creates later) to `cpu`.
pub fn pin_this_thread(cpu: usize) {
    if let Err(e) = set_affinity(0, [cpu]) {
        eprintln!("lp-bench: cannot pin to vCPU {cpu}: {e}");
    }
}

/// Lets the calling thread, and the processes it spawns, run on every vCPU, as a launch's
/// processes do.
pub fn unpin_this_thread() {
    if let Err(e) = set_affinity(0, 0..cpus()) {
        eprintln!("lp-bench: cannot unpin: {e}");
    }
}

/// Pins every thread of process `pid` to `cpu`.
pub fn pin_process(pid: u32, cpu: usize) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for task in tasks.flatten() {
        if let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) {
            let _ = set_affinity(tid, [cpu]);
        }
    }
}

/// Pins every thread of this process to `cpu`.
pub fn pin_this_process(cpu: usize) {
    pin_process(std::process::id(), cpu);
    pin_this_thread(cpu);
}

#[cfg(test)]
mod tests {
    use super::online_cpus;

    #[test]
    fn cpu_lists_count_their_cpus() {
        assert_eq!(online_cpus("0"), Some(1));
        assert_eq!(online_cpus("0-1"), Some(2));
        assert_eq!(online_cpus("0-3,6,8-9"), Some(7));
        assert_eq!(online_cpus("3-1"), None);
        assert_eq!(online_cpus("x"), None);
    }
}
