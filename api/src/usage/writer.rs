//! The group-commit writer: one thread owns the writes to `model_calls`; callers queue work
//! without waiting, except for the final row of an answer, which the caller awaits before the
//! last byte goes out (so a client that saw a complete answer always has its row). Each batch
//! is one transaction.
//!
//! A `processing` row is held in memory for up to [`START_DELAY`] before it is written: when the
//! call ends within that time (most non-streaming calls), one insert of the final row replaces an
//! insert and an update. Consequence, accepted on purpose: an attempt cut off by a crash within
//! its first 200 ms leaves no row at all (its client got no answer either); any longer attempt
//! leaves a `processing` row that the next start marks `failed`.

use super::calls::{CallFinish, CallStart};
use crate::db::schema::{ai_credentials, model_calls};
use crate::db::{Backend, Db, DbConnection, DbError};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const BATCH: usize = 512;
/// Rows per multi-row INSERT (22 parameters each, well under SQLite's 32,766).
const INSERT_ROWS: usize = 256;
/// How long a `processing` row waits in memory for its finish before it is written.
pub const START_DELAY: Duration = Duration::from_millis(200);
/// How often the writer looks at its inbox when nothing urgent arrives: the longest a held row
/// or an unawaited finish waits past its time.
const TICK: Duration = Duration::from_millis(50);

enum Op {
    Start(Box<CallStart>),
    Finish {
        id: String,
        finish: CallFinish,
        done: Option<oneshot::Sender<()>>,
    },
    CredentialUsed {
        id: String,
        at: NaiveDateTime,
    },
    Flush(oneshot::Sender<()>),
}

/// The writer's inbox. Unlike a channel, it wakes the writer only for work someone waits on (an
/// awaited finish, a flush): a `processing` row is only held in memory at first, so waking the
/// writer for it (a futex wake and a context switch on every call) bought nothing.
struct Inbox {
    state: Mutex<InboxState>,
    ready: Condvar,
}

#[derive(Default)]
struct InboxState {
    ops: Vec<Op>,
    writer_waiting: bool,
    closed: bool,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, InboxState> {
        // A panic while holding this lock cannot leave the queue half-written (push/take only).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `op`; `urgent` wakes the writer if it sleeps. False once the writer has stopped.
    fn push(&self, op: Op, urgent: bool) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        state.ops.push(op);
        let wake = urgent && state.writer_waiting;
        drop(state);
        if wake {
            self.ready.notify_one();
        }
        true
    }

    /// Waits up to `tick` for urgent work when nothing is queued; moves what is queued into
    /// `into` and tells whether the inbox closed.
    fn take(&self, tick: Duration, into: &mut Vec<Op>) -> bool {
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

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }
}

/// Handle to the writer thread.
pub struct Recorder {
    inbox: Arc<Inbox>,
}

impl Recorder {
    pub fn start(db: Db) -> std::io::Result<Recorder> {
        let inbox = Arc::new(Inbox {
            state: Mutex::new(InboxState::default()),
            ready: Condvar::new(),
        });
        let writer_inbox = inbox.clone();
        std::thread::Builder::new()
            .name("usage-writer".into())
            .spawn(move || run(db, &writer_inbox))?;
        Ok(Recorder { inbox })
    }

    fn push(&self, op: Op, urgent: bool) -> bool {
        let queued = self.inbox.push(op, urgent);
        if !queued {
            tracing::error!("usage writer stopped; a call row was lost");
        }
        queued
    }

    /// Queues the `processing` row of an attempt (held in memory first, see [`START_DELAY`]).
    pub fn start_call(&self, row: CallStart) {
        self.push(Op::Start(Box::new(row)), false);
    }

    /// Queues the end of an attempt without waiting (failed attempts, disconnects); it is
    /// written with the next batch, at the latest after one [`TICK`].
    pub fn finish_call(&self, id: String, finish: CallFinish) {
        self.push(
            Op::Finish {
                id,
                finish,
                done: None,
            },
            false,
        );
    }

    /// Queues the end of an attempt and waits until it is committed.
    pub async fn finish_call_committed(&self, id: String, finish: CallFinish) {
        let (done, wait) = oneshot::channel();
        let op = Op::Finish {
            id,
            finish,
            done: Some(done),
        };
        if self.push(op, true) {
            let _ = wait.await;
        }
    }

