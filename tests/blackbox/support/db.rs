//! A fresh database per test: a SQLite file in the test's temp dir, or a new PostgreSQL database
//! (dropped afterwards) on the server at `TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432`).

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDatabase {
    url: String,
    pg_name: Option<String>,
}

pub fn pg_base() -> String {
    std::env::var("TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

fn admin_connection() -> PgConnection {
    let url = format!("{}/postgres", pg_base());
    PgConnection::establish(&url).unwrap_or_else(|e| {
        panic!("PostgreSQL is required for the postgres variant of this test ({url}): {e}; scripts/test.sh starts it")
    })
}

impl TestDatabase {
    pub fn create(backend: Backend, dir: &Path) -> Self {
        match backend {
            Backend::Sqlite => TestDatabase {
                url: format!("sqlite://{}", dir.join("data/aigne-hub.db").display()),
                pg_name: None,
            },
            Backend::Postgres => {
                let name = format!("aigne_test_{}", uuid::Uuid::new_v4().simple());
                admin_connection()
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create database");
                TestDatabase {
                    url: format!("{}/{name}", pg_base()),
                    pg_name: Some(name),
                }
            }
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_name.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            let _ = admin_connection()
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A `model_calls` row as tests check it.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct CallRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub model: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub credential_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub total_usage: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub usage_metrics: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub credits: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub error_reason: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub app_did: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub user_did: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub metadata: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    pub ttfb_ms: Option<i64>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub request_id: Option<String>,
    /// `model_calls.type`.
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub call_type: String,
    /// The client dialect the call came in on.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub dialect: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

impl TestDatabase {
    /// Runs one statement written for this database's dialect.
    pub fn execute(&self, sql: &str) {
        use diesel::RunQueryDsl;
        if self.is_postgres() {
            let mut conn = PgConnection::establish(&self.url).expect("pg");
            diesel::sql_query(sql).execute(&mut conn).expect(sql);
        } else {
            let path = self.url.trim_start_matches("sqlite://").to_owned();
            let mut conn = diesel::SqliteConnection::establish(&path).expect("sqlite");
            diesel::sql_query(sql).execute(&mut conn).expect(sql);
        }
    }

    /// `SELECT COUNT(*) AS n …`
    pub fn count(&self, sql: &str) -> i64 {
        use diesel::RunQueryDsl;
        let rows: Vec<Count> = if self.is_postgres() {
            let mut conn = PgConnection::establish(&self.url).expect("pg");
            diesel::sql_query(sql).load(&mut conn).expect(sql)
        } else {
            let path = self.url.trim_start_matches("sqlite://").to_owned();
            let mut conn = diesel::SqliteConnection::establish(&path).expect("sqlite");
            diesel::sql_query(sql).load(&mut conn).expect(sql)
        };
        rows.first().map_or(0, |c| c.n)
    }

    /// Rows of one query written for both dialects.
    pub fn rows<T>(&self, sql: &str) -> Vec<T>
    where
        T: diesel::QueryableByName<diesel::pg::Pg>
            + diesel::QueryableByName<diesel::sqlite::Sqlite>
            + 'static,
    {
        use diesel::RunQueryDsl;
        if self.is_postgres() {
            let mut conn = PgConnection::establish(&self.url).expect("pg");
            diesel::sql_query(sql).load(&mut conn).expect(sql)
        } else {
            let path = self.url.trim_start_matches("sqlite://").to_owned();
            let mut conn = diesel::SqliteConnection::establish(&path).expect("sqlite");
            diesel::sql_query(sql).load(&mut conn).expect(sql)
        }
    }

    /// Every `model_calls` row, oldest first.
    pub fn calls(&self) -> Vec<CallRow> {
        self.rows("SELECT id, model, credential_id, status, total_usage, usage_metrics, credits, error_reason, app_did, user_did, metadata, ttfb_ms, request_id, type AS call_type, dialect FROM model_calls ORDER BY created_at, id")
    }

    /// The Payment Kit outbox, oldest first.
    pub fn outbox(&self) -> Vec<OutboxRow> {
        self.rows("SELECT identifier, amount, status, model_call_id, attempts FROM meter_event_outbox ORDER BY id")
    }
}

/// A `meter_event_outbox` row as tests check it.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct OutboxRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub identifier: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub amount: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub status: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub model_call_id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub attempts: i64,
}
