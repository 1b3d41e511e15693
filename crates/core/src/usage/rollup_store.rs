//! `model_call_stats` rows: merged by the writer thread inside its batch transaction, read by
//! the usage charts, trimmed by the retention job.

use super::rollup::{ALL, Rollup, RollupKey, TimeType};
use crate::db::DbConnection;
use crate::db::schema::model_call_stats;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};

/// Adds a batch's rollups to their rows.
pub trait StatsStore {
    /// Creates the row if needed, locks it (PostgreSQL; SQLite's write transaction is already
    /// exclusive) and adds `add` to it.
    fn merge_rollup(
        &mut self,
        key: &RollupKey,
        add: &Rollup,
        now: NaiveDateTime,
    ) -> QueryResult<()>;
}

macro_rules! no_lock {
    ($query:expr) => {
        $query
    };
}
macro_rules! for_update {
    ($query:expr) => {
        $query.for_update()
    };
}

macro_rules! stats_store {
    ($conn:ty, $lock:ident) => {
        impl StatsStore for $conn {
            fn merge_rollup(
                &mut self,
                key: &RollupKey,
                add: &Rollup,
                now: NaiveDateTime,
            ) -> QueryResult<()> {
                use model_call_stats::dsl as s;
                diesel::insert_into(model_call_stats::table)
                    .values((
                        s::id.eq(uuid::Uuid::now_v7().to_string()),
                        s::user_did.eq(&key.user_did),
                        s::app_did.eq(&key.app_did),
                        s::time_type.eq(key.time_type.as_str()),
                        s::timestamp.eq(key.timestamp),
                        s::total_calls.eq(0),
                        s::success_calls.eq(0),
                        s::failed_calls.eq(0),
                        s::total_usage.eq(0),
                        s::total_credits.eq("0"),
                        s::total_duration_ms.eq(0),
                        s::created_at.eq(now),
                        s::updated_at.eq(now),
                    ))
                    .on_conflict_do_nothing()
                    .execute(self)?;
                let row = model_call_stats::table
                    .filter(s::user_did.eq(&key.user_did))
                    .filter(s::app_did.eq(&key.app_did))
                    .filter(s::time_type.eq(key.time_type.as_str()))
                    .filter(s::timestamp.eq(key.timestamp))
                    .select((s::id, s::stats));
                let (id, stats): (String, Option<String>) = $lock!(row).first(self)?;
                let mut merged = Rollup::from_json(stats.as_deref());
                merged.merge(add);
                let t = &merged.totals;
                diesel::update(model_call_stats::table.find(id))
                    .set((
                        s::total_calls.eq(t.calls as i64),
                        s::success_calls.eq(t.success as i64),
                        s::failed_calls.eq(t.failed as i64),
                        s::total_usage.eq(t.usage),
                        s::total_credits.eq(t.credits_text()),
                        s::total_duration_ms.eq(t.duration_ms),
                        s::stats.eq(merged.to_json()),
                        s::updated_at.eq(now),
                    ))
                    .execute(self)
                    .map(drop)
            }
        }
    };
}

stats_store!(SqliteConnection, no_lock);
stats_store!(PgConnection, for_update);

/// Merges `pending` into its rows in one transaction, in key order (so two instances' writers
/// lock rows in the same order).
pub fn merge_all(
    conn: &mut DbConnection,
    pending: &super::rollup::Pending,
) -> Result<(), crate::db::DbError> {
    let now = chrono::Utc::now().naive_utc();
    macro_rules! merge {
        ($c:ident) => {{
            for (key, rollup) in &pending.0 {
                $c.merge_rollup(key, rollup, now)?;
            }
            Ok::<_, diesel::result::Error>(())
        }};
    }
    match conn {
        DbConnection::Sqlite(c) => c.immediate_transaction(|c| merge!(c))?,
        DbConnection::Postgres(c) => c.transaction(|c| merge!(c))?,
    }
    Ok(())
}

/// Whose rollups a chart reads.
#[derive(Debug, Clone)]
pub struct Scope {
    /// One user, or everyone (admins' `allUsers`).
    pub user_did: Option<String>,
    pub app_did: Option<String>,
}

/// Rollup rows: bucket start (unix seconds) and the `stats` column.
pub type Rows = Vec<(i64, Option<String>)>;

