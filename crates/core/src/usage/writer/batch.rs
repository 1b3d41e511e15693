//! One batch: call rows, credential use and the ledger's work in one transaction.

use super::inbox::{Op, StoreReply};
use super::rollups::{CallMeta, facts_of};
use super::thread::WriterState;
use super::{INSERT_ROWS, START_DELAY};
use crate::billing::ledger_work::{Debit, LedgerReplies, LedgerWork};
use crate::db::responses::{self, StoredResponse, Written};
use crate::db::schema::{ai_credentials, model_calls};
use crate::db::{Backend, DbConnection, DbError};
use crate::usage::calls::{CallFinish, CallStart};
use crate::usage::insert_sqlite::InsertCall;
use crate::usage::rollup::CallGroups;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use std::collections::HashMap;
use std::time::Instant;
use tokio::sync::oneshot;

/// Answers owed once the batch's transaction has ended.
#[derive(Default)]
pub(super) struct Replies {
    pub(super) acks: Vec<oneshot::Sender<()>>,
    pub(super) ledger: LedgerReplies,
    /// Stored responses: each one's own outcome (a taken id fails it alone), given unless the
    /// batch failed.
    pub(super) stored: Vec<(StoreReply, Result<(), String>)>,
}

impl Replies {
    pub(super) fn send(self, failure: Option<String>) {
        for ack in self.acks {
            let _ = ack.send(());
        }
        for (done, outcome) in self.stored {
            let _ = done.send(match &failure {
                Some(e) => Err(e.clone()),
                None => outcome,
            });
        }
        self.ledger.send(failure.as_deref());
    }
}

