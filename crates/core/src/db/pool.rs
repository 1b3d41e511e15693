//! The pool: one connection type for both engines, SQLite pragmas on every connection.

use super::{Backend, DbError};
use crate::config::{DatabaseSettings, DatabaseUrl};
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, Pool, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};
use std::time::Duration;

/// One connection type for SQLite and PostgreSQL; queries written once run on either.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Opens connections of the configured engine (no guessing from the URL at connect time).
pub struct Manager {
    url: DatabaseUrl,
    busy_timeout_ms: u32,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                // No JIT compilation: the Hub's queries are short, and a filtered call-log page
                // over millions of rows crossed PostgreSQL's cost line and spent ~20 ms of its
                // ~50 ms compiling (measured at ten million calls; ~10 ms without).
                conn.batch_execute("SET jit = off")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgres(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first: switching to WAL may itself wait for a lock.
                // No automatic checkpoints on commit: a checkpoint (and its fsync) would stall the
                // committing request; `db::wal` runs them instead. A WAL file that grew in a burst
                // is cut back to 256 MiB when it starts over: under steady load it reaches
                // ~150 MiB between two restarts, and cutting it back to 64 MiB each time made
                // every cycle truncate it and extend it again (the usage writer spent ~1 µs more
                // system time per row, measured). Temporary tables and statement
                // journals in memory: a multi-row insert inside a transaction otherwise creates,
                // unlinks and writes a file in /var/tmp on every batch (seen in strace).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 268435456; \
                     PRAGMA temp_store = MEMORY;",
                    self.busy_timeout_ms
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Builds the pool and checks that one connection can be opened.
pub fn build_pool(settings: &DatabaseSettings) -> Result<(Pool<Manager>, Backend), DbError> {
    let backend = match &settings.url {
        DatabaseUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DbError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            Backend::Sqlite
        }
        DatabaseUrl::Postgres(_) => Backend::Postgres,
    };
    let manager = Manager {
        url: settings.url.clone(),
        busy_timeout_ms: settings.busy_timeout_ms,
    };
    let pool = Pool::builder()
        // One more than asked: the usage writer keeps one for itself (`db::HeldConnection`).
        .max_size(settings.pool_size.saturating_add(1))
        // No idle floor: r2d2 would otherwise reopen connections on a background thread after
        // every checkout, and a libpq/OpenSSL handshake still running when the process exits
        // crashes it (seen as a segfault at the end of `aigne-hub migrate` on PostgreSQL).
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(10))
        .test_on_check_out(false)
        .build(manager)
        .map_err(|e| DbError::Unavailable(format!("{} ({})", e, settings.url.redacted())))?;
    Ok((pool, backend))
}
