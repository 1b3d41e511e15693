//! Keeps usage history from growing without bound (SPEC §9): `model_calls` rows older than
//! `retention.calls_days` (and Payment Kit reports confirmed that long ago) and
//! `model_call_stats` rollups older than `retention.stats_days` are deleted (stored Responses API
//! turns go with the calls), a few thousand rows per statement so no write waits long behind it. Runs at start
//! and then hourly; on PostgreSQL every instance may run it (deletes are idempotent). With
//! `retention.archive_dir` set, the calls are moved to monthly SQLite files there first
//! (`db::call_archive`); the rollups stay, so charts still cover archived months.

use super::rollup_store as stats;
use crate::config::RetentionSettings;
use crate::db::{Db, DbError, call_archive, model_calls, outbox, responses};
use chrono::{Duration, Utc};

/// Rows per delete statement.
const CHUNK: i64 = 5_000;
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// What one pass deleted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Trimmed {
    pub calls: usize,
    pub stats: usize,
    /// Outbox rows Payment Kit confirmed that long ago.
    pub reports: usize,
    /// Stored Responses API turns (kept as long as calls).
    pub responses: usize,
    /// Of `calls`, how many were archived (written to an archive file before deletion).
    pub archived: usize,
}

/// One pass: deletes until nothing older than the limits is left.
pub async fn trim(db: &Db, keep: &RetentionSettings) -> Result<Trimmed, DbError> {
    let now = Utc::now().naive_utc();
    let mut trimmed = Trimmed::default();
    if keep.calls_days > 0 {
        let before = now - Duration::days(i64::from(keep.calls_days));
        loop {
            let n = match keep.archive_dir.clone() {
                None => {
                    db.run(move |conn| {
                        Ok::<_, DbError>(model_calls::delete_before(conn, before, CHUNK)?)
                    })
                    .await?
                }
                Some(dir) => {
                    let n = db
                        .run(move |conn| archive_chunk(conn, &dir, before))
                        .await?;
                    trimmed.archived += n;
                    n
                }
            };
            trimmed.calls += n;
            if (n as i64) < CHUNK {
                break;
            }
            tokio::task::yield_now().await;
        }
        trimmed.reports = db
            .run(move |conn| Ok::<_, DbError>(outbox::delete_sent_before(conn, before)?))
            .await?;
        loop {
            let n = db
                .run(move |conn| Ok::<_, DbError>(responses::delete_before(conn, before, CHUNK)?))
                .await?;
            trimmed.responses += n;
            if (n as i64) < CHUNK {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    if keep.stats_days > 0 {
        // At a UTC midnight: a day's rollup goes with all of its hours, never before them
        // (charts take whole days' totals from the day row and the hours only for the series).
        let before = (now - Duration::days(i64::from(keep.stats_days)))
            .and_utc()
            .timestamp()
            .div_euclid(86_400)
            * 86_400;
        loop {
            let n = db
                .run(move |conn| Ok::<_, DbError>(stats::delete_before(conn, before, CHUNK)?))
                .await?;
            trimmed.stats += n;
            if (n as i64) < CHUNK {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    Ok(trimmed)
}

/// Moves up to [`CHUNK`] of the oldest calls made before `before` to the archive: written and
/// committed there first, then deleted (a failed archive write deletes nothing).
fn archive_chunk(
    conn: &mut crate::db::DbConnection,
    dir: &std::path::Path,
    before: chrono::NaiveDateTime,
) -> Result<usize, DbError> {
    let calls = call_archive::oldest_before(conn, before, CHUNK)?;
    if calls.is_empty() {
        return Ok(0);
    }
    call_archive::append(dir, &calls).map_err(DbError::Unavailable)?;
    let ids: Vec<String> = calls.into_iter().map(|c| c.id).collect();
    model_calls::delete_ids(conn, &ids)?;
    // Rows deleted by another instance meanwhile still count as moved: they are in the archive.
    Ok(ids.len())
}

/// The background task.
pub async fn run(db: Db, keep: RetentionSettings) {
    if keep.calls_days == 0 && keep.stats_days == 0 {
        return;
    }
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        match trim(&db, &keep).await {
            Ok(t) if t.calls + t.stats + t.responses > 0 => {
                tracing::info!(
                    calls = t.calls,
                    archived = t.archived,
                    stats = t.stats,
                    responses = t.responses,
                    "old usage history deleted"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("usage retention pass failed: {e}"),
        }
    }
}
