//! `--lp_launch_type slurm`: an sbatch script for a program.
//!
//! The script (running on the first node of the allocation):
//! 1. makes the launch secret from `/dev/urandom` and keeps it in a shell variable (it never
//!    sits in a file, in argv or in a step's environment), then has the binary derive from it
//!    each job's keys ([`print_keys_of`]);
//! 2. starts the coordinator, the one process given the secret, in the background on this
//!    node, at `LP_RENDEZVOUS = <this node's NodeAddr>:<20000 + job id % 20000>`;
//! 3. starts one `srun --exact` step per job of the [`Plan`] (a group, a node, a `process`
//!    block), each with that job's resources (`cpus` → `--cpus-per-task`, `memory` →
//!    `--mem-per-cpu`, `gpus` → `--gpus-per-task`) and its keys (`LP_KEYS`), so every node (or
//!    block) is one Slurm task whose rank in its step is `SLURM_PROCID`; a job with a restart
//!    policy gets a step per unit instead (its rank in `LP_RANK`), started again when it fails
//!    ([`step_line`]);
//! 4. exits with the coordinator's status — the program's: 0 after a clean stop, 1 when a node
//!    failed — after the steps have ended (they are signalled if they outlive the grace period).
//!
//! Concurrent steps with per-step resources were chosen over heterogeneous jobs: a
//! heterogeneous job with more components than nodes never starts under backfill, and over
//! `--multi-prog`, which cannot give groups different resources.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use super::{io, parse_memory, vars, ClusterError, Job, Plan, COORDINATOR};
use crate::error::chain;
use crate::launch::env::{EnvError, Vars};
use crate::launch::tool::{self, ToolError};
use crate::transport::keys::Keyring;

/// The `slurm` flags.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// `--out FILE`: where the script goes (default `<program>.sbatch`).
    pub(crate) out: Option<PathBuf>,
    /// `--submit`: `sbatch` it.
    pub(crate) submit: bool,
    /// `--wait`: follow the job to its end.
    pub(crate) wait: bool,
}

/// Quotes `s` for bash (single quotes; a `'` becomes `'\''`).
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:,@%+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The resources of one task of a step, as srun options.
struct StepResources {
    cpus: u32,
    mem_per_cpu_mib: Option<u64>,
    gpus: u32,
}

fn step_resources(plan: &Plan, job: usize) -> Result<StepResources, ClusterError> {
    let job = &plan.jobs[job];
    let cpus = match job.resources.cpus {
        None => 1,
        Some(c) if c.is_finite() && c > 0.0 && c <= 4096.0 => c.ceil() as u32,
        Some(c) => {
            return Err(format!("`{}`: `cpus` must be positive, not {c}", job.source).into())
        }
    };
    let mem_per_cpu_mib = match &job.resources.memory {
        None => None,
        Some(m) => {
            let bytes = parse_memory(m).map_err(|e| format!("`{}`: {e}", job.source))?;
            Some(bytes.div_ceil(1 << 20).div_ceil(u64::from(cpus)).max(1))
        }
    };
    Ok(StepResources {
        cpus,
        mem_per_cpu_mib,
        gpus: job.resources.gpus.unwrap_or(0),
    })
}

/// The sbatch script for `plan`, running `binary` with `args`; node output goes to `output`
/// (sbatch `--output`, `%j` allowed).
pub(crate) fn script(
    plan: &Plan,
    passed: &super::Passed,
    binary: &Path,
    output: &str,
    grace: Duration,
) -> Result<String, ClusterError> {
    let steps: Vec<StepResources> = (0..plan.jobs.len())
        .map(|j| step_resources(plan, j))
        .collect::<Result<_, _>>()?;
    let bin = quote(&binary.to_string_lossy());
    let argv: String = passed
        .args
        .iter()
        .map(|a| format!(" {}", quote(a)))
        .collect();
    let command = format!("{bin}{argv}");
    let mut s = header(plan, output, &steps);
    s.push_str(&secret(plan));
    for (j, job) in plan.jobs.iter().enumerate() {
        s.push_str(&keys_line(j, job, plan.labels.len(), &bin));
    }
    s.push_str(&coordinator(plan, &command, &passed.coordinator_env()));
    let counting = passed.unit_env();
    for (j, (job, step)) in plan.jobs.iter().zip(&steps).enumerate() {
        s.push_str(&step_line(j, job, step, &command, &counting));
    }
    s.push_str(&footer(grace));
    Ok(s)
}

