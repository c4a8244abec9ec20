//! `lp::sim::explore` finds the ledger's bug — a deposit retried after a late reply is counted
//! twice — within 1,000 seeds of random partitions between the tellers and the bank, replays
//! the failing seed exactly, and the fixed ledger (idempotent deposits) passes every seed.

use std::time::Duration;

use ledger::ledger::{make_program, Params};
use lp::sim::{explore, Chaos, Sim, SimOutcome};

const TELLERS: u32 = 2;
const DEPOSITS: u64 = 10;

// ANCHOR: run
/// One run from `seed`: the tellers deposit while partitions come and go; once every teller
/// is done, the test checks the balance.
fn run(seed: u64, idempotent: bool) -> SimOutcome {
    let program = make_program(Params {
        tellers: TELLERS,
        deposits: DEPOSITS,
        idempotent,
    });
    let (bank, tellers) = (program.bank.id(), program.teller.refs());
    let chaos = Chaos::new()
        .partition(&tellers, bank)
        .every(Duration::from_millis(150))
        .lasting(Duration::from_millis(300));
    Sim::new(seed)
        .limit(Duration::from_secs(10))
        .chaos(chaos)
        .run_with(program, move |nodes| async move {
            for teller in nodes.handles(&tellers) {
                while !teller.done().await? {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            let balance = nodes.handle(bank).balance().await?;
            let expected = u64::from(TELLERS) * DEPOSITS;
            anyhow::ensure!(
                balance == expected,
                "the balance is {balance}, not {expected}: a deposit was counted twice"
            );
            Ok(())
        })
}
// ANCHOR_END: run

/// The invariant: the run stopped cleanly and the balance was right.
fn counted_once(outcome: &SimOutcome) -> Result<(), String> {
    outcome
        .result
        .as_ref()
        .map_err(lp::sim::SimError::to_string)
        .copied()
}

// ANCHOR: explore
#[test]
fn explore_finds_the_double_count_and_the_fix_passes_every_seed() {
    let found = explore(0..1_000, |seed| run(seed, false), counted_once)
        .expect_err("some seed's partitions make a retried deposit count twice");
    println!("{found}");
    assert!(found.broken.contains("counted twice"), "{found}");
    // The seed replays the same run, event for event.
    let again = run(found.outcome.seed, false);
    assert_eq!(again.trace, found.outcome.trace);
    assert!(counted_once(&again).is_err());

    let fixed = explore(0..1_000, |seed| run(seed, true), counted_once);
    assert_eq!(fixed.map_err(|c| c.to_string()), Ok(1_000));
}
// ANCHOR_END: explore
