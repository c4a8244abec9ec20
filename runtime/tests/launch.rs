//! Launch types end to end, through the public API only, with code shaped like `lpc`'s output.
//!
//! `harness = false`: this binary is both the test runner and the program binary that the
//! `test_mp`/`local_mp` launches spawn per node (then `LP_NODE_ID` is set and `main` runs the
//! node), and, with `LP_TEST_AS_PROGRAM=1`, a program launched from the command line.

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use lp::{CallError, LaunchError, LaunchOptions, LaunchType};

/// A courier with one method per behaviour under test.
pub struct Calc;

impl Calc {
    pub fn add(&self, a: u64, b: u64) -> u64 {
        a + b
    }
    pub fn fail(&self) -> Result<u64, String> {
        Err("no luck".into())
    }
    pub fn boom(&self) -> u64 {
        panic!("kaboom")
    }
}

/// A worker with a synchronous run, whose behaviour the `scenario` param picks.
pub struct Driver {
    calc: lp::Handle<Calc>,
    scenario: String,
}

impl lp::BlockingRun for Driver {
    fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        lp::tracing::info!("driver running scenario {}", self.scenario);
        match self.scenario.as_str() {
            "ok" => {
                assert_eq!(self.calc.add_blocking(1, 2)?, 3);
                match self.calc.fail_blocking() {
                    Err(CallError::Remote { message, .. }) => assert_eq!(message, "no luck"),
                    other => panic!("unexpected {other:?}"),
                }
                assert!(matches!(
                    self.calc.boom_blocking(),
                    Err(CallError::Panicked { .. })
                ));
                assert_eq!(self.calc.add_blocking(2, 2)?, 4);
                assert_eq!(ctx.label(), "driver");
                assert_eq!(ctx.replica(), None);
                ctx.stop();
                Ok(())
            }
            "fail" => {
                self.calc.add_blocking(1, 1)?;
                Err(lp::Error::msg("driver gave up"))
            }
            "panic" => panic!("driver exploded"),
            "return" => {
                self.calc.add_blocking(1, 1)?;
                Ok(())
            }
            "wait" => {
                while !ctx.is_stopping() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(())
            }
            "hang" => loop {
                std::thread::sleep(Duration::from_secs(1));
            },
            other => Err(lp::Error::msg(format!("unknown scenario {other}"))),
        }
    }
}

// ---- what `lpc` would generate ----
#[allow(clippy::all, non_camel_case_types)]
pub mod __lp {
    #[derive(lp::codegen::serde::Serialize, lp::codegen::serde::Deserialize)]
    #[serde(crate = "lp::codegen::serde")]
    pub enum Request {
        add(u64, u64),
        fail(),
        boom(),
    }
    #[derive(lp::codegen::serde::Serialize, lp::codegen::serde::Deserialize)]
    #[serde(crate = "lp::codegen::serde")]
    pub enum Response {
        add(u64),
        fail(u64),
        boom(u64),
    }
    #[derive(Clone)]
    pub struct CalcClient {
        core: lp::codegen::ClientCore,
    }
    impl CalcClient {
        async fn call(
            &self,
            method: &'static str,
            request: Request,
        ) -> Result<Response, lp::CallError> {
            self.core.call::<crate::Calc>(method, request).await
        }
        pub async fn add(&self, a: u64, b: u64) -> Result<u64, lp::CallError> {
            match self.call("add", Request::add(a, b)).await? {
                Response::add(v) => Ok(v),
                _ => Err(lp::CallError::Protocol("unexpected response".into())),
            }
        }
        pub fn add_blocking(&self, a: u64, b: u64) -> Result<u64, lp::CallError> {
            lp::codegen::block_on(self.add(a, b))
        }
        pub async fn fail(&self) -> Result<u64, lp::CallError> {
            match self.call("fail", Request::fail()).await? {
                Response::fail(v) => Ok(v),
                _ => Err(lp::CallError::Protocol("unexpected response".into())),
            }
        }
        pub fn fail_blocking(&self) -> Result<u64, lp::CallError> {
            lp::codegen::block_on(self.fail())
        }
        pub async fn boom(&self) -> Result<u64, lp::CallError> {
            match self.call("boom", Request::boom()).await? {
                Response::boom(v) => Ok(v),
                _ => Err(lp::CallError::Protocol("unexpected response".into())),
            }
        }
        pub fn boom_blocking(&self) -> Result<u64, lp::CallError> {
            lp::codegen::block_on(self.boom())
        }
    }
    impl lp::codegen::Courier for crate::Calc {
        type Request = Request;
        type Response = Response;
        type Client = CalcClient;
        const NAME: &'static str = "crate::Calc";
        fn client(core: lp::codegen::ClientCore) -> CalcClient {
            CalcClient { core }
        }
    }
    impl lp::codegen::Serve<crate::Calc> for crate::Calc {
        fn serve(self: ::std::sync::Arc<Self>, request: Request) -> lp::codegen::Reply<Response> {
            match request {
                Request::add(a, b) => lp::codegen::Reply::blocking(move || {
                    Ok(Response::add(crate::Calc::add(&self, a, b)))
                }),
                Request::fail() => lp::codegen::Reply::blocking(move || {
                    crate::Calc::fail(&self)
                        .map(Response::fail)
                        .map_err(|e| lp::__remote_error!(e))
                }),
                Request::boom() => lp::codegen::Reply::spawn(async move {
                    Ok(Response::boom(crate::Calc::boom(&self)))
                }),
            }
        }
    }
    impl lp::codegen::Served for crate::Calc {
        fn interfaces(set: &mut lp::codegen::Interfaces<Self>) {
            set.add::<crate::Calc>();
        }
    }
}