pub(super) fn write_batch(
    conn: &mut DbConnection,
    ops: &mut Vec<Op>,
    state: &mut WriterState<'_>,
    flush_all: bool,
    replies: &mut Replies,
) -> Result<(), DbError> {
    let held = &mut *state.held;
    let mut finished: Vec<CallStart> = Vec::new();
    let mut finishes: Vec<(String, CallFinish)> = Vec::new();
    let mut used: HashMap<String, (i64, NaiveDateTime)> = HashMap::new();
    let mut stores: Vec<(StoredResponse, StoreReply)> = Vec::new();
    let mut work = LedgerWork {
        metered: state.metered.clone(),
        ..LedgerWork::default()
    };
    let mut flush = flush_all;
    for op in ops.drain(..) {
        match op {
            Op::Start(row) => {
                held.insert(row.id.clone(), (*row, Instant::now()));
            }
            Op::Finish {
                id,
                finish,
                bill,
                done,
            } => {
                if let Some(bill) = bill {
                    work.debits.push(Debit {
                        call_id: id.clone(),
                        amount: finish.credits,
                        bill,
                    });
                }
                match held.remove(&id) {
                    // Never written: one insert of the final row.
                    Some((mut row, _)) => {
                        finish.apply(&mut row);
                        finished.push(row);
                    }
                    None => finishes.push((id, finish)),
                }
                replies.acks.extend(done);
            }
            Op::CredentialUsed { id, at } => {
                let entry = used.entry(id).or_insert((0, at));
                entry.0 += 1;
                entry.1 = at;
            }
            Op::Flush(done) => {
                flush = true;
                replies.acks.push(done);
            }
            Op::StoreResponse { row, done } => stores.push((*row, done)),
            Op::Admit { request, reply } => work.admits.push((request, reply)),
            Op::Grant { grant, reply } => work.grants.push((grant, reply)),
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
    if processing.is_empty()
        && finished.is_empty()
        && finishes.is_empty()
        && used.is_empty()
        && work.is_empty()
        && stores.is_empty()
    {
        return Ok(());
    }
    // Rollups of the calls this batch ends.
    let mut rollups = CallGroups::default();
    for row in &finished {
        rollups.add(&facts_of(row)?);
    }
    for (id, finish) in &finishes {
        if let Some(meta) = state.written.0.remove(id) {
            rollups.add(&meta.facts(finish)?);
        }
    }
    let now = Utc::now().naive_utc();
    let funds = state.funds;
    let mut after = work.after_commit();
    let starters = &*state.starters;
    let mut stored_outcomes: Vec<Result<(), String>> = Vec::with_capacity(stores.len());
    // The statements run on the inner connection: diesel's two-engine connection type rewrites
    // every query on the way (the largest cost in this thread's profile). Rows go in one at a
    // time on SQLite, through one fixed statement prepared once and cached (a multi-row INSERT
    // has a new text for every batch size and is parsed each time: measured ~1 µs more per row),
    // and many at a time on PostgreSQL, where each statement is a round trip.
    macro_rules! write_all {
        ($c:ident, $insert:ident, $store:path) => {{
            for rows in [&processing, &finished] {
                $insert($c, rows)?;
            }
            for (id, finish) in &finishes {
                diesel::update(model_calls::table.find(id))
                    .set(finish)
                    .execute($c)?;
            }
            // A stored response that cannot be written fails alone. Its only row-level failure is
            // a taken id, which `ON CONFLICT DO NOTHING` turns into 0 rows instead of an error that
            // would end the batch; no savepoint per turn (measured: one cost 8–15% of a stored
            // turn's latency). Any other error is the database's and fails the batch, as for calls.
            for (row, _) in &stores {
                stored_outcomes.push(match $store($c, row)? {
                    Written::Stored => Ok(()),
                    Written::IdTaken => Err(format!(
                        "a stored response with id '{}' exists (unique id taken)",
                        row.id
                    )),
                });
            }
            for (id, (count, at)) in &used {
                diesel::update(ai_credentials::table.find(id))
                    .set((
                        ai_credentials::usage_count.eq(ai_credentials::usage_count + count),
                        ai_credentials::last_used_at.eq(at),
                    ))
                    .execute($c)?;
            }
            if !work.is_empty() {
                std::mem::take(&mut work).apply(
                    $c,
                    funds,
                    now,
                    &mut replies.ledger,
                    starters,
                    &mut after,
                )?;
            }
            Ok::<_, diesel::result::Error>(())
        }};
    }
    let result = match conn {
        // IMMEDIATE: take the write lock up front instead of upgrading a read lock mid-way.
        DbConnection::Sqlite(c) => {
            c.immediate_transaction(|c| write_all!(c, insert_sqlite, responses::insert_sqlite))
        }
        DbConnection::Postgres(c) => {
            c.transaction(|c| write_all!(c, insert_pg, responses::insert_pg))
        }
    };
    let mut outcomes = stored_outcomes.into_iter();
    for (_, done) in stores {
        let outcome = outcomes
            .next()
            .unwrap_or_else(|| Err("the batch ended before the response was stored".into()));
        replies.stored.push((done, outcome));
    }
    // Asked but never reached (the transaction failed before the ledger part ran).
    work.abandon(&mut replies.ledger);
    after.apply(
        state.funds,
        state.starters,
        &mut replies.ledger,
        result.is_ok(),
    );
    if result.is_err() {
        // Keep the processing rows for the next batch rather than losing them.
        for row in processing {
            held.insert(row.id.clone(), (row, Instant::now()));
        }
    } else {
        for row in &processing {
            state.written.0.insert(row.id.clone(), CallMeta::of(row));
        }
        state.rollups.add(rollups);
    }
    result?;
    Ok(())
}

pub(super) fn insert_sqlite(c: &mut SqliteConnection, rows: &[CallStart]) -> QueryResult<()> {
    for row in rows {
        InsertCall(row).execute(c)?;
    }
    Ok(())
}

pub(super) fn insert_pg(c: &mut PgConnection, rows: &[CallStart]) -> QueryResult<()> {
    for chunk in rows.chunks(INSERT_ROWS) {
        diesel::insert_into(model_calls::table)
            .values(chunk)
            .execute(c)?;
    }
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