/// The shebang and the `#SBATCH` lines: one task per unit, each as large as the largest step
/// needs.
fn header(plan: &Plan, output: &str, steps: &[StepResources]) -> String {
    let tasks = plan.units.len().max(1);
    let max_cpus = steps.iter().map(|s| s.cpus).max().unwrap_or(1);
    let max_mem = steps.iter().filter_map(|s| s.mem_per_cpu_mib).max();
    let max_gpus = steps.iter().map(|s| s.gpus).max().unwrap_or(0);
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str(&format!(
        "# @generated by lp: program `{}` ({} processes in {} steps, plus the coordinator)\n",
        plan.program,
        plan.units.len(),
        plan.jobs.len()
    ));
    s.push_str(&format!("#SBATCH --job-name={}\n", quote(&plan.program)));
    s.push_str(&format!("#SBATCH --output={}\n", quote(output)));
    s.push_str(&format!("#SBATCH --ntasks={tasks}\n"));
    s.push_str(&format!("#SBATCH --cpus-per-task={max_cpus}\n"));
    if let Some(mem) = max_mem {
        s.push_str(&format!("#SBATCH --mem-per-cpu={mem}M\n"));
    }
    if max_gpus > 0 {
        s.push_str(&format!("#SBATCH --gpus-per-task={max_gpus}\n"));
    }
    s
}

/// The launch secret, in this shell only, and what every process of the job shares.
fn secret(plan: &Plan) -> String {
    format!(
        r#"set -u
# The launch secret: made here and kept in this shell. Only the coordinator gets it; each step
# gets the keys its job's nodes need, which the binary derives from it here.
lp_secret="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export {cluster}=slurm {layout}={fingerprint}
"#,
        cluster = vars::CLUSTER,
        layout = vars::LAYOUT,
        fingerprint = plan.fingerprint,
    )
}

/// The most text of keys one step gets in `LP_KEYS`: Linux limits one environment string to
/// 128 KiB (`MAX_ARG_STRLEN`), name included.
const MAX_KEYS_VAR: usize = (128 << 10) - 1024;

/// The keys of job number `j` into `$lp_keys_<j>`, derived by `bin` ([`print_keys_of`]); or,
/// when they are more than one variable holds (a job holding handles to some 1,500 nodes),
/// every key, the launch secret (said on stderr).
fn keys_line(j: usize, job: &Job, nodes: usize, bin: &str) -> String {
    if Keyring::text_len(&job.keys, nodes) > MAX_KEYS_VAR {
        tracing::warn!(target: "lp",
            "job `{}` holds handles to {} nodes: their keys exceed one environment variable, so its tasks get every key of the launch",
            job.source, job.keys.len()
        );
        return format!("lp_keys_{j}=\"$lp_secret\"\n");
    }
    let ids: Vec<String> = job.keys.iter().map(usize::to_string).collect();
    format!(
        "lp_keys_{j}=\"$({secret}=\"$lp_secret\" {keys_of}={} {count}={nodes} {bin})\" || exit 2\n",
        quote(&ids.join(",")),
        secret = vars::SECRET,
        keys_of = vars::KEYS_OF,
        count = vars::NODES,
    )
}

/// The rendezvous address, and the coordinator, with the launch secret, in the background.
fn coordinator(plan: &Plan, command: &str, env: &[(String, String)]) -> String {
    let env = assignments(env);
    format!(
        r#"# The rendezvous: the coordinator runs on this (the first) node of the allocation.
lp_addr="$(scontrol show node "${{SLURMD_NODENAME:-$(hostname -s)}}" -o 2>/dev/null | sed -n 's/.*NodeAddr=\([^ ]*\).*/\1/p')"
export {rendezvous}="${{lp_addr:-$(hostname)}}:$((20000 + SLURM_JOB_ID % 20000))"
echo "lp: job $SLURM_JOB_ID: program {program}, coordinator at ${rendezvous}"
{secret}="$lp_secret" {env}{job}={coordinator} {command} &
lp_coordinator=$!
lp_steps=()
"#,
        secret = vars::SECRET,
        rendezvous = vars::RENDEZVOUS,
        program = quote(&plan.program),
        job = vars::JOB,
        coordinator = COORDINATOR,
    )
}

