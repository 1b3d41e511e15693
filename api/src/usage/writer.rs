//! The group-commit writer: one thread owns the writes to `model_calls`; callers queue work
//! without waiting, except for the final row of an answer, which the caller awaits before the
//! last byte goes out (so a client that saw a complete answer always has its row). Each batch
//! is one transaction; a start and its finish in the same batch become one insert.

use super::calls::{CallFinish, CallStart};
use crate::db::schema::{ai_credentials, model_calls};
use crate::db::{Backend, Db, DbConnection, DbError};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;
use std::sync::Mutex;
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

const BATCH: usize = 512;

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
    tx: mpsc::UnboundedSender<Op>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Recorder {
    pub fn start(db: Db) -> std::io::Result<Recorder> {
        let (tx, rx) = mpsc::unbounded_channel();
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

fn run(db: Db, mut rx: mpsc::UnboundedReceiver<Op>) {
    let mut ops = Vec::with_capacity(BATCH);
    while rx.blocking_recv().map(|op| ops.push(op)).is_some() {
        while ops.len() < BATCH {
            match rx.try_recv() {
                Ok(op) => ops.push(op),
                Err(_) => break,
            }
        }
        let mut acks = Vec::new();
        let result = db.run_sync(|conn| write_batch(conn, &mut ops, &mut acks));
        if let Err(e) = result {
            tracing::error!("usage batch of {} operations failed: {e}", ops.len());
            // Retry the batch once row by row would duplicate inserts; keep it simple and loud.
        }
        ops.clear();
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

fn write_batch(
    conn: &mut DbConnection,
    ops: &mut Vec<Op>,
    acks: &mut Vec<oneshot::Sender<()>>,
) -> Result<(), DbError> {
    // Coalesce: a start and its finish in the same batch are one insert.
    let mut starts: Vec<CallStart> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut finishes: Vec<(String, CallFinish)> = Vec::new();
    let mut used: HashMap<String, (i64, NaiveDateTime)> = HashMap::new();
    for op in ops.drain(..) {
        match op {
            Op::Start(row) => {
                index.insert(row.id.clone(), starts.len());
                starts.push(*row);
            }
            Op::Finish { id, finish, done } => {
                match index.get(&id) {
                    Some(i) => finish.apply(&mut starts[*i]),
                    None => finishes.push((id, finish)),
                }
                acks.extend(done);
            }
            Op::CredentialUsed { id, at } => {
                let entry = used.entry(id).or_insert((0, at));
                entry.0 += 1;
                entry.1 = at;
            }
            Op::Flush(done) => acks.push(done),
        }
    }
    conn.transaction(|c| {
        for chunk in starts.chunks(200) {
            match c {
                DbConnection::Sqlite(s) => {
                    diesel::insert_into(model_calls::table)
                        .values(chunk)
                        .execute(s)?;
                }
                DbConnection::Postgres(p) => {
                    diesel::insert_into(model_calls::table)
                        .values(chunk)
                        .execute(p)?;
                }
            }
        }
        for (id, finish) in &finishes {
            diesel::update(model_calls::table.find(id))
                .set(finish)
                .execute(c)?;
        }
        for (id, (count, at)) in &used {
            diesel::update(ai_credentials::table.find(id))
                .set((
                    ai_credentials::usage_count.eq(ai_credentials::usage_count + count),
                    ai_credentials::last_used_at.eq(at),
                ))
                .execute(c)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
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
