//! The writer's inbox: work queued by callers, waking the writer only for work someone awaits.

use crate::billing::ledger::NewGrant;
use crate::billing::ledger_work::{AdmitRequest, Bill, DecidedReply, GrantReply};
use crate::db::responses::StoredResponse;
use crate::usage::calls::{CallFinish, CallStart};
use chrono::NaiveDateTime;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::oneshot;

/// Where a stored response's outcome goes: committed, or why not.
pub(super) type StoreReply = oneshot::Sender<Result<(), String>>;

pub(super) enum Op {
    Start(Box<CallStart>),
    Finish {
        id: String,
        finish: CallFinish,
        bill: Option<Bill>,
        done: Option<oneshot::Sender<()>>,
    },
    CredentialUsed {
        id: String,
        at: NaiveDateTime,
    },
    Flush(oneshot::Sender<()>),
    /// A stored Responses API turn, committed with the batch (a taken id fails the turn alone,
    /// never the batch's call rows).
    StoreResponse {
        row: Box<StoredResponse>,
        done: StoreReply,
    },
    Admit {
        request: AdmitRequest,
        reply: DecidedReply,
    },
    Grant {
        grant: NewGrant,
        reply: GrantReply,
    },
}

/// The writer's inbox. Unlike a channel, it wakes the writer only for work someone waits on (an
/// awaited finish, a flush): a `processing` row is only held in memory at first, so waking the
/// writer for it (a futex wake and a context switch on every call) bought nothing.
#[derive(Default)]
pub(super) struct Inbox {
    pub(super) state: Mutex<InboxState>,
    pub(super) ready: Condvar,
    /// Tests: how many times a push woke the writer.
    #[cfg(test)]
    pub(super) wakes: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
pub(super) struct InboxState {
    pub(super) ops: Vec<Op>,
    pub(super) writer_waiting: bool,
    pub(super) closed: bool,
}

impl Inbox {
    pub(super) fn lock(&self) -> MutexGuard<'_, InboxState> {
        // A panic while holding this lock cannot leave the queue half-written (push/take only).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `op`; `urgent` wakes the writer if it sleeps. False once the writer has stopped.
    pub(super) fn push(&self, op: Op, urgent: bool) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        state.ops.push(op);
        let wake = urgent && state.writer_waiting;
        // One wake is enough: the pushes that follow before the writer runs find it awake.
        state.writer_waiting &= !wake;
        drop(state);
        if wake {
            #[cfg(test)]
            self.wakes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.ready.notify_one();
        }
        true
    }

    /// Waits up to `tick` for urgent work when nothing is queued; moves what is queued into
    /// `into` and tells whether the inbox closed.
    pub(super) fn take(&self, tick: Duration, into: &mut Vec<Op>) -> bool {
        let mut state = self.lock();
        if state.ops.is_empty() && !state.closed {
            state.writer_waiting = true;
            state = self
                .ready
                .wait_timeout(state, tick)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            state.writer_waiting = false;
        }
        into.append(&mut state.ops);
        state.closed
    }

    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }
}