/// What the binary does when the batch script sets `LP_KEYS_OF` (node ids, comma separated),
/// `LP_NODES` and `LP_SECRET`: prints the keyring of those nodes for a step's `LP_KEYS`, and
/// exits (2, with the reason on stderr, when the variables do not make sense).
pub(crate) fn print_keys_of() -> ExitCode {
    let by_script = Vars {
        by: "the batch script",
    };
    let keys = || -> Result<String, EnvError> {
        let secret = by_script.launch_secret(vars::SECRET)?;
        let ids = by_script.ids(vars::KEYS_OF)?;
        let nodes = by_script.parse(vars::NODES, "a number of nodes")?;
        Ok(Keyring::launch(&secret, nodes).narrowed(ids).to_text())
    };
    match keys() {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(2)
        }
    }
}

/// `K=V ` for each variable, to put before a command.
fn assignments(env: &[(String, String)]) -> String {
    env.iter()
        .map(|(k, v)| format!("{}={} ", k, quote(v)))
        .collect()
}

/// The `srun` steps of job number `j`, in the background, with its keys: one step whose tasks
/// are the job's units; or, when the job has a restart policy, a step per unit, started again
/// after it fails (as `srun` restarts no task), up to the policy's `max` times, `backoff`
/// apart, while the coordinator runs (which counts the restarts too, and fails the program
/// past `max`).
fn step_line(
    j: usize,
    job: &Job,
    step: &StepResources,
    command: &str,
    env: &[(String, String)],
) -> String {
    let units = job.units.len();
    let env = format!(
        "{}=\"$lp_keys_{j}\" {}",
        vars::KEYS,
        assignments(&[&job.env[..], env].concat())
    );
    let plural = if units == 1 { "" } else { "s" };
    let Some(policy) = job.restart else {
        let srun = srun(step, units, command);
        return format!(
            "# {} ({units} task{plural})\n{env}{}={} {srun} &\nlp_steps+=($!)\n",
            job.source,
            vars::JOB,
            quote(&job.name),
        );
    };
    let srun = srun(step, 1, command);
    let ranks: Vec<String> = (0..units).map(|rank| rank.to_string()).collect();
    format!(
        r#"# {source} ({units} task{plural}, each a step of its own, started again after a failure: at most {max} times, {backoff:?} apart)
for lp_rank in {ranks}; do
  (
    lp_restarts=0
    until {env}{rank_var}="$lp_rank" {job_var}={job} {srun}; do
      lp_status=$?
      lp_restarts=$((lp_restarts + 1))
      if [ "$lp_restarts" -gt {max} ] || ! kill -0 "$lp_coordinator" 2>/dev/null; then exit "$lp_status"; fi
      sleep {sleep:.3}
    done
  ) &
  lp_steps+=($!)
done
"#,
        source = job.source,
        max = policy.max,
        backoff = policy.backoff,
        ranks = ranks.join(" "),
        rank_var = vars::RANK,
        job_var = vars::JOB,
        job = quote(&job.name),
        sleep = policy.backoff.as_secs_f64(),
    )
}

/// `srun` of `tasks` tasks of `command`, each with `step`'s resources.
fn srun(step: &StepResources, tasks: usize, command: &str) -> String {
    // Any number of the allocation's nodes, up to one per task: without `--nodes`, srun
    // spreads a step over every node of the allocation, and waits forever ("Requested nodes
    // are busy") when the other steps, which never end, hold one of them whole.
    let nodes = match tasks {
        1 => "1".to_string(),
        n => format!("1-{n}"),
    };
    let mut opts = format!(
        "--exact --kill-on-bad-exit=0 --nodes={nodes} --ntasks={tasks} --cpus-per-task={}",
        step.cpus
    );
    if let Some(mem) = step.mem_per_cpu_mib {
        opts.push_str(&format!(" --mem-per-cpu={mem}M"));
    }
    if step.gpus > 0 {
        opts.push_str(&format!(" --gpus-per-task={}", step.gpus));
    }
    format!("srun {opts} {command}")
}

