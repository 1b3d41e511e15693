//! The group-commit writer: one thread owns the writes to `model_calls`; callers queue work
//! without waiting, except for the final row of an answer, which the caller awaits before the
//! last byte goes out (so a client that saw a complete answer always has its row). Each batch
//! is one transaction.
//!
//! The built-in ledger is written here too (`billing::ledger`): admissions, grants and the debit
//! of every finished call run in the same batch transaction as the call rows, so a call's debit
//! and its final row commit together, and admissions are serialised with settlements.
//!
//! A `processing` row is held in memory for up to [`START_DELAY`] before it is written: when the
//! call ends within that time (most non-streaming calls), one insert of the final row replaces an
//! insert and an update. Consequence, accepted on purpose: an attempt cut off by a crash within
//! its first 200 ms leaves no row at all (its client got no answer either); any longer attempt
//! leaves a `processing` row that the next start marks `failed`.

use super::calls::{CallFinish, CallStart};
use super::insert_sqlite::InsertCall;
use super::ledger_work::{
    AdmitRequest, Admitted, Bill, Decided, DecidedReply, GrantReply, Hold, LedgerReplies,
    LedgerWork, StarterCache,
};
use super::rollup::{CallFacts, CallGroups, Pending};
use crate::billing::funds::{Decision, Funds, LEASE_IDLE};
use crate::billing::ledger::{self, NewGrant};
use crate::db::ledger::GrantRow;
use crate::db::ledger::LedgerStore;
use crate::db::schema::{ai_credentials, model_calls};
use crate::db::{Backend, Db, DbConnection, DbError, HeldConnection};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const BATCH: usize = 512;
/// Rows per multi-row INSERT on PostgreSQL (22 parameters each).
const INSERT_ROWS: usize = 256;
/// How long a `processing` row waits in memory for its finish before it is written.
pub const START_DELAY: Duration = Duration::from_millis(200);
/// How often the writer looks at its inbox when nothing urgent arrives: the longest a held row
/// or an unawaited finish waits past its time.
const TICK: Duration = Duration::from_millis(50);
/// How long finished calls' rollups wait in memory before they are merged into
/// `model_call_stats`, in their own transaction after the calls' (so usage charts lag by at
/// most this, and the merge is off the answers' commit path). A crash loses at most this much
/// of the rollups (`aigne-hub stats rebuild` restores them from the calls); a stop writes them.
pub const ROLLUP_DELAY: Duration = Duration::from_millis(250);

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
    state: Mutex<InboxState>,
    ready: Condvar,
    /// Tests: how many times a push woke the writer.
    #[cfg(test)]
    wakes: std::sync::atomic::AtomicUsize,
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
    /// Balances, holds and leases in memory for admission (see `billing::funds`).
    funds: Arc<Funds>,
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

    /// Admits a call (billing on) and holds its estimate, in memory: SQLite while the user's
    /// balance minus what their running calls hold is above zero (the writer loads the balance
    /// the first time); PostgreSQL while this instance's lease minus what it holds is (the writer
    /// extends the lease when it runs out, or answers that nothing is left).
    pub async fn admit(&self, request: AdmitRequest) -> Result<Admitted, DbError> {
        let user_did = request.user_did.clone();
        let estimate = request.estimate.max(Decimal::ZERO);
        // A load is needed at most once per call but for races (a lease used up by others
        // meanwhile, a grant expiring).
        for _ in 0..8 {
            match self
                .funds
                .try_admit(&user_did, estimate, Utc::now().naive_utc())
            {
                Decision::Admitted => {
                    return Ok(Admitted::Yes(Hold::new(
                        user_did,
                        estimate,
                        self.funds.clone(),
                    )));
                }
                Decision::Refused { balance } => return Ok(Admitted::No { balance }),
                Decision::Load => match self.decide(request.clone()).await? {
                    Decided::Refused { balance } => return Ok(Admitted::No { balance }),
                    Decided::Admitted => {
                        return Ok(Admitted::Yes(Hold::new(
                            user_did,
                            estimate,
                            self.funds.clone(),
                        )));
                    }
                    Decided::Loaded => {}
                },
            }
        }
        Err(DbError::Unavailable(
            "credits are being used too fast to hold this call's estimate; try again".into(),
        ))
    }

    async fn decide(&self, request: AdmitRequest) -> Result<Decided, DbError> {
        let (reply, wait) = oneshot::channel();
        if !self.push(Op::Admit { request, reply }, true) {
            return Err(DbError::Unavailable("the usage writer stopped".into()));
        }
        match wait.await {
            Ok(Ok(decided)) => Ok(decided),
            Ok(Err(e)) => Err(DbError::Unavailable(e)),
            Err(_) => Err(DbError::Unavailable("the usage writer stopped".into())),
        }
    }

    /// The balances and holds admission decides on.
    pub fn funds(&self) -> Arc<Funds> {
        self.funds.clone()
    }

    /// What running calls hold for `user` (SQLite, where holds live only in memory; PostgreSQL
    /// leases are rows).
    pub fn held_in_memory(&self, user: &str) -> Option<Decimal> {
        (!self.funds.is_leased()).then(|| self.funds.held(user))
    }

    /// Adds a grant to the built-in ledger (committed when this returns).
    pub async fn grant(&self, grant: NewGrant) -> Result<GrantRow, DbError> {
        let (reply, wait) = oneshot::channel();
        if !self.push(Op::Grant { grant, reply }, true) {
            return Err(DbError::Unavailable("the usage writer stopped".into()));
        }
        match wait.await {
            Ok(Ok(row)) => Ok(row),
            Ok(Err(e)) => Err(DbError::Unavailable(e)),
            Err(_) => Err(DbError::Unavailable("the usage writer stopped".into())),
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

/// The writer does not preempt the HTTP workers when it wakes (Linux `SCHED_BATCH`): with as
/// many workers as cores, a writer that took a core the moment a finish arrived interrupted a
/// worker in the middle of a request; as a batch thread it runs when a worker waits for I/O
/// or its time slice ends. It still gets its fair share of CPU (batch is not idle priority),
/// and on an idle core it runs at once, so a lone request's commit is not delayed. Measured:
/// 6–9% more requests per second at 64 connections on 2 cores (docs/performance.md).
fn yield_to_http_workers() {
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

fn run(db: Db, inbox: &Inbox, funds: &Funds, metered: Option<String>) {
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
fn shrink_leases(conn: &mut HeldConnection, funds: &Funds, idle: Duration) {
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
                    c.set_lease(instance, user, &crate::billing::credits::text(*lease), now)?;
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
struct WriterState<'a> {
    /// Starts not written yet, by call id, with when they arrived.
    held: &'a mut HashMap<String, (CallStart, Instant)>,
    starters: &'a mut StarterCache,
    written: &'a mut Written,
    funds: &'a Funds,
    rollups: &'a mut Rollups,
    /// Payment Kit bills: this instance's id for its outbox rows.
    metered: &'a Option<String>,
}

/// Rollups of committed calls, not merged into `model_call_stats` yet (see [`ROLLUP_DELAY`]).
#[derive(Default)]
struct Rollups {
    pending: Pending,
    since: Option<Instant>,
}

impl Rollups {
    fn add(&mut self, batch: CallGroups) {
        if batch.is_empty() {
            return;
        }
        self.since.get_or_insert_with(Instant::now);
        self.pending.add_groups(batch);
    }

    fn due(&self) -> bool {
        self.since.is_some_and(|at| at.elapsed() >= ROLLUP_DELAY)
    }

    /// Merges them, in key order (two instances' writers lock rows in the same order). On
    /// failure they stay for the next try.
    fn write(&mut self, conn: &mut HeldConnection) {
        if self.pending.is_empty() {
            return;
        }
        let result = conn.run(|c| crate::db::stats::merge_all(c, &self.pending));
        match result {
            Ok(()) => {
                self.pending = Pending::default();
                self.since = None;
            }
            Err(e) => tracing::error!("usage rollups not written (kept for the next try): {e}"),
        }
    }
}

/// Of each `processing` row written and not finished yet, what its rollup needs (an update of
/// the final row does not carry it).
#[derive(Default)]
struct Written(HashMap<String, CallMeta>);

struct CallMeta {
    user_did: String,
    app_did: String,
    model: String,
    kind: String,
    call_time: NaiveDateTime,
}

impl CallMeta {
    fn of(row: &CallStart) -> CallMeta {
        CallMeta {
            user_did: row.user_did.clone().unwrap_or_default(),
            app_did: row.app_did.clone().unwrap_or_default(),
            model: row.model.clone(),
            kind: row.kind.clone(),
            call_time: row.call_time.0,
        }
    }

    fn facts<'a>(&'a self, end: &CallFinish) -> CallFacts<'a> {
        CallFacts {
            user_did: &self.user_did,
            app_did: &self.app_did,
            model: &self.model,
            kind: &self.kind,
            success: end.status == "success",
            call_time: self.call_time,
            usage: end.total_usage,
            credits: ledger::amount(&end.credits),
            duration_ms: end.duration_ms,
            ttfb_ms: end.ttfb_ms,
        }
    }
}

/// What a finished row adds to its rollups.
fn facts_of(row: &CallStart) -> CallFacts<'_> {
    CallFacts {
        user_did: row.user_did.as_deref().unwrap_or_default(),
        app_did: row.app_did.as_deref().unwrap_or_default(),
        model: &row.model,
        kind: &row.kind,
        success: row.status == "success",
        call_time: row.call_time.0,
        usage: row.total_usage,
        credits: ledger::amount(&row.credits),
        duration_ms: row.duration_ms,
        ttfb_ms: row.ttfb_ms,
    }
}

/// Answers owed once the batch's transaction has ended.
#[derive(Default)]
struct Replies {
    acks: Vec<oneshot::Sender<()>>,
    ledger: LedgerReplies,
}

impl Replies {
    fn send(self, failure: Option<String>) {
        for ack in self.acks {
            let _ = ack.send(());
        }
        self.ledger.send(failure.as_deref());
    }
}

fn write_batch(
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
                    work.debits.push((id.clone(), finish.credits.clone(), bill));
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
    {
        return Ok(());
    }
    // Rollups of the calls this batch ends.
    let mut rollups = CallGroups::default();
    for row in &finished {
        rollups.add(&facts_of(row));
    }
    for (id, finish) in &finishes {
        if let Some(meta) = state.written.0.remove(id) {
            rollups.add(&meta.facts(finish));
        }
    }
    let now = Utc::now().naive_utc();
    let funds = state.funds;
    let mut after = work.after_commit();
    let starters = &*state.starters;
    // The statements run on the inner connection: diesel's two-engine connection type rewrites
    // every query on the way (the largest cost in this thread's profile). Rows go in one at a
    // time on SQLite, through one fixed statement prepared once and cached (a multi-row INSERT
    // has a new text for every batch size and is parsed each time: measured ~1 µs more per row),
    // and many at a time on PostgreSQL, where each statement is a round trip.
    macro_rules! write_all {
        ($c:ident, $insert:ident) => {{
            for rows in [&processing, &finished] {
                $insert($c, rows)?;
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
        DbConnection::Sqlite(c) => c.immediate_transaction(|c| write_all!(c, insert_sqlite)),
        DbConnection::Postgres(c) => c.transaction(|c| write_all!(c, insert_pg)),
    };
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

fn insert_sqlite(c: &mut SqliteConnection, rows: &[CallStart]) -> QueryResult<()> {
    for row in rows {
        InsertCall(row).execute(c)?;
    }
    Ok(())
}

fn insert_pg(c: &mut PgConnection, rows: &[CallStart]) -> QueryResult<()> {
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

#[cfg(test)]
mod tests {
    use super::{Inbox, Op};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};
    use tokio::sync::oneshot;

    fn flush() -> Op {
        Op::Flush(oneshot::channel().0)
    }

    /// A sleeping writer is woken once, by the first urgent push; the pushes that follow before
    /// it runs (and the non-urgent ones) make no futex call.
    #[test]
    fn one_wake_per_sleep() {
        let inbox = Inbox::default();
        inbox.lock().writer_waiting = true;
        assert!(inbox.push(flush(), false));
        assert_eq!(
            inbox.wakes.load(Ordering::Relaxed),
            0,
            "non-urgent work woke it"
        );
        for _ in 0..3 {
            assert!(inbox.push(flush(), true));
        }
        assert_eq!(inbox.wakes.load(Ordering::Relaxed), 1);
        assert_eq!(inbox.lock().ops.len(), 4);
    }

    /// The writer asleep in `take` wakes at an urgent push, long before its tick.
    #[test]
    fn urgent_push_wakes_a_sleeping_writer() {
        let inbox = Arc::new(Inbox::default());
        let writer = {
            let inbox = inbox.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut ops = Vec::new();
                while ops.is_empty() {
                    inbox.take(Duration::from_secs(30), &mut ops);
                }
                (started.elapsed(), ops.len())
            })
        };
        while !inbox.lock().writer_waiting {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(inbox.push(flush(), true));
        let (waited, taken) = writer.join().expect("writer");
        assert_eq!(taken, 1);
        assert!(waited < Duration::from_secs(25), "woken only by the tick");
    }
}
