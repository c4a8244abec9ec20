//! The soundness programs (`tests/soundness.lp`, `src/soundness/`), each a shape that once
//! passed `lpc check` and then failed in rustc or at launch. That this file compiles is half
//! the test (the package built); the rest launches each program in `test_mt` and `test_mp` and
//! checks that what arrives is what the `.lp` file says.

use lp::{LaunchError, LaunchOptions, LaunchType};
use lp_tests::soundness::traits::VariableSource;
use lp_tests::soundness::values::Received;
use lp_tests::support::{binary, run};
use std::process::Command;
use std::time::Duration;

const TYPES: [LaunchType; 2] = [LaunchType::TestMt, LaunchType::TestMp];

fn options(binary: &str) -> LaunchOptions {
    LaunchOptions::new()
        .binary(lp_tests::support::binary(binary))
        .termination_notice(Duration::from_secs(2))
}

/// Folded constants, integer and float arithmetic over params and replicas, options given and
/// left out, a raw-named parameter, an index computed from the group size, settings from
/// params: every probe reports exactly what the `.lp` computes.
#[tokio::test(flavor = "multi_thread")]
async fn values_arrive_as_computed() {
    use lp_tests::values::{make_program, Params};
    for launch_type in TYPES {
        let program = make_program(Params::default());
        let settings = program.probe.settings().clone();
        let restart = settings.restart.expect("a restart policy");
        assert_eq!(
            (restart.max, restart.backoff),
            (3, Duration::from_millis(10))
        );
        assert_eq!(settings.resources.cpus, Some(1.0));
        assert_eq!(settings.resources.memory.as_deref(), Some("64Mi"));
        assert_eq!(settings.resources.gpus, Some(0));
        let probes = program.probe.refs();
        let running = lp::launch_with(program, launch_type, options("soundness_values"))
            .await
            .expect("launch");
        let handles = running.handles(&probes);
        assert_eq!(handles.len(), 4);
        for (i, probe) in handles.iter().enumerate() {
            let received = probe.received().await.expect("received");
            let r = i as u64;
            assert_eq!(
                received,
                Received {
                    seed: 7 + r * 7919,
                    epsilon: (0.4 * r as f64) as f32,
                    share: (1.0 / (r as f64 + 1.0)) as f32,
                    small: 255,
                    index: i,
                    maybe: Some(5),
                    label: None,
                    kind: 8,
                    peer: format!("probe/{}", (i + 1) % 4),
                },
                "{launch_type} replica {i}"
            );
        }
        running.stop().await.expect("clean stop");
    }
}

/// A value computed from params that does not fit is refused before any node starts, naming
/// the flag, the expression and where it is written.
#[tokio::test]
async fn bad_computed_values_are_refused_before_launch() {
    use lp_tests::values::{make_program, Params};
    let params = Params {
        n: 2,
        ..Params::default()
    };
    match lp::launch(make_program(params), LaunchType::TestMt).await {
        Err(LaunchError::Layout(errors)) => {
            let message = errors[0].to_string();
            assert!(message.contains("with `--n 2`, `n - 3` is -1"), "{message}");
            assert!(message.contains("soundness.lp:"), "{message}");
        }
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("launched with a negative gpu count"),
    }
}

