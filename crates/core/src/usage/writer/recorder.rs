//! The recorder: what the rest of the Hub calls to queue rows, ledger work and flushes.

use super::inbox::{Inbox, Op};
use super::ledger::Ledger;
use super::thread::run;
use crate::billing::funds::Funds;
use crate::billing::ledger_work::Bill;
use crate::db::responses::StoredResponse;
use crate::db::{Backend, Db};
use crate::usage::calls::{CallFinish, CallStart};
use chrono::Utc;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Handle to the writer thread.
pub struct Recorder {
    pub(super) inbox: Arc<Inbox>,
    /// Balances, holds and leases in memory for admission (see `billing::funds`).
    pub(super) funds: Arc<Funds>,
}

impl Recorder {
    /// Starts the writer thread; `instance_id` names this instance's lease rows (PostgreSQL)
    /// and outbox rows. `metered`: billing through Payment Kit (debits become outbox reports,
    /// balances are Payment Kit's, cached in memory on every backend).
    pub fn start(db: Db, instance_id: &str, metered: bool) -> std::io::Result<Recorder> {
        let inbox = Arc::new(Inbox::default());
        let writer_inbox = inbox.clone();
        let funds = Arc::new(match db.backend() {
            Backend::Postgres if !metered => Funds::leased(instance_id),
            _ => Funds::default(),
        });
        let writer_funds = funds.clone();
        let metered = metered.then(|| instance_id.to_owned());
        std::thread::Builder::new()
            .name("usage-writer".into())
            .spawn(move || run(db, &writer_inbox, &writer_funds, metered))?;
        Ok(Recorder { inbox, funds })
    }

    pub(super) fn push(&self, op: Op, urgent: bool) -> bool {
        push(&self.inbox, op, urgent)
    }

    /// Queues the `processing` row of an attempt (held in memory first, see [`START_DELAY`]).
    pub fn start_call(&self, row: CallStart) {
        self.push(Op::Start(Box::new(row)), false);
    }

    /// Queues the end of an attempt without waiting (failed attempts, disconnects); it is
    /// written with the next batch, at the latest after one [`TICK`].
    pub fn finish_call(&self, id: String, finish: CallFinish, bill: Option<Bill>) {
        self.push(
            Op::Finish {
                id,
                finish,
                bill,
                done: None,
            },
            false,
        );
    }

    /// Queues the end of an attempt and waits until it is committed.
    pub async fn finish_call_committed(&self, id: String, finish: CallFinish, bill: Option<Bill>) {
        let (done, wait) = oneshot::channel();
        let op = Op::Finish {
            id,
            finish,
            bill,
            done: Some(done),
        };
        if self.push(op, true) {
            let _ = wait.await;
        }
    }

    /// The built-in ledger's handle on this writer (admission, grants, funds).
    pub fn ledger(&self) -> Ledger {
        Ledger {
            inbox: self.inbox.clone(),
            funds: self.funds.clone(),
        }
    }

    /// Counts a successful use of a stored credential (`usage_count`, `last_used_at`).
    pub fn credential_used(&self, id: String) {
        let at = Utc::now().naive_utc();
        self.push(Op::CredentialUsed { id, at }, false);
    }

    /// Stores a Responses API turn with the next batch and waits until it is committed (or
    /// failed: the insert's own error, or the batch's).
    pub async fn store_response(&self, row: StoredResponse) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        let op = Op::StoreResponse {
            row: Box::new(row),
            done,
        };
        if !self.push(op, true) {
            return Err("the usage writer has stopped".into());
        }
        wait.await
            .unwrap_or_else(|_| Err("the usage writer stopped before storing".into()))
    }

    /// Waits until everything queued so far is committed.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.push(Op::Flush(done), true) {
            let _ = wait.await;
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // The thread writes what is left and ends.
        self.inbox.close();
    }
}

/// Queues `op`; false (and a logged error) when the writer has stopped.
pub(super) fn push(inbox: &Inbox, op: Op, urgent: bool) -> bool {
    let queued = inbox.push(op, urgent);
    if !queued {
        tracing::error!("usage writer stopped; work for it was lost");
    }
    queued
}
