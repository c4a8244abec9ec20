//! The in-process transport of `local_mt`/`test_mt`: one slot per node, filled with the node's
//! object once it is constructed. Calls take the object from the slot and run the generated
//! dispatch directly — no sockets, no serialization.

use std::any::Any;
use std::sync::Arc;

use tokio::sync::watch;

use crate::courier::interface::Table;
use crate::courier::Host;

/// What a slot holds.
#[derive(Clone)]
pub(crate) enum SlotState {
    /// The node is not constructed yet: callers wait (bounded by the ready deadline).
    Pending,
    /// The node serves.
    Up(Arc<Up>),
    /// The node stopped: callers fail at once.
    Down,
}

/// A node that serves in this process.
pub(crate) struct Up {
    /// Its `Arc<T>`, as `Any`.
    pub(crate) object: Arc<dyn Any + Send + Sync>,
    /// Its label, span and batch queues.
    pub(crate) host: Arc<Host>,
    /// The interfaces it answers.
    pub(crate) table: Arc<Table>,
}

/// The endpoint of one node in this process.
pub(crate) struct Slot {
    /// Watched by callers that wait for the node to come up.
    state: watch::Sender<SlotState>,
}

impl Slot {
    pub(crate) fn new() -> Self {
        Slot {
            state: watch::Sender::new(SlotState::Pending),
        }
    }

    /// Makes the node callable (again, after a restart: calls then reach the new object).
    pub(crate) fn publish(&self, up: Up) {
        self.state.send_replace(SlotState::Up(Arc::new(up)));
    }

    /// Makes callers wait again (the node failed and is being restarted).
    pub(crate) fn unpublish(&self) {
        self.state.send_replace(SlotState::Pending);
    }

    /// Makes the node uncallable (the program stopped).
    pub(crate) fn take_down(&self) {
        self.state.send_replace(SlotState::Down);
    }

    /// The node's state, unless it is pending: no waiting, no subscription (the path of
    /// nearly every call, which must not use up its task's cooperative budget — a task
    /// making thousands of calls at once would otherwise be woken once per 128 of them).
    pub(crate) fn settled(&self) -> Option<SlotState> {
        let state = self.state.borrow();
        match &*state {
            SlotState::Pending => None,
            settled => Some(settled.clone()),
        }
    }

    /// Waits until the node is up or down.
    pub(crate) async fn ready(&self) -> SlotState {
        let mut rx = self.state.subscribe();
        let state = rx
            .wait_for(|s| !matches!(s, SlotState::Pending))
            .await
            .map(|state| state.clone());
        state.unwrap_or(SlotState::Down)
    }
}

/// Every node's slot, indexed by node id.
#[derive(Clone)]
pub(crate) struct InProcNet {
    /// One slot per node of the program, allocated before any node is constructed.
    pub(crate) slots: Vec<Arc<Slot>>,
}

impl InProcNet {
    pub(crate) fn new(count: usize) -> Self {
        InProcNet {
            slots: (0..count).map(|_| Arc::new(Slot::new())).collect(),
        }
    }
}
