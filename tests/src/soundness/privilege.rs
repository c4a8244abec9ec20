//! Per-edge keys: a node may call only the nodes it holds handles to, from its arguments in
//! `.lp` or received in calls.

use std::sync::atomic::{AtomicU64, Ordering};

use lp::{CallError, Handle};

/// Counts the times it was opened.
pub struct Vault {
    opened: AtomicU64,
}

impl Vault {
    pub fn new() -> Self {
        Vault {
            opened: AtomicU64::new(0),
        }
    }

    /// Opens it: how many times it was, this one included.
    pub fn open(&self) -> u64 {
        self.opened.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// How many times it was opened.
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::SeqCst)
    }
}

/// Holds a handle to the vault (its argument in `.lp`), and lends it.
pub struct Keeper {
    vault: Handle<Vault>,
}

impl Keeper {
    pub fn new(vault: Handle<Vault>) -> Self {
        Keeper { vault }
    }

    /// The vault's handle: its receiver may open the vault too.
    pub fn lend(&self) -> Handle<Vault> {
        self.vault.clone()
    }
}

/// Holds a handle to the keeper only.
pub struct Spy {
    keeper: Handle<Keeper>,
}

impl Spy {
    pub fn new(keeper: Handle<Keeper>) -> Self {
        Spy { keeper }
    }

    /// Opens the vault through a handle it makes itself, presenting the keeper's key, as a
    /// hostile node would.
    pub async fn break_in(&self) -> Result<u64, CallError> {
        let forged = lp::testing::forged::<Vault, Keeper>(&self.keeper, "vault");
        forged.expect("the program has a vault").open().await
    }

    /// Opens the vault through the handle the keeper lends.
    pub async fn borrow(&self) -> Result<u64, CallError> {
        self.keeper.lend().await?.open().await
    }

    /// Opens the vault through a handle passed to it.
    pub async fn open_with(&self, vault: Handle<Vault>) -> Result<u64, CallError> {
        vault.open().await
    }
}

/// Holds a handle to a spy, and passes it a handle to the vault it forged: one that carries
/// another node's key as the vault's, as a hostile node would, so that the spy keeps a bogus
/// key in place of the real one it is lent later.
pub struct Mole {
    spy: Handle<Spy>,
}

impl Mole {
    pub fn new(spy: Handle<Spy>) -> Self {
        Mole { spy }
    }

    /// Has the spy open the vault with the forged handle.
    pub async fn plant(&self) -> Result<u64, CallError> {
        let forged = lp::testing::forged::<Vault, Spy>(&self.spy, "vault");
        self.spy
            .open_with(forged.expect("the program has a vault"))
            .await
    }
}
