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
    // SAFETY: sysconf has no preconditions.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(online).unwrap_or(1).max(1)
}

fn set_affinity(tid: i32, cpu: usize) -> std::io::Result<()> {
    // SAFETY: `set` is a plain bitmask zeroed by CPU_ZERO and filled by CPU_SET within its
    // size; sched_setaffinity only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Pins the calling thread (and the threads it creates later) to `cpu`.
pub fn pin_this_thread(cpu: usize) {
    if let Err(e) = set_affinity(0, cpu) {
        eprintln!("lp-bench: cannot pin to vCPU {cpu}: {e}");
    }
}

/// Pins every thread of process `pid` to `cpu`.
pub fn pin_process(pid: u32, cpu: usize) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for task in tasks.flatten() {
        if let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) {
            let _ = set_affinity(tid, cpu);
        }
    }
}

/// Pins every thread of this process to `cpu`.
pub fn pin_this_process(cpu: usize) {
    pin_process(std::process::id(), cpu);
    pin_this_thread(cpu);
}
