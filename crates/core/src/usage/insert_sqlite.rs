//! The usage writer's SQLite insert of one `model_calls` row, as a fixed statement.
//!
//! diesel's generic `insert_into(..).values(&row)` walks its 22-column tuple three times per row
//! (is it cacheable, the column list, the binds) before SQLite sees the values: ~15% of the
//! writer thread's time under load (measured). This statement has one text, known to be
//! cacheable, so each row costs one walk that hands diesel the 22 values; the text is built and
//! prepared once per connection. PostgreSQL keeps the generic multi-row INSERT.

use super::calls::CallStart;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{QueryResult, RunQueryDsl};

/// `INSERT INTO model_calls (…) VALUES (?, …)` for one row.
pub struct InsertCall<'a>(pub &'a CallStart);

/// The columns in the order the values are bound below.
const COLUMNS: &str = "INSERT INTO model_calls (id, provider_id, model, credential_id, \"type\", \
     status, total_usage, usage_metrics, credits, duration_ms, ttfb_ms, provider_ttfb_ms, \
     error_reason, app_did, user_did, request_id, trace_id, metadata, call_time, created_at, \
     instance_id, dialect) VALUES (";

impl QueryId for InsertCall<'_> {
    type QueryId = InsertCall<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Sqlite> for InsertCall<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        let r = self.0;
        out.push_sql(COLUMNS);
        out.push_bind_param::<Text, _>(&r.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.provider_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.model)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.credential_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.status)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&r.total_usage)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.usage_metrics)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.credits)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&r.duration_ms)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&r.ttfb_ms)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<BigInt>, _>(&r.provider_ttfb_ms)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.error_reason)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.app_did)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.user_did)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.request_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.trace_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.metadata)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&r.call_time)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&r.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.instance_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.dialect)?;
        out.push_sql(")");
        Ok(())
    }

    /// One text for every row: always cacheable (the default would walk the values to ask).
    fn is_safe_to_cache_prepared(&self, _: &Sqlite) -> QueryResult<bool> {
        Ok(true)
    }
}

impl RunQueryDsl<SqliteConnection> for InsertCall<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::model_calls::CallRecord;
    use crate::db::schema::model_calls;
    use crate::db::stamp::Stamp;
    use diesel::prelude::*;

    fn conn() -> SqliteConnection {
        let mut c = SqliteConnection::establish(":memory:").expect("sqlite");
        diesel::sql_query(
            "CREATE TABLE model_calls (id TEXT PRIMARY KEY NOT NULL, provider_id TEXT, \
             model TEXT NOT NULL, credential_id TEXT, type TEXT NOT NULL, status TEXT NOT NULL, \
             total_usage BIGINT NOT NULL DEFAULT 0, usage_metrics TEXT, \
             credits TEXT NOT NULL DEFAULT '0', duration_ms BIGINT, ttfb_ms BIGINT, \
             provider_ttfb_ms BIGINT, error_reason TEXT, app_did TEXT, user_did TEXT, \
             request_id TEXT, trace_id TEXT, metadata TEXT, call_time TIMESTAMP NOT NULL, \
             created_at TIMESTAMP NOT NULL, instance_id TEXT, dialect TEXT)",
        )
        .execute(&mut c)
        .expect("table");
        c
    }

    fn row(id: &str, full: bool) -> CallStart {
        let t = |s: &str| {
            Stamp(chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("time"))
        };
        let some = |v: &str| full.then(|| v.to_owned());
        CallStart {
            id: id.into(),
            provider_id: some("env:openai"),
            model: "openai/gpt-4o-mini".into(),
            credential_id: some("env:openai:0"),
            kind: "chatCompletion".into(),
            status: "success".into(),
            total_usage: 19,
            usage_metrics: some("{\"promptTokens\":12}"),
            credits: "0.0012".parse().expect("amount"),
            duration_ms: full.then_some(7),
            ttfb_ms: full.then_some(3),
            provider_ttfb_ms: full.then_some(2),
            error_reason: some("upstream said no"),
            app_did: some("zApp"),
            user_did: some("zUser"),
            request_id: some("req-1"),
            trace_id: some("00-abc-def-01"),
            metadata: some("{\"attempt\":1}"),
            call_time: t("2026-11-24 20:16:21.288110573"),
            created_at: t("2026-11-24 20:16:21.5"),
            instance_id: some("instance-a"),
            dialect: some("anthropic"),
        }
    }

    /// Each column's stored type and value (SQLite's `quote`), so inserts compare byte for byte.
    fn stored(c: &mut SqliteConnection, id: &str) -> Vec<(String, String)> {
        #[derive(QueryableByName)]
        struct Cell {
            #[diesel(sql_type = Text)]
            name: String,
            #[diesel(sql_type = Text)]
            value: String,
        }
        let columns: Vec<Cell> =
            diesel::sql_query("SELECT name, '' AS value FROM pragma_table_info('model_calls')")
                .load(c)
                .expect("columns");
        let mut cells = Vec::new();
        for Cell { name, .. } in columns {
            let q = format!(
                "SELECT '{name}' AS name, typeof(\"{name}\") || ':' || quote(\"{name}\") AS value \
                 FROM model_calls WHERE id = '{id}'"
            );
            let mut found: Vec<Cell> = diesel::sql_query(q).load(c).expect("cell");
            let cell = found.pop().expect("one row");
            cells.push((cell.name, cell.value));
        }
        cells
    }

    /// The fixed statement stores exactly what diesel's generic insert stores, column by column,
    /// with every optional value present and with every one absent.
    #[test]
    fn stores_what_the_generic_insert_stores() {
        let mut c = conn();
        for full in [true, false] {
            let mut generic = row("generic", full);
            diesel::insert_into(model_calls::table)
                .values(&generic)
                .execute(&mut c)
                .expect("generic insert");
            generic.id = "fixed".into();
            let n = InsertCall(&generic).execute(&mut c).expect("fixed insert");
            assert_eq!(n, 1);
            let a = stored(&mut c, "generic");
            let b = stored(&mut c, "fixed");
            assert_eq!(a.len(), 22);
            for ((name, va), (_, vb)) in a.iter().zip(&b) {
                if name != "id" {
                    assert_eq!(va, vb, "column {name} (full: {full})");
                }
            }
            // And it reads back through the call log's typed row.
            let record: CallRecord = model_calls::table
                .find("fixed")
                .select(CallRecord::as_select())
                .first(&mut c)
                .expect("typed row");
            assert_eq!(record.call_time, generic.call_time.0);
            assert_eq!(record.error_reason, generic.error_reason);
            diesel::delete(model_calls::table)
                .execute(&mut c)
                .expect("clear");
        }
    }
}
