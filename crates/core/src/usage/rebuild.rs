//! `aigne-hub stats rebuild`: recomputes every `model_call_stats` rollup from `model_calls`
//! (after importing calls, or to repair rollups). Run it with the Hub stopped: calls finishing
//! meanwhile would be counted twice.

use super::rollup::{CallFacts, CallGroups, Pending};
use super::rollup_store as stats;
use crate::db::credits::Credits;
use crate::db::schema::{model_call_stats, model_calls};
use crate::db::{Db, DbConnection, DbError};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Calls read per query.
const CHUNK: i64 = 50_000;

/// Rollup rows held in memory before they are merged into the table: calls come in time order,
/// so one hour's, day's and month's rows fill across many chunks; merging them once instead of
/// once per chunk is several times fewer writes (PostgreSQL: 3 round trips each). The bound keeps
/// memory flat however many users and apps there are.
const FLUSH_KEYS: usize = 200_000;

type CallKey = (NaiveDateTime, String);

#[derive(Queryable)]
struct Row {
    id: String,
    call_time: NaiveDateTime,
    user_did: Option<String>,
    app_did: Option<String>,
    model: String,
    kind: String,
    status: String,
    total_usage: i64,
    credits: Credits,
    duration_ms: Option<i64>,
    ttfb_ms: Option<i64>,
}

fn page(conn: &mut DbConnection, after: Option<&CallKey>) -> QueryResult<Vec<Row>> {
    use model_calls::dsl as c;
    let mut q = model_calls::table
        .filter(c::status.ne("processing"))
        .select((
            c::id,
            c::call_time,
            c::user_did,
            c::app_did,
            c::model,
            c::type_,
            c::status,
            c::total_usage,
            c::credits,
            c::duration_ms,
            c::ttfb_ms,
        ))
        .order((c::call_time.asc(), c::id.asc()))
        .limit(CHUNK)
        .into_boxed();
    if let Some((t, id)) = after {
        q = q.filter(
            c::call_time
                .gt(*t)
                .or(c::call_time.eq(*t).and(c::id.gt(id.clone()))),
        );
    }
    q.load(conn)
}

/// Deletes every rollup and rebuilds them; returns (calls counted, rollup rows written).
pub fn rebuild(db: &Db) -> Result<(u64, i64), DbError> {
    db.run_sync(|conn| {
        diesel::delete(model_call_stats::table).execute(conn)?;
        let mut after: Option<CallKey> = None;
        let mut calls: u64 = 0;
        let mut pending = Pending::default();
        loop {
            let rows = page(conn, after.as_ref())?;
            let Some(last) = rows.last() else { break };
            after = Some((last.call_time, last.id.clone()));
            let mut groups = CallGroups::default();
            for r in &rows {
                groups.add(&CallFacts {
                    user_did: r.user_did.as_deref().unwrap_or_default(),
                    app_did: r.app_did.as_deref().unwrap_or_default(),
                    model: &r.model,
                    kind: &r.kind,
                    success: r.status == "success",
                    call_time: r.call_time,
                    usage: r.total_usage,
                    credits: r.credits.decimal(),
                    duration_ms: r.duration_ms,
                    ttfb_ms: r.ttfb_ms,
                });
            }
            calls += rows.len() as u64;
            pending.add_groups(groups);
            if pending.0.len() >= FLUSH_KEYS {
                stats::merge_all(conn, &pending)?;
                pending = Pending::default();
            }
            tracing::info!(calls, "calls counted so far");
        }
        stats::merge_all(conn, &pending)?;
        let rows: i64 = model_call_stats::table.count().get_result(conn)?;
        Ok((calls, rows))
    })
}