/// The binary reports a bad computed value as a flag error: exit 2, the flag and its value,
/// the expression and its place; never a panic.
#[test]
fn bad_computed_values_are_flag_errors() {
    let cases: [(&[&str], &[&str]); 3] = [
        (&["--n", "2"], &["`--n 2`", "`n - 3` is -1"]),
        (
            &["--seed", "18446744073709551615"],
            &[
                "`--seed 18446744073709551615`",
                "`seed + replica * 7919` for replica 1",
            ],
        ),
        (
            &["--n", "1048576"],
            &["`--n 1048576`", "the count of group `probe`"],
        ),
    ];
    for (args, expected) in cases {
        let mut command = Command::new(binary("soundness_values"));
        command.args(args);
        let out = run(command, Duration::from_secs(30));
        assert_eq!(out.status, Some(2), "{args:?}: {out:#?}");
        for text in expected {
            assert!(
                out.stderr.contains(text),
                "{args:?}: {text}\n{}",
                out.stderr
            );
        }
        assert!(out.stderr.contains("soundness.lp:"), "{}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
}

/// Handles typed by a courier trait (alone and in a list of several types), handles passed in
/// calls both ways (the test process receives one in a reply and calls it), methods once
/// mangled to one name, parameters bound by patterns, two types named `Store`.
#[tokio::test(flavor = "multi_thread")]
async fn handles_by_trait_and_in_calls() {
    use lp_tests::handles::{make_program, Params};
    for launch_type in TYPES {
        let program = make_program(Params::default());
        let ids = (
            program.actor.id(),
            program.registry.id(),
            program.learner.id(),
            program.cache.id(),
            program.hot.id(),
            program.fridge.id(),
        );
        let running = lp::launch_with(program, launch_type, options("soundness_handles"))
            .await
            .expect("launch");
        let (actor, registry, learner, cache, hot, fridge) = ids;
        let actor = running.handle(actor);
        assert_eq!(actor.pull().await.expect("pull"), vec![4.0]);
        assert_eq!(
            actor.names().await.expect("names"),
            vec!["learner".to_string(), "cache".to_string()]
        );

        let registry = running.handle(registry);
        let learner = running.handle(learner);
        assert_eq!(registry.lookup().await.expect("lookup").map(|_| ()), None);
        assert_eq!(
            registry.register(learner).await.expect("register"),
            "learner"
        );
        let received = registry
            .lookup()
            .await
            .expect("lookup")
            .expect("registered");
        assert_eq!(lp::Handle::label(&received), "learner");
        assert_eq!(
            received.steps().await.expect("call the received handle"),
            42
        );
        assert_eq!(registry.ask().await.expect("ask"), 42);
        let source = running.handle_as::<dyn VariableSource, _>(cache);
        assert_eq!(registry.relay(source).await.expect("relay"), "cache");

        assert_eq!(registry.get_x().await.expect("get_x"), 2);
        assert_eq!(registry.getX().await.expect("getX"), 1);
        assert_eq!(registry.patterns(1, (2, 3), 4).await.expect("patterns"), 9);
        assert_eq!(
            registry.lifetimes("four".into()).await.expect("lifetimes"),
            4
        );

        assert_eq!(running.handle(hot).temperature().await.expect("hot"), 90);
        let fridge = running.handle(fridge);
        assert_eq!(fridge.temperature().await.expect("cold"), -5);
        running.stop().await.expect("clean stop");
    }
}

/// Per-edge keys, with every node a process of its own (`test_mp`): a node that calls a node it
/// holds no handle to, with a handle it made itself (presenting the key of a node it does hold),
/// is refused and nothing runs; a handle received in a call works, even after a hostile node
/// passed a forged one first (its key is not kept). (Under `test_mt` every node shares one
/// address space, and calls carry no keys.)
#[tokio::test(flavor = "multi_thread")]
async fn a_node_calls_only_the_nodes_it_holds_handles_to() {
    use lp_tests::privilege::{make_program, Params};
    let program = make_program(Params::default());
    let (vault, spies, mole) = (program.vault.id(), program.spy.refs(), program.mole.id());
    let running = lp::launch_with(program, LaunchType::TestMp, options("soundness_privilege"))
        .await
        .expect("launch");
    let spies = running.handles(&spies);
    let refused = spies[0].break_in().await.expect_err("a forged handle");
    assert!(
        refused.to_string().contains("connection was refused"),
        "{refused}"
    );
    let vault = running.handle(vault);
    assert_eq!(vault.opened().await.expect("opened"), 0, "nothing ran");
    let planted = running
        .handle(mole)
        .plant()
        .await
        .expect_err("a forged key");
    assert!(
        planted.to_string().contains("holds no key to it"),
        "{planted}"
    );
    assert_eq!(vault.opened().await.expect("opened"), 0, "nothing ran");
    assert_eq!(spies[1].borrow().await.expect("a lent handle"), 1);
    assert_eq!(vault.opened().await.expect("opened"), 1);
    running.stop().await.expect("clean stop");
}

/// A constructor returning `Err` fails the launch, naming the node and the error.
#[tokio::test(flavor = "multi_thread")]
async fn a_constructor_error_fails_the_launch() {
    use lp_tests::failing::{make_program, Params};
    for launch_type in TYPES {
        let outcome = match lp::launch_with(
            make_program(Params::default()),
            launch_type,
            options("soundness_failing"),
        )
        .await
        {
            Ok(running) => tokio::time::timeout(Duration::from_secs(20), running.wait())
                .await
                .expect("the program ends"),
            Err(e) => Err(e),
        };
        match outcome {
            Err(LaunchError::NodeFailed { node, error, .. }) => {
                assert_eq!(node, "cache");
                assert!(
                    error.contains("a cache needs a size of at least 1"),
                    "{error}"
                );
            }
            other => panic!("{launch_type}: expected the cache to fail, got {other:?}"),
        }
    }
}

/// Nodes named like the generated code's own locals and items, Rust keywords, a group named
/// `Program`, params named like the launcher's flag aliases: all reach their values.
#[tokio::test(flavor = "multi_thread")]
async fn names_the_generated_code_uses_itself() {
    use lp_tests::r#loop::{make_program, Params};
    for launch_type in TYPES {
        let program = make_program(Params::default());
        let nodes = [
            (program.ids.id(), 3, None),
            (program.params.id(), 2, Some(3)),
            (program.env.id(), 1, Some(2)),
            (program.nodes.id(), 4, Some(1)),
            (program.layout.id(), 5, Some(4)),
            (program.x.id(), 6, Some(5)),
            (program.x_ref.id(), 7, Some(6)),
            (program.__r_x.id(), 8, Some(7)),
            (program.r#match.id(), 9, Some(8)),
        ];
        let group = program.Program.refs();
        let running = lp::launch_with(program, launch_type, options("soundness_loop"))
            .await
            .expect("launch");
        for (node, value, peer) in nodes {
            let node = running.handle(node);
            assert_eq!(node.value().await.expect("value"), value);
            assert_eq!(node.peer_value().await.expect("peer"), peer);
        }
        for (i, node) in running.handles(&group).iter().enumerate() {
            assert_eq!(node.value().await.expect("value"), 10 + i as u32);
            assert_eq!(node.peer_value().await.expect("peer"), Some(9));
        }
        running.stop().await.expect("clean stop");
    }
}

/// A param named like an alias of a launcher flag keeps its name (the launcher's own
/// `--lp_…` spelling still works), and the binary's `--help` does not panic.
#[test]
fn params_named_like_launcher_aliases() {
    let mut command = Command::new(binary("soundness_loop"));
    command.arg("--help");
    let out = run(command, Duration::from_secs(30));
    assert_eq!(out.status, Some(0), "{out:#?}");
    assert!(out.stdout.contains("--launch_type <U32>"), "{}", out.stdout);
    assert!(
        out.stdout.contains("--lp_launch_type <TYPE>"),
        "{}",
        out.stdout
    );
    let mut command = Command::new(binary("soundness_loop"));
    command.args(["--launch_type", "x"]);
    let out = run(command, Duration::from_secs(30));
    assert_eq!(out.status, Some(2), "{out:#?}");
    assert!(out.stderr.contains("--launch_type"), "{}", out.stderr);
}
