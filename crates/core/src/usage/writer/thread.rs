//! The writer thread: its loop, the WAL checkpoint hook, lease shrinking, the stop.

use super::batch::{Replies, write_batch};
use super::inbox::{Inbox, Op};
use super::rollups::{Rollups, Written};
use super::{BATCH, START_DELAY, TICK};
use crate::billing::funds::{Funds, LEASE_IDLE};
use crate::billing::ledger_work::StarterCache;
use crate::db::ledger::LedgerStore;
use crate::db::{Db, DbConnection, DbError, HeldConnection};
use crate::usage::calls::CallStart;
use chrono::Utc;
use diesel::prelude::*;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The writer does not preempt the HTTP workers when it wakes (Linux `SCHED_BATCH`): with as
/// many workers as cores, a writer that took a core the moment a finish arrived interrupted a
/// worker in the middle of a request; as a batch thread it runs when a worker waits for I/O
/// or its time slice ends. It still gets its fair share of CPU (batch is not idle priority),
/// and on an idle core it runs at once, so a lone request's commit is not delayed. Measured:
/// 6–9% more requests per second at 64 connections on 2 cores (docs/performance.md).
pub(super) fn yield_to_http_workers() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        use thread_priority::{ThreadPriority, ThreadPriorityOsValue};
        // Nice 0, what the thread has unless the Hub was started under `nice`; then raising it
        // back fails after the policy is set, which is as good.
        if let Err(e) = set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Os(ThreadPriorityOsValue::default()),
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
        ) {
            tracing::debug!("usage writer: SCHED_BATCH not set: {e:?}");
        }
    }
}

pub(super) fn run(db: Db, inbox: &Inbox, funds: &Funds, metered: Option<String>) {
    yield_to_http_workers();
    let mut ops = Vec::with_capacity(BATCH);
    // Starts not written yet, by call id, with when they arrived.
    let mut held: HashMap<String, (CallStart, Instant)> = HashMap::new();
    // When the oldest held start becomes due (checked without scanning `held` every time).
    let mut next_due: Option<Instant> = None;
    let mut starters = StarterCache::default();
    let mut written = Written::default();
    let mut rollups = Rollups::default();
    let mut conn = db.held();
    loop {
        // Between batches: finish a WAL checkpoint when the background one asked (db::wal).
        if let Err(e) = conn.run(|c| db.finish_checkpoint_if_wanted(c)) {
            tracing::warn!("WAL checkpoint failed: {e}");
        }
        // No waiting for more than what is there: under a closed-loop load every wait is lost
        // throughput (measured), and the inbox fills by itself while a commit runs.
        let closed = inbox.take(TICK, &mut ops);
        if ops.is_empty() && rollups.due() {
            rollups.write(&mut conn);
        }
        if ops.is_empty() || closed {
            // Leases nobody uses go back, so other instances can have them (PostgreSQL).
            let idle = if closed { Duration::ZERO } else { LEASE_IDLE };
            shrink_leases(&mut conn, funds, idle);
        }
        if closed {
            let mut replies = Replies::default();
            let mut state = WriterState {
                held: &mut held,
                starters: &mut starters,
                written: &mut written,
                funds,
                rollups: &mut rollups,
                metered: &metered,
            };
            let result = conn.run(|c| write_batch(c, &mut ops, &mut state, true, &mut replies));
            rollups.write(&mut conn);
            replies.send(result.as_ref().err().map(ToString::to_string));
            return;
        }
        let only_starts = ops.iter().all(|op| matches!(op, Op::Start(_)));
        let due = next_due.is_some_and(|at| at <= Instant::now());
        if only_starts && !due {
            // Hold them without touching the database.
            for op in ops.drain(..) {
                if let Op::Start(row) = op {
                    let now = Instant::now();
                    next_due.get_or_insert(now + START_DELAY);
                    held.insert(row.id.clone(), (*row, now));
                }
            }
            continue;
        }
        let mut replies = Replies::default();
        // A flush (a stop, or a caller that waits for everything) includes the rollups.
        let flush = ops.iter().any(|op| matches!(op, Op::Flush(_)));
        let mut state = WriterState {
            held: &mut held,
            starters: &mut starters,
            written: &mut written,
            funds,
            rollups: &mut rollups,
            metered: &metered,
        };
        let result = conn.run(|c| write_batch(c, &mut ops, &mut state, false, &mut replies));
        if let Err(e) = &result {
            tracing::error!("usage batch failed: {e}");
        }
        ops.clear();
        next_due = held.values().map(|(_, at)| *at + START_DELAY).min();
        if flush {
            rollups.write(&mut conn);
        }
        replies.send(result.err().map(|e| e.to_string()));
        if rollups.due() {
            rollups.write(&mut conn);
        }
    }
}

/// Writes the leases [`Funds::shrink_idle`] returned (already shrunk in memory, so a failure
/// only leaves a larger row than needed until the next write).
pub(super) fn shrink_leases(conn: &mut HeldConnection, funds: &Funds, idle: Duration) {
    let Some(instance) = funds.instance_id() else {
        return;
    };
    let shrunk = funds.shrink_idle(idle);
    if shrunk.is_empty() {
        return;
    }
    let now = Utc::now().naive_utc();
    let result = conn.run(|conn| -> Result<(), DbError> {
        if let DbConnection::Postgres(c) = conn {
            c.transaction(|c| {
                for (user, lease) in &shrunk {
                    c.set_lease(instance, user, (*lease).into(), now)?;
                }
                Ok::<_, diesel::result::Error>(())
            })?;
        }
        Ok(())
    });
    if let Err(e) = result {
        tracing::warn!("returning unused credit leases failed: {e}");
    }
}

/// What the writer keeps between batches.
pub(super) struct WriterState<'a> {
    /// Starts not written yet, by call id, with when they arrived.
    pub(super) held: &'a mut HashMap<String, (CallStart, Instant)>,
    pub(super) starters: &'a mut StarterCache,
    pub(super) written: &'a mut Written,
    pub(super) funds: &'a Funds,
    pub(super) rollups: &'a mut Rollups,
    /// Payment Kit bills: this instance's id for its outbox rows.
    pub(super) metered: &'a Option<String>,
}
