//! Archiving old calls: rows past retention go to monthly SQLite files (`model_calls-YYYY-MM.sqlite`,
//! one `model_calls` table with the same columns) that an operator opens with `sqlite3`, whatever
//! engine the Hub runs on. A chunk is written and committed to its archive file before it is
//! deleted from the database, and archive inserts ignore ids already there, so a crash between
//! the two steps archives those rows again without duplicating them.

use super::DbConnection;
use super::schema::model_calls;
use chrono::{Datelike, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A whole call row, as archived.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = model_calls)]
pub struct ArchivedCall {
    pub id: String,
    pub provider_id: Option<String>,
    pub model: String,
    pub credential_id: Option<String>,
    pub type_: String,
    pub status: String,
    pub total_usage: i64,
    pub usage_metrics: Option<String>,
    pub credits: String,
    pub duration_ms: Option<i64>,
    pub ttfb_ms: Option<i64>,
    pub provider_ttfb_ms: Option<i64>,
    pub error_reason: Option<String>,
    pub app_did: Option<String>,
    pub user_did: Option<String>,
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
    pub metadata: Option<String>,
    pub call_time: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub instance_id: Option<String>,
    pub dialect: Option<String>,
}

/// The archive files' table: the call log's columns, a primary key on the id and an index on
/// the time, so an archive answers the same questions the live log does.
const ARCHIVE_TABLE: &str = "
CREATE TABLE IF NOT EXISTS model_calls (
  id TEXT PRIMARY KEY NOT NULL, provider_id TEXT, model TEXT NOT NULL, credential_id TEXT,
  type TEXT NOT NULL, status TEXT NOT NULL, total_usage BIGINT NOT NULL, usage_metrics TEXT,
  credits TEXT NOT NULL, duration_ms BIGINT, ttfb_ms BIGINT, provider_ttfb_ms BIGINT,
  error_reason TEXT, app_did TEXT, user_did TEXT, request_id TEXT, trace_id TEXT, metadata TEXT,
  call_time TIMESTAMP NOT NULL, created_at TIMESTAMP NOT NULL, instance_id TEXT, dialect TEXT);
CREATE INDEX IF NOT EXISTS model_calls_time_idx ON model_calls (call_time);";

/// The file a call made at `t` (UTC) is archived in.
pub fn file_for(dir: &Path, t: NaiveDateTime) -> PathBuf {
    dir.join(format!(
        "model_calls-{:04}-{:02}.sqlite",
        t.year(),
        t.month()
    ))
}

/// The oldest calls made before `before`, at most `limit`, oldest first.
pub fn oldest_before(
    conn: &mut DbConnection,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<ArchivedCall>> {
    model_calls::table
        .filter(model_calls::call_time.lt(before))
        .order((model_calls::call_time.asc(), model_calls::id.asc()))
        .select(ArchivedCall::as_select())
        .limit(limit)
        .load(conn)
}

/// Writes `calls` to their monthly files in `dir` (created as needed), each file in one
/// transaction; calls already archived there are left as they are. Returns the files written.
pub fn append(dir: &Path, calls: &[ArchivedCall]) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut by_file: BTreeMap<PathBuf, Vec<&ArchivedCall>> = BTreeMap::new();
    for call in calls {
        by_file
            .entry(file_for(dir, call.call_time))
            .or_default()
            .push(call);
    }
    for (path, rows) in &by_file {
        let fail = |e: &dyn std::fmt::Display| format!("archive {}: {e}", path.display());
        let mut conn =
            SqliteConnection::establish(&path.to_string_lossy()).map_err(|e| fail(&e))?;
        conn.batch_execute(&format!("PRAGMA busy_timeout = 5000; {ARCHIVE_TABLE}"))
            .map_err(|e| fail(&e))?;
        conn.transaction(|conn| {
            // SQLite takes at most 32,766 bound values per statement: 22 columns × 1,000 rows.
            for part in rows.chunks(1_000) {
                diesel::insert_or_ignore_into(model_calls::table)
                    .values(part.to_vec())
                    .execute(conn)?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .map_err(|e| fail(&e))?;
    }
    Ok(by_file.into_keys().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, t: &str) -> ArchivedCall {
        ArchivedCall {
            id: id.into(),
            provider_id: None,
            model: "openai/gpt-4o-mini".into(),
            credential_id: None,
            type_: "chatCompletion".into(),
            status: "success".into(),
            total_usage: 12,
            usage_metrics: Some(r#"{"promptTokens":10,"completionTokens":2}"#.into()),
            credits: "0.0001".into(),
            duration_ms: Some(300),
            ttfb_ms: None,
            provider_ttfb_ms: None,
            error_reason: None,
            app_did: None,
            user_did: Some("z1user".into()),
            request_id: None,
            trace_id: None,
            metadata: None,
            call_time: NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").expect("time"),
            created_at: NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").expect("time"),
            instance_id: None,
            dialect: Some("openai".into()),
        }
    }

    fn ids_in(path: &Path) -> Vec<String> {
        let mut conn = SqliteConnection::establish(&path.to_string_lossy()).expect("open");
        model_calls::table
            .select(model_calls::id)
            .order(model_calls::id)
            .load(&mut conn)
            .expect("ids")
    }

    #[test]
    fn calls_go_to_their_month_once() {
        let dir = tempfile::tempdir().expect("dir");
        let calls = [
            call("a", "2026-08-31 23:59:59"),
            call("b", "2026-09-01 00:00:00"),
            call("c", "2026-09-30 12:00:00"),
        ];
        let files = append(dir.path(), &calls).expect("append");
        assert_eq!(files.len(), 2);
        let aug = dir.path().join("model_calls-2026-08.sqlite");
        let sep = dir.path().join("model_calls-2026-09.sqlite");
        assert_eq!(ids_in(&aug), ["a"]);
        assert_eq!(ids_in(&sep), ["b", "c"]);
        // Archived again (a crash before the delete): no duplicates, nothing changed.
        let mut changed = calls[1].clone();
        changed.model = "changed".into();
        append(dir.path(), &[changed, call("d", "2026-09-02 00:00:00")]).expect("again");
        assert_eq!(ids_in(&sep), ["b", "c", "d"]);
        let mut conn = SqliteConnection::establish(&sep.to_string_lossy()).expect("open");
        let model: String = model_calls::table
            .filter(model_calls::id.eq("b"))
            .select(model_calls::model)
            .first(&mut conn)
            .expect("b");
        assert_eq!(model, "openai/gpt-4o-mini");
    }

    #[test]
    fn an_unwritable_directory_is_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").expect("write");
        let e = append(&file.join("sub"), &[call("a", "2026-09-01 00:00:00")])
            .expect_err("not a directory");
        assert!(e.contains("cannot create"), "{e}");
    }
}
