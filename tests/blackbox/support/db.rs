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