/// The rollups of `scope` with bucket starts in `[from, to)` (unix seconds), oldest first.
pub fn rollups(
    conn: &mut DbConnection,
    scope: &Scope,
    time_type: TimeType,
    from: i64,
    to: i64,
) -> QueryResult<Rows> {
    use model_call_stats::dsl as s;
    let mut query = model_call_stats::table
        .filter(s::time_type.eq(time_type.as_str()))
        .filter(s::timestamp.ge(from))
        .filter(s::timestamp.lt(to))
        .select((s::timestamp, s::stats))
        .order(s::timestamp.asc())
        .into_boxed();
    query = match (&scope.user_did, &scope.app_did) {
        (Some(user), Some(app)) => query
            .filter(s::user_did.eq(user.clone()))
            .filter(s::app_did.eq(app.clone())),
        (Some(user), None) => query.filter(s::user_did.eq(user.clone())),
        (None, Some(app)) => query
            .filter(s::app_did.eq(app.clone()))
            .filter(s::user_did.ne(ALL)),
        (None, None) => query.filter(s::user_did.eq(ALL)).filter(s::app_did.eq(ALL)),
    };
    query.load(conn)
}

/// The per-(user, app) rollups of `scope` in `[from, to)`: (user, app, stats), for a breakdown
/// by user or app.
pub fn rollups_by_owner(
    conn: &mut DbConnection,
    scope: &Scope,
    time_type: TimeType,
    from: i64,
    to: i64,
) -> QueryResult<Vec<(String, String, Option<String>)>> {
    use model_call_stats::dsl as s;
    let mut query = model_call_stats::table
        .filter(s::time_type.eq(time_type.as_str()))
        .filter(s::timestamp.ge(from))
        .filter(s::timestamp.lt(to))
        .filter(s::user_did.ne(ALL))
        .select((s::user_did, s::app_did, s::stats))
        .into_boxed();
    if let Some(user) = &scope.user_did {
        query = query.filter(s::user_did.eq(user.clone()));
    }
    if let Some(app) = &scope.app_did {
        query = query.filter(s::app_did.eq(app.clone()));
    }
    query.load(conn)
}

/// The per-(user, app) rollups of one user (or everyone's) in `[from, to)`: (bucket start,
/// app, stats), oldest first, for usage per project.
pub fn rollups_by_app(
    conn: &mut DbConnection,
    user_did: Option<&str>,
    time_type: TimeType,
    from: i64,
    to: i64,
) -> QueryResult<Vec<(i64, String, Option<String>)>> {
    use model_call_stats::dsl as s;
    let mut query = model_call_stats::table
        .filter(s::time_type.eq(time_type.as_str()))
        .filter(s::timestamp.ge(from))
        .filter(s::timestamp.lt(to))
        .filter(s::user_did.ne(ALL))
        .select((s::timestamp, s::app_did, s::stats))
        .order(s::timestamp.asc())
        .into_boxed();
    if let Some(user) = user_did {
        query = query.filter(s::user_did.eq(user.to_owned()));
    }
    query.load(conn)
}

/// [`rollups`] of `time_type`, and the day rollups of `[days.0, days.1)` beside them, read from
/// one snapshot (a rollup write in between would count its calls in one and not the other).
pub fn rollups_and_days(
    conn: &mut DbConnection,
    scope: &Scope,
    time_type: TimeType,
    (from, to): (i64, i64),
    days: Option<(i64, i64)>,
) -> QueryResult<(Rows, Rows)> {
    let Some((day_from, day_to)) = days else {
        return Ok((rollups(conn, scope, time_type, from, to)?, Vec::new()));
    };
    conn.transaction(|c| {
        if matches!(c, DbConnection::Postgres(_)) {
            // PostgreSQL's default gives each statement its own snapshot.
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(c)?;
        }
        let rows = rollups(c, scope, time_type, from, to)?;
        let day_rows = rollups(c, scope, TimeType::Day, day_from, day_to)?;
        Ok((rows, day_rows))
    })
}

/// Deletes up to `limit` rollups whose bucket started before `before` (unix seconds); returns
/// how many.
pub fn delete_before(conn: &mut DbConnection, before: i64, limit: i64) -> QueryResult<usize> {
    use model_call_stats::dsl as s;
    let ids: Vec<String> = model_call_stats::table
        .filter(s::timestamp.lt(before))
        .select(s::id)
        .limit(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(model_call_stats::table.filter(s::id.eq_any(&ids))).execute(conn)
}