pub mod scenarios {
    #[derive(Clone, Debug, lp::codegen::serde::Serialize, lp::codegen::serde::Deserialize)]
    #[serde(crate = "lp::codegen::serde")]
    pub struct Params {
        /// What the driver does.
        pub scenario: String,
        /// How many calc replicas.
        pub calcs: u32,
    }
    impl lp::codegen::Params for Params {
        fn flags() -> Vec<lp::codegen::Flag> {
            vec![
                lp::codegen::Flag {
                    name: "scenario",
                    ty: "String",
                    help: "What the driver does.",
                    default: None,
                },
                lp::codegen::Flag {
                    name: "calcs",
                    ty: "u32",
                    help: "How many calc replicas.",
                    default: Some("2"),
                },
            ]
        }
        fn from_flags(values: &lp::codegen::FlagValues) -> Result<Self, lp::codegen::FlagError> {
            Ok(Params {
                scenario: values.get("scenario")?,
                calcs: values.get("calcs")?,
            })
        }
        fn number(&self, index: usize) -> lp::codegen::Num {
            match index {
                1 => lp::codegen::Num::from(self.calcs),
                _ => lp::codegen::Num::Int(0),
            }
        }
    }
    /// `calcs - 1`, the index of the calc the driver holds: a value computed from a flag.
    const SITES: &[lp::codegen::Site] = &[
        lp::codegen::Site {
            what: "the count of group `calc`",
            text: "calcs",
            at: "scenarios.lp:3:16",
            expr: &lp::codegen::Expr::Param(1),
            target: lp::codegen::Target::Usize,
            min: None,
            max: Some(1 << 20),
            group: None,
            bound: None,
            flags: &[("calcs", 1)],
        },
        lp::codegen::Site {
            what: "the index into `calc` in argument `calc` of `driver`",
            text: "calcs - 1",
            at: "scenarios.lp:4:44",
            expr: &lp::codegen::Expr::Binary(
                lp::codegen::Op::Sub,
                &lp::codegen::Expr::Param(1),
                &lp::codegen::Expr::Int(1),
            ),
            target: lp::codegen::Target::Usize,
            min: None,
            max: None,
            group: None,
            bound: Some(0),
            flags: &[("calcs", 1)],
        },
    ];
    pub struct Program {
        pub calc: lp::Group<crate::Calc>,
        pub driver: lp::Node<crate::Driver>,
        layout: lp::codegen::Layout,
    }
    impl lp::Program for Program {
        fn into_parts(self) -> (lp::codegen::Layout, Vec<lp::codegen::ErasedNode>) {
            lp::codegen::erase_all(self)
        }
        fn select(self, selection: &mut lp::codegen::Selection) -> lp::codegen::Layout {
            self.calc.erase_into(selection);
            self.driver.erase_into(selection);
            self.layout
        }
    }
    pub fn make_program(params: Params) -> Program {
        let mut ids = lp::codegen::IdAlloc::new("scenarios", &params, SITES);
        let calc_ref = ids.group::<crate::Calc>("calc", lp::codegen::Count::Site(&SITES[0]));
        let driver_ref = ids.node::<crate::Driver>("driver");
        let calc = lp::codegen::group_courier(
            calc_ref.clone(),
            lp::codegen::Runner::none(),
            move |_env: &lp::codegen::Env| Ok(crate::Calc),
        );
        let driver = lp::codegen::node_worker(driver_ref, lp::codegen::Runner::blocking(), {
            let calc_ref = calc_ref.clone();
            let params = params.clone();
            move |env: &lp::codegen::Env| {
                let index = lp::codegen::value::<usize, _>(&SITES[1], &params, env)?;
                Ok(crate::Driver {
                    calc: env.group_at(&calc_ref, index)?,
                    scenario: params.scenario.clone(),
                })
            }
        })
        .calls(&calc_ref);
        Program {
            calc,
            driver,
            layout: ids.finish(),
        }
    }
    pub fn main() -> ::std::process::ExitCode {
        lp::codegen::main::<Params, Program>("scenarios", "Launch scenarios.", make_program)
    }
}
// ---- end of generated code ----

