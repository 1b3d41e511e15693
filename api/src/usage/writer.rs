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
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const BATCH: usize = 512;
/// Rows per multi-row INSERT (22 parameters each, well under SQLite's 32,766).
const INSERT_ROWS: usize = 256;
/// How long a `processing` row waits in memory for its finish before it is written.
pub const START_DELAY: Duration = Duration::from_millis(200);
/// How often held rows are looked at when nothing else arrives.
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

/// Handle to the writer thread. Cloning shares the queue.
pub struct Recorder {
    tx: mpsc::Sender<Op>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Recorder {
    pub fn start(db: Db) -> std::io::Result<Recorder> {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("usage-writer".into())
            .spawn(move || run(db, rx))?;
        Ok(Recorder {
            tx,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues the `processing` row of an attempt.
    pub fn start_call(&self, row: CallStart) {
        if self.tx.send(Op::Start(Box::new(row))).is_err() {
            tracing::error!("usage writer stopped; a call row was lost");
        }
    }

    /// Queues the end of an attempt without waiting (failed attempts, disconnects).
    pub fn finish_call(&self, id: String, finish: CallFinish) {
        if self
            .tx
            .send(Op::Finish {
                id,
                finish,
                done: None,
            })
            .is_err()
        {
            tracing::error!("usage writer stopped; a call row was lost");
        }
    }

    /// Queues the end of an attempt and waits until it is committed.
    pub async fn finish_call_committed(&self, id: String, finish: CallFinish) {
        let (done, wait) = oneshot::channel();
        if self
            .tx
            .send(Op::Finish {
                id,
                finish,
                done: Some(done),
            })
            .is_err()
        {
            tracing::error!("usage writer stopped; a call row was lost");
            return;
        }
        let _ = wait.await;
    }

    /// Counts a successful use of a stored credential (`usage_count`, `last_used_at`).
    pub fn credential_used(&self, id: String) {
        let _ = self.tx.send(Op::CredentialUsed {
            id,
            at: Utc::now().naive_utc(),
        });
    }

    /// Waits until everything queued so far is committed.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Op::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// Drains the queue and stops the thread (at shutdown, after the server stopped).
    pub fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        let _ = self.tx.send(Op::Flush(done));
        let _ = wait.blocking_recv();
        if let Some(handle) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            // The thread ends when every sender is gone; here we only need the flush above.
            drop(handle);
        }
    }
}

fn run(db: Db, rx: mpsc::Receiver<Op>) {
    let mut ops = Vec::with_capacity(BATCH);
    // Starts not written yet, by call id, with when they arrived.
    let mut held: HashMap<String, (CallStart, Instant)> = HashMap::new();
    loop {
        // Between batches: finish a WAL checkpoint when the background one asked (db::wal).
        if let Err(e) = db.finish_checkpoint_if_wanted() {
            tracing::warn!("WAL checkpoint failed: {e}");
        }
        match rx.recv_timeout(TICK) {
            Ok(op) => ops.push(op),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let mut acks = Vec::new();
                let _ = db.run_sync(|conn| write_batch(conn, &mut ops, &mut held, true, &mut acks));
                return;
            }
        }
        // No waiting for more: under a closed-loop load every wait is lost throughput (measured),
        // and the queue fills by itself while a commit runs.
        drain(&rx, &mut ops);
        if ops.is_empty() && held.values().all(|(_, at)| at.elapsed() < START_DELAY) {
            continue;
        }
        let mut acks = Vec::new();
        if let Err(e) = db.run_sync(|conn| write_batch(conn, &mut ops, &mut held, false, &mut acks))
        {
            tracing::error!("usage batch failed: {e}");
        }
        ops.clear();
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

/// Takes what is queued, up to a batch.
fn drain(rx: &mpsc::Receiver<Op>, ops: &mut Vec<Op>) {
    while ops.len() < BATCH {
        match rx.try_recv() {
            Ok(op) => ops.push(op),
            Err(_) => break,
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