/// The end: the coordinator's status is the job's, unless a step failed after a clean stop;
/// steps still running past the grace period are terminated.
fn footer(grace: Duration) -> String {
    let linger = grace.as_secs() + 15;
    format!(
        r#"wait "$lp_coordinator"
lp_status=$?
# The coordinator has stopped the program; the steps end within the grace period.
( sleep {linger}; kill -TERM "${{lp_steps[@]}}" 2>/dev/null ) &
lp_killer=$!
for lp_step in "${{lp_steps[@]}}"; do
  wait "$lp_step"; lp_step_status=$?
  if [ "$lp_status" -eq 0 ] && [ "$lp_step_status" -ne 0 ]; then lp_status=$lp_step_status; fi
done
kill "$lp_killer" 2>/dev/null
exit "$lp_status"
"#
    )
}

/// `--lp_launch_type slurm`.
pub(crate) fn main(
    plan: &Plan,
    passed: &super::Passed,
    options: &Options,
) -> Result<ExitCode, ClusterError> {
    if options.wait && !options.submit {
        return Err("`--wait` follows a submitted job: add `--submit`".into());
    }
    let binary = std::env::current_exe().map_err(io("cannot find the program binary"))?;
    let path = options
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.sbatch", plan.program)));
    let path = std::path::absolute(&path)
        .map_err(io(format!("cannot make {} absolute", path.display())))?;
    let dir = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let output = dir.join(format!("{}-%j.out", plan.program));
    let grace = super::grace_of(&passed.args);
    let text = script(plan, passed, &binary, &output.to_string_lossy(), grace)?;
    std::fs::write(&path, text).map_err(io(format!("cannot write {}", path.display())))?;
    tracing::info!(target: "lp", "wrote {}", path.display());
    if !options.submit {
        return Ok(ExitCode::SUCCESS);
    }
    submit(&path, &output, options.wait)
}

/// `sbatch` of the script at `path`; with `wait`, follows the job's `output` until it ends
/// and returns its status.
fn submit(path: &Path, output: &Path, wait: bool) -> Result<ExitCode, ClusterError> {
    let mut cmd = Command::new("sbatch");
    cmd.arg("--parsable");
    if wait {
        cmd.arg("--wait");
    }
    cmd.arg(path).stdin(Stdio::null()).stdout(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| ToolError::Spawn {
        tool: "sbatch",
        source,
    })?;
    let stdout = child.stdout.take().ok_or("no sbatch output")?;
    let job_id = BufReader::new(stdout)
        .lines()
        .next()
        .and_then(Result::ok)
        .map(|l| l.split(';').next().unwrap_or_default().trim().to_string())
        .unwrap_or_default();
    if job_id.is_empty() {
        tool::check("sbatch", "--parsable", waited(&mut child)?, &[])?;
        return Err("`sbatch` printed no job id".into());
    }
    let out_file = PathBuf::from(output.to_string_lossy().replace("%j", &job_id));
    tracing::info!(target: "lp",
        "submitted job {job_id}; output: {}; cancel: scancel {job_id}",
        out_file.display()
    );
    if !wait {
        let _ = child.wait();
        return Ok(ExitCode::SUCCESS);
    }
    // Follow the output file while sbatch waits for the job.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let follower = {
        let done = done.clone();
        std::thread::spawn(move || follow(&out_file, &done))
    };
    let status = waited(&mut child)?;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = follower.join();
    let code = status.code().unwrap_or(1);
    tracing::info!(target: "lp", "job {job_id} ended with status {code}");
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// Waits for `sbatch` to exit.
fn waited(child: &mut std::process::Child) -> Result<std::process::ExitStatus, ToolError> {
    child.wait().map_err(|source| ToolError::Io {
        tool: "sbatch",
        doing: "wait for",
        source,
    })
}