use scenarios::{make_program, Params};

fn params(scenario: &str) -> Params {
    Params {
        scenario: scenario.into(),
        calcs: 2,
    }
}

fn options() -> LaunchOptions {
    let me = std::env::current_exe().expect("test binary");
    LaunchOptions::new()
        .binary(me)
        .termination_notice(Duration::from_millis(500))
}

async fn outcome(scenario: &str, launch_type: LaunchType) -> Result<(), LaunchError> {
    let running = lp::launch_with(make_program(params(scenario)), launch_type, options()).await?;
    tokio::time::timeout(Duration::from_secs(20), running.wait())
        .await
        .expect("the program ends by itself")
}

fn expect_failure(result: Result<(), LaunchError>, what: &str) {
    match result {
        Err(LaunchError::NodeFailed { node, error, .. }) => {
            assert_eq!(node, "driver");
            assert!(error.contains(what), "{error:?} should mention {what:?}");
        }
        other => panic!("expected the driver to fail with {what:?}, got {other:?}"),
    }
}

async fn launch_types() {
    for launch_type in [LaunchType::TestMt, LaunchType::TestMp] {
        println!("{launch_type}: blocking run, remote errors, panics, stop()");
        outcome("ok", launch_type).await.expect("ok scenario");

        println!("{launch_type}: run returning Err fails the program");
        expect_failure(outcome("fail", launch_type).await, "driver gave up");

        println!("{launch_type}: run panicking fails the program");
        expect_failure(outcome("panic", launch_type).await, "driver exploded");

        println!("{launch_type}: stop() from outside reaches a running node");
        let program = make_program(params("wait"));
        let calcs = program.calc.refs();
        let running = lp::launch_with(program, launch_type, options())
            .await
            .unwrap();
        let handles = running.handles(&calcs);
        assert_eq!(handles.len(), 2);
        assert_eq!(lp::Handle::label(&handles[1]), "calc/1");
        assert_eq!(handles[1].add(40, 2).await.unwrap(), 42);
        let started = Instant::now();
        running.stop().await.unwrap();
        assert!(
            started.elapsed() < Duration::from_millis(450),
            "stopped within the grace"
        );
        // After stop, calls fail fast instead of hanging, saying the program stopped.
        let after = tokio::time::timeout(Duration::from_secs(5), handles[0].add(1, 1)).await;
        assert!(
            matches!(after, Ok(Err(CallError::Stopping { .. }))),
            "{after:?}"
        );

        println!("{launch_type}: wait_for one node while the others serve; outcomes");
        let program = make_program(params("return"));
        let (driver, calcs) = (program.driver.id(), program.calc.refs());
        let calc0 = calcs.get(0).unwrap();
        assert_eq!(calc0.label(), "calc/0");
        assert_eq!((calc0.name(), calc0.replica()), ("calc", Some(0)));
        let running = lp::launch_with(program, launch_type, options())
            .await
            .unwrap();
        running.wait_for(driver).await.unwrap();
        assert_eq!(running.outcome(driver), Some(lp::NodeOutcome::Finished));
        assert_eq!(running.outcome(calc0), None, "still serving");
        assert!(!running.is_stopping());
        assert_eq!(running.handle(calc0).add(2, 3).await.unwrap(), 5);
        running.stop().await.unwrap();
        assert_eq!(running.outcome(calc0), Some(lp::NodeOutcome::Finished));
        let status = running.exit_status(driver);
        match launch_type {
            LaunchType::TestMp => assert!(status.is_some_and(|s| s.success()), "{status:?}"),
            _ => assert_eq!(status, None),
        }

        println!("{launch_type}: wait_for a node that panics; its outcome");
        let program = make_program(params("panic"));
        let driver = program.driver.id();
        let running = lp::launch_with(program, launch_type, options())
            .await
            .unwrap();
        expect_failure(running.wait_for([driver]).await, "driver exploded");
        assert_eq!(
            running.outcome(driver),
            Some(lp::NodeOutcome::Panicked("driver exploded".into()))
        );

        println!("{launch_type}: a node that ignores the stop is named and killed");
        let program = make_program(params("hang"));
        let (driver, calc0) = (program.driver.id(), program.calc.refs().get(0).unwrap());
        let running = lp::launch_with(program, launch_type, options())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        match running.stop().await {
            Err(LaunchError::NodeFailed { node, failures, .. }) => {
                assert_eq!(node, "driver");
                assert_eq!(failures.len(), 1, "{failures:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(running.outcome(driver), Some(lp::NodeOutcome::Killed));
        assert_eq!(running.outcome(calc0), Some(lp::NodeOutcome::Finished));

        println!("{launch_type}: dropping a Running stops the program");
        let before = descendants_of(std::process::id());
        let mut program = make_program(params("wait"));
        let calcs = program.calc.refs();
        let running = lp::launch_with(program, launch_type, options())
            .await
            .unwrap();
        let handles = running.handles(&calcs);
        assert_eq!(handles[0].add(1, 2).await.unwrap(), 3);
        let spawned: Vec<u32> = descendants_of(std::process::id())
            .into_iter()
            .filter(|pid| !before.contains(pid))
            .collect();
        assert_eq!(
            spawned.is_empty(),
            launch_type == LaunchType::TestMt,
            "{spawned:?}"
        );
        drop(running);
        let after = tokio::time::timeout(Duration::from_secs(5), handles[0].add(1, 1)).await;
        assert!(
            matches!(after, Ok(Err(CallError::Stopping { .. }))),
            "{after:?}"
        );
        wait_until(
            "the nodes' processes to end",
            Duration::from_secs(5),
            || spawned.iter().all(|&pid| !alive(pid)),
        );

        println!("{launch_type}: a run that ignores stop is abandoned/killed after the grace");
        let running = lp::launch_with(make_program(params("hang")), launch_type, options())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        expect_failure(running.stop().await, "grace period");
        assert!(started.elapsed() < Duration::from_secs(4));

        println!("{launch_type}: an invalid layout is refused");
        program = make_program(params("ok"));
        drop(program);
        let bad = make_program(Params {
            scenario: "ok".into(),
            calcs: 0,
        });
        // calc[calcs - 1] does not exist: refused before any node starts, naming the flag,
        // the expression and where it is written.
        match lp::launch_with(bad, launch_type, options()).await {
            Err(LaunchError::Layout(errors)) => {
                let message = errors[0].to_string();
                assert!(
                    message.contains("with `--calcs 0`, `calcs - 1`")
                        && message.contains("scenarios.lp:4:44"),
                    "{message}"
                );
            }
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => panic!("a program with a bad index launched"),
        }
    }
}

/// `test_mp` forks the node processes from one fork server, the launcher's only child; and a
/// fork server gone (its nodes die with it) fails the program, saying so, instead of hanging it.
async fn fork_server() {
    println!("test_mp: one fork server forks the nodes; killed, it fails the program");
    let (running, ours) = launched_wait().await;
    let [server] = ours[..] else {
        panic!("the launch has one child process, its fork server: {ours:?}")
    };
    let nodes = children_of(server);
    assert_eq!(nodes.len(), 3, "driver and two calcs: {nodes:?}");
    // SAFETY: signalling a child of this process.
    unsafe { libc_kill(server as i32, 9) };
    match tokio::time::timeout(Duration::from_secs(20), running.wait()).await {
        Ok(Err(LaunchError::NodeFailed { error, .. })) => {
            assert!(error.contains("the fork server is gone"), "{error}")
        }
        other => panic!("expected a failure naming the fork server, got {other:?}"),
    }
    wait_until("the nodes to die", Duration::from_secs(5), || {
        nodes.iter().all(|&n| !alive(n))
    });

    println!("test_mp: a binary running threads before main is spawned, never forked");
    // The fork server inherits this process's environment; no node runs in this process.
    std::env::set_var(THREAD_BEFORE_MAIN, "1");
    let (running, ours) = launched_wait().await;
    std::env::remove_var(THREAD_BEFORE_MAIN);
    assert_eq!(
        ours.len(),
        3,
        "the three nodes, spawned by the launcher: {ours:?}"
    );
    running.stop().await.unwrap();
}

/// A launch's processes live as long as the launch, not as long as the thread that launched
/// it: a launch made on a blocking-pool thread, which then exits, goes on serving, its nodes
/// forked by the fork server or each spawned from the binary.
fn launched_from_a_passing_thread() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_keep_alive(Duration::from_millis(20))
        .enable_all()
        .build()
        .unwrap();
    for fork in [true, false] {
        println!("test_mp: a launch outlives the thread that launched it (forked: {fork})");
        runtime.block_on(async {
            let program = make_program(params("wait"));
            let calcs = program.calc.refs();
            let (running, launcher) = tokio::task::spawn_blocking(move || {
                let launched = tokio::runtime::Handle::current().block_on(lp::launch_with(
                    program,
                    LaunchType::TestMp,
                    options().fork_server(fork),
                ));
                (
                    launched.unwrap(),
                    rustix::thread::gettid().as_raw_nonzero().get(),
                )
            })
            .await
            .unwrap();
            wait_until(
                "the launching thread to exit",
                Duration::from_secs(5),
                || !std::path::Path::new(&format!("/proc/self/task/{launcher}")).exists(),
            );
            assert_eq!(running.handles(&calcs)[1].add(40, 2).await.unwrap(), 42);
            running.stop().await.unwrap();
        });
    }
}

/// The `wait` scenario launched under `test_mp` and answering, with the processes the launch
/// added as this process's children.
async fn launched_wait() -> (lp::Running, Vec<u32>) {
    let before = children_of(std::process::id());
    let program = make_program(params("wait"));
    let calcs = program.calc.refs();
    let running = lp::launch_with(program, LaunchType::TestMp, options())
        .await
        .unwrap();
    assert_eq!(running.handles(&calcs)[1].add(40, 2).await.unwrap(), 42);
    let ours = children_of(std::process::id())
        .into_iter()
        .filter(|pid| !before.contains(pid))
        .collect();
    (running, ours)
}

/// Set in a test binary's environment: it starts a thread before the program's `main`.
const THREAD_BEFORE_MAIN: &str = "LP_TEST_THREAD_BEFORE_MAIN";

/// Runs this binary as a program launcher (`local_mp`), returning the child process.
fn launcher(args: &[&str]) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .env("LP_TEST_AS_PROGRAM", "1")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Every live process under `pid`: its children, theirs, and so on.
fn descendants_of(pid: u32) -> Vec<u32> {
    let mut all = children_of(pid);
    let mut i = 0;
    while i < all.len() {
        let more = children_of(all[i]);
        all.extend(more);
        i += 1;
    }
    all
}

/// A `local_mp` launcher's node processes: the children of its fork server, its one child.
fn node_processes(launcher: u32) -> Vec<u32> {
    children_of(launcher)
        .into_iter()
        .flat_map(children_of)
        .collect()
}

fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(1) == Some(&pid.to_string().as_str()) {
            if let Ok(child) = entry.file_name().to_string_lossy().parse() {
                found.push(child);
            }
        }
    }
    found
}

fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_until(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn processes() {
    println!("local_mp: exit status and output of a failing program");
    let out = launcher(&["--lp_launch_type", "local_mp", "--scenario", "fail"])
        .wait_with_output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("node `driver` failed: driver gave up"),
        "{stderr}"
    );
    assert!(
        stdout.contains("[driver] driver running scenario fail"),
        "{stdout}"
    );

    println!("local_mp: a successful program exits 0");
    let out = launcher(&["--lp_launch_type=local_mp", "--scenario=ok", "--calcs", "3"])
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("launched 4/4 nodes"));

    println!("local_mt: a failing program exits 1 naming the node");
    let out = launcher(&["--scenario", "panic"])
        .wait_with_output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("node `driver` failed: run panicked: driver exploded"),
        "{stderr}"
    );

    println!("flags: a bad value is a clap error, exit 2");
    let out = launcher(&["--scenario", "ok", "--calcs", "many"])
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--calcs"));

    println!("local_mp: SIGTERM to the launcher stops every node, exit 0");
    let child = launcher(&["--lp_launch_type", "local_mp", "--scenario", "wait"]);
    let pid = child.id();
    wait_until("3 node processes", Duration::from_secs(20), || {
        node_processes(pid).len() == 3
    });
    let nodes = node_processes(pid);
    // SAFETY: signalling a child we spawned.
    unsafe { libc_kill(pid as i32, 15) };
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_until("the nodes to exit", Duration::from_secs(5), || {
        nodes.iter().all(|&n| !alive(n))
    });

    println!("local_mp: SIGKILL to the launcher leaves no orphans");
    let mut child = launcher(&["--lp_launch_type", "local_mp", "--scenario", "wait"]);
    let pid = child.id();
    wait_until("3 node processes", Duration::from_secs(20), || {
        node_processes(pid).len() == 3
    });
    let nodes = node_processes(pid);
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until("the orphans to die", Duration::from_secs(5), || {
        nodes.iter().all(|&n| !alive(n))
    });
    // A SIGKILLed launcher cannot remove its private directory: the next launch does.
    let prefix = format!("lp-{pid}-");
    let left = || {
        std::fs::read_dir(lp::testing::launch_base())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
    };
    assert!(left(), "the killed launcher's directory is still there");
    let out = launcher(&["--lp_launch_type", "local_mp", "--scenario", "ok"])
        .wait_with_output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(!left(), "the next launch removed the stale directory");
    println!("local_mp: the next launch removes a SIGKILLed launcher's directory");
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

fn main() -> ExitCode {
    if std::env::var_os("LP_NODE_ID").is_some() || std::env::var_os("LP_TEST_AS_PROGRAM").is_some()
    {
        if std::env::var_os(THREAD_BEFORE_MAIN).is_some() {
            // As a library's constructor might: a thread running before the program's `main`.
            std::thread::spawn(|| loop {
                std::thread::park();
            });
        }
        return scenarios::main();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(launch_types());
    runtime.block_on(fork_server());
    // The `hang` scenario's abandoned blocking run never returns: don't wait for it.
    runtime.shutdown_timeout(Duration::from_millis(100));
    launched_from_a_passing_thread();
    processes();
    println!("all launch tests passed");
    ExitCode::SUCCESS
}
