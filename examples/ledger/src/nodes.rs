//! The node types of `ledger`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Holds the balance.
#[derive(Debug, Default)]
pub struct Bank {
    /// Whether a deposit already applied is recognized by its teller and sequence number.
    idempotent: bool,
    state: Mutex<Ledger>,
}

#[derive(Debug, Default)]
struct Ledger {
    balance: u64,
    /// The last sequence number applied, by teller.
    applied: BTreeMap<u32, u64>,
}

impl Bank {
    /// A bank with a zero balance.
    pub fn new(idempotent: bool) -> Self {
        Bank {
            idempotent,
            ..Bank::default()
        }
    }

    /// Adds `amount`: the `seq`-th deposit of `teller` (numbered from 1).
    pub fn deposit(&self, teller: u32, seq: u64, amount: u64) {
        let mut ledger = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.idempotent {
            let last = ledger.applied.entry(teller).or_default();
            if *last >= seq {
                return; // a retry of a deposit already applied
            }
            *last = seq;
        }
        ledger.balance += amount;
    }

    /// The balance.
    pub fn balance(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).balance
    }
}

/// How long a teller waits for a deposit's reply before it tries again.
const PATIENCE: Duration = Duration::from_millis(100);

/// Deposits one unit at a time into the bank, every 20 ms, retrying a deposit whose reply is
/// late.
pub struct Teller {
    bank: lp::Handle<Bank>,
    id: u32,
    deposits: u64,
    done: AtomicBool,
}

impl Teller {
    /// Teller `id`, to deposit `deposits` units.
    pub fn new(bank: lp::Handle<Bank>, id: u32, deposits: u64) -> Self {
        Teller {
            bank: lp::Handle::with_deadline(&bank, PATIENCE),
            id,
            deposits,
            done: AtomicBool::new(false),
        }
    }

    /// Whether every deposit was acknowledged.
    pub fn done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

// ANCHOR: teller
impl lp::Run for Teller {
    async fn run(&self, ctx: lp::Context) -> lp::Result<()> {
        for seq in 1..=self.deposits {
            loop {
                match self.bank.deposit(self.id, seq, 1).await {
                    Ok(()) => break,
                    // No reply in time: the deposit may or may not have arrived.
                    Err(lp::CallError::DeadlineExceeded { .. }) => continue,
                    // The program stops: this teller is done as well.
                    Err(_) if ctx.is_stopping() => return Ok(()),
                    Err(e) => return Err(e.into()),
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.done.store(true, Ordering::Release);
        Ok(())
    }
}
// ANCHOR_END: teller