/// Copies what is appended to `path` to stdout until `done`, then the rest.
fn follow(path: &Path, done: &std::sync::atomic::AtomicBool) {
    let mut offset = 0u64;
    loop {
        let finished = done.load(std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut file) = std::fs::File::open(path) {
            use std::io::Seek;
            if file.seek(std::io::SeekFrom::Start(offset)).is_ok() {
                let mut buf = Vec::new();
                if file.read_to_end(&mut buf).is_ok() && !buf.is_empty() {
                    offset += buf.len() as u64;
                    let _ = std::io::stdout().write_all(&buf);
                    let _ = std::io::stdout().flush();
                }
            }
        }
        if finished {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan of the test program, and its script for `/bin/p --n=4`, with the dashboard at
    /// `dashboard`.
    fn test_script(dashboard: Option<&str>) -> (Plan, String) {
        let (layout, nodes) = super::super::tests::program();
        let plan = Plan::new(&layout, &nodes).unwrap();
        let text = script_of(&plan, dashboard);
        (plan, text)
    }

    /// The script of `plan` for `/bin/p --n=4`, with the dashboard at `dashboard`.
    fn script_of(plan: &Plan, dashboard: Option<&str>) -> String {
        let passed = super::super::Passed {
            args: vec!["--n=4".into()],
            dashboard: dashboard.map(|addr| addr.parse().unwrap()),
        };
        script(plan, &passed, Path::new("/bin/p"), "out", Duration::ZERO).unwrap()
    }

    #[test]
    fn the_dashboard_s_address_goes_to_the_coordinator_only_and_the_units_count() {
        let (_, text) = test_script(Some("127.0.0.1:8080"));
        let launches: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("/bin/p --n=4"))
            .collect();
        assert_eq!(
            launches.len(),
            4,
            "the coordinator and three steps:\n{text}"
        );
        for line in launches {
            let coordinator = line.contains(&format!("{}={COORDINATOR} ", vars::JOB));
            let dashboard = format!("{}=127.0.0.1:8080 ", vars::DASHBOARD);
            let counting = format!("{}=1 ", crate::metrics::ENV);
            assert_eq!(line.contains(&dashboard), coordinator, "{line}");
            assert_eq!(line.contains(&counting), !coordinator, "{line}");
        }
        let (_, text) = test_script(None);
        assert!(!text.contains(vars::DASHBOARD) && !text.contains(crate::metrics::ENV));
    }

    #[test]
    fn the_secret_goes_to_the_coordinator_only_and_each_step_gets_its_job_s_keys() {
        let (plan, text) = test_script(None);
        let secret = format!("{}=\"$lp_secret\" ", vars::SECRET);
        assert!(!text.contains("export LP_SECRET"), "{text}");
        for line in text.lines().filter(|l| l.contains("/bin/p --n=4")) {
            let coordinator = line.contains(&format!("{}={COORDINATOR} ", vars::JOB));
            assert_eq!(line.starts_with(&secret), coordinator, "{line}");
            assert_eq!(line.starts_with("LP_KEYS="), !coordinator, "{line}");
        }
        for (j, job) in plan.jobs.iter().enumerate() {
            let ids: Vec<String> = job.keys.iter().map(usize::to_string).collect();
            let derive = format!(
                "lp_keys_{j}=\"$({secret}{}={} {}={} /bin/p)\" || exit 2",
                vars::KEYS_OF,
                quote(&ids.join(",")),
                vars::NODES,
                plan.labels.len()
            );
            assert!(text.contains(&derive), "{derive}\n{text}");
            let step = format!("LP_KEYS=\"$lp_keys_{j}\" ");
            let line = text.lines().find(|l| l.starts_with(&step)).unwrap();
            assert!(line.contains(&format!("{}={} srun", vars::JOB, quote(&job.name))));
            // On as few of the allocation's nodes as have room, never on all of them.
            let nodes = match job.units.len() {
                1 => " --nodes=1 --ntasks=1 ".to_string(),
                n => format!(" --nodes=1-{n} --ntasks={n} "),
            };
            assert!(line.contains(&nodes), "{nodes}: {line}");
        }
        // The keys are derived before the coordinator starts, so that a failure starts nothing.
        assert!(text.find("lp_keys_0=") < text.find(&format!("{}={COORDINATOR}", vars::JOB)));
    }

    #[test]
    fn a_job_with_a_restart_policy_runs_each_unit_in_a_loop_of_its_own() {
        let (mut plan, _) = test_script(None);
        plan.jobs[0].restart = Some(crate::program::Restart {
            max: 2,
            backoff: Duration::from_millis(50),
        });
        let text = script_of(&plan, None);
        for expected in [
            "for lp_rank in 0 1 2; do",
            "until LP_KEYS=\"$lp_keys_0\" ",
            " LP_RANK=\"$lp_rank\" LP_JOB=producer srun --exact --kill-on-bad-exit=0 --nodes=1 --ntasks=1 ",
            "if [ \"$lp_restarts\" -gt 2 ] || ! kill -0 \"$lp_coordinator\" 2>/dev/null; then exit \"$lp_status\"; fi",
            "sleep 0.050",
        ] {
            assert!(text.contains(expected), "{expected}\n{text}");
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("--n=4"), "--n=4");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