    /// Counts a successful use of a stored credential (`usage_count`, `last_used_at`).
    pub fn credential_used(&self, id: String) {
        let at = Utc::now().naive_utc();
        self.push(Op::CredentialUsed { id, at }, false);
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

fn run(db: Db, inbox: &Inbox) {
    let mut ops = Vec::with_capacity(BATCH);
    // Starts not written yet, by call id, with when they arrived.
    let mut held: HashMap<String, (CallStart, Instant)> = HashMap::new();
    // When the oldest held start becomes due (checked without scanning `held` every time).
    let mut next_due: Option<Instant> = None;
    loop {
        // Between batches: finish a WAL checkpoint when the background one asked (db::wal).
        if let Err(e) = db.finish_checkpoint_if_wanted() {
            tracing::warn!("WAL checkpoint failed: {e}");
        }
        // No waiting for more than what is there: under a closed-loop load every wait is lost
        // throughput (measured), and the inbox fills by itself while a commit runs.
        let closed = inbox.take(TICK, &mut ops);
        if closed {
            let mut acks = Vec::new();
            let _ = db.run_sync(|conn| write_batch(conn, &mut ops, &mut held, true, &mut acks));
            for ack in acks {
                let _ = ack.send(());
            }
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
        let mut acks = Vec::new();
        if let Err(e) = db.run_sync(|conn| write_batch(conn, &mut ops, &mut held, false, &mut acks))
        {
            tracing::error!("usage batch failed: {e}");
        }
        ops.clear();
        next_due = held.values().map(|(_, at)| *at + START_DELAY).min();
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

fn write_batch(
    conn: &mut DbConnection,
    ops: &mut Vec<Op>,
    held: &mut HashMap<String, (CallStart, Instant)>,
    flush_all: bool,
    acks: &mut Vec<oneshot::Sender<()>>,
) -> Result<(), DbError> {
    let mut finished: Vec<CallStart> = Vec::new();
    let mut finishes: Vec<(String, CallFinish)> = Vec::new();
    let mut used: HashMap<String, (i64, NaiveDateTime)> = HashMap::new();
    let mut flush = flush_all;
    for op in ops.drain(..) {
        match op {
            Op::Start(row) => {
                held.insert(row.id.clone(), (*row, Instant::now()));
            }
            Op::Finish { id, finish, done } => {
                match held.remove(&id) {
                    // Never written: one insert of the final row.
                    Some((mut row, _)) => {
                        finish.apply(&mut row);
                        finished.push(row);
                    }
                    None => finishes.push((id, finish)),
                }
                acks.extend(done);
            }
            Op::CredentialUsed { id, at } => {
                let entry = used.entry(id).or_insert((0, at));
                entry.0 += 1;
                entry.1 = at;
            }
            Op::Flush(done) => {
                flush = true;
                acks.push(done);
            }
        }
    }
    // Starts whose call is still running after the delay (or all, on a flush) are written now.
    let due: Vec<String> = held
        .iter()
        .filter(|(_, (_, at))| flush || at.elapsed() >= START_DELAY)
        .map(|(id, _)| id.clone())
        .collect();
    let mut processing = Vec::with_capacity(due.len());
    for id in due {
        if let Some((row, _)) = held.remove(&id) {
            processing.push(row);
        }
    }
    if processing.is_empty() && finished.is_empty() && finishes.is_empty() && used.is_empty() {
        return Ok(());
    }
    // The statements run on the inner connection: diesel's two-engine connection type rewrites
    // every query on the way (the largest cost in this thread's profile).
    macro_rules! write_all {
        ($c:ident) => {{
            for rows in [&processing, &finished] {
                for chunk in rows.chunks(INSERT_ROWS) {
                    diesel::insert_into(model_calls::table)
                        .values(chunk)
                        .execute($c)?;
                }
            }
            for (id, finish) in &finishes {
                diesel::update(model_calls::table.find(id))
                    .set(finish)
                    .execute($c)?;
            }
            for (id, (count, at)) in &used {
                diesel::update(ai_credentials::table.find(id))
                    .set((
                        ai_credentials::usage_count.eq(ai_credentials::usage_count + count),
                        ai_credentials::last_used_at.eq(at),
                    ))
                    .execute($c)?;
            }
            Ok::<_, diesel::result::Error>(())
        }};
    }
    let result = match conn {
        // IMMEDIATE: take the write lock up front instead of upgrading a read lock mid-way.
        DbConnection::Sqlite(c) => c.immediate_transaction(|c| write_all!(c)),
        DbConnection::Postgres(c) => c.transaction(|c| write_all!(c)),
    };
    if result.is_err() {
        // Keep the processing rows for the next batch rather than losing them.
        for row in processing {
            held.insert(row.id.clone(), (row, Instant::now()));
        }
    }
    result?;
    Ok(())
}

/// Rows left `processing` by a crash become `failed` ("interrupted"). On SQLite one process owns
/// the file, so all of them. On PostgreSQL other instances may be mid-call: this instance's own
/// rows (`instance_id`, stable across its restarts) at once, anyone's after 30 minutes.
pub fn fail_interrupted(
    conn: &mut DbConnection,
    backend: Backend,
    instance_id: Option<&str>,
) -> Result<usize, DbError> {
    let stale = Utc::now().naive_utc() - chrono::Duration::minutes(30);
    let mut query = diesel::update(model_calls::table)
        .filter(model_calls::status.eq("processing"))
        .into_boxed();
    if backend == Backend::Postgres {
        query = match instance_id {
            Some(id) => query.filter(
                model_calls::instance_id
                    .eq(id.to_owned())
                    .or(model_calls::created_at.lt(stale)),
            ),
            None => query.filter(model_calls::created_at.lt(stale)),
        };
    }
    Ok(query
        .set((
            model_calls::status.eq("failed"),
            model_calls::error_reason.eq("interrupted"),
        ))
        .execute(conn)?)
}
