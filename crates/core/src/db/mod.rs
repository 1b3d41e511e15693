//! Storage: the connection pool (SQLite or PostgreSQL), migrations and repositories.
//!
//! Every diesel call runs on the blocking pool through [`Db::run`], pool checkout included,
//! never on the async executor.

pub mod access_key_sessions;
pub mod access_keys;
pub mod aliases;
pub mod apps;
mod cached_sql;
pub mod call_archive;
pub mod credentials;
pub mod credits;
pub mod ledger;
mod migrate;
pub mod model_calls;
pub mod model_statuses;
pub mod notifications;
pub mod outbox;
pub mod page;
mod pool;
pub mod projects;
pub mod providers;
pub mod rate_history;
pub mod rates;
pub mod responses;
pub mod schema;
pub mod stamp;
pub mod users;
pub mod wal;
mod write_tx;

pub use migrate::{has_pending_migrations, revert_all_migrations, run_migrations};
pub use page::Page;
pub use pool::{DbConnection, build_pool};
pub use write_tx::write_transaction;

/// The backend type of [`DbConnection`] (for boxed queries).
pub type DbBackend = <DbConnection as diesel::Connection>::Backend;

use crate::config::DatabaseSettings;
use diesel::r2d2::{Pool, PooledConnection, R2D2Connection};

/// What can go wrong below a repository call.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had (server down, pool exhausted, file unwritable).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// The engine behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A cheap-to-clone handle on the pool.
#[derive(Clone)]
pub struct Db {
    pool: Pool<pool::Manager>,
    backend: Backend,
    wal: std::sync::Arc<wal::WalState>,
}

impl Db {
    /// Opens the pool (creating the SQLite file's directory if needed).
    pub fn connect(settings: &DatabaseSettings) -> Result<Self, DbError> {
        let (pool, backend) = build_pool(settings)?;
        Ok(Db {
            pool,
            backend,
            wal: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.checkout()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(DbError::Unavailable(format!("blocking task failed: {e}"))))?
    }

    /// A connection for one thread to keep (see [`HeldConnection`]); taken at its first use.
    pub fn held(&self) -> HeldConnection {
        HeldConnection {
            db: self.clone(),
            conn: None,
        }
    }

    /// Runs `f` with a pooled connection on the current thread (CLI and start-up only).
    pub fn run_sync<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<DbError>,
    {
        let mut conn = self.checkout()?;
        f(&mut conn)
    }

    /// A connection from the pool, waiting up to the pool's timeout.
    fn checkout(&self) -> Result<PooledConnection<pool::Manager>, DbError> {
        self.pool
            .get()
            .map_err(|e| DbError::Unavailable(e.to_string()))
    }
}

/// One pooled connection that a long-lived thread keeps for itself (the usage writer). SQLite
/// keeps a page cache per connection and drops all of it when it finds that another connection
/// has written since; a writer taking whichever pooled connection was free found its cache
/// dropped on most batches and re-read the b-tree pages it appends to from the WAL (measured:
/// ~2 reads per row). A connection found broken, or not answering after a failed call, is given
/// up and the next call takes a new one.
pub struct HeldConnection {
    db: Db,
    conn: Option<PooledConnection<pool::Manager>>,
}

impl HeldConnection {
    /// Runs `f` with the held connection, taking one from the pool first if none is held.
    pub fn run<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<DbError>,
    {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self.conn.insert(self.db.checkout()?),
        };
        let result = f(conn);
        // After a failure, one that no longer answers (a restarted server) is given up too.
        if conn.is_broken() || (result.is_err() && conn.ping().is_err()) {
            self.conn = None;
        }
        result
    }
}

/// Tests: a migrated SQLite database in `dir` (a failure is the calling test's failure).
#[doc(hidden)]
#[allow(clippy::expect_used)]
pub fn migrated_sqlite(dir: &std::path::Path) -> Db {
    use crate::config::DatabaseUrl;
    let db = Db::connect(&DatabaseSettings {
        url: DatabaseUrl::Sqlite(dir.join("hub.db")),
        pool_size: 4,
        busy_timeout_ms: 5000,
    })
    .expect("connect");
    db.run_sync(|c| run_migrations(c).map_err(|e| DbError::Unavailable(e.to_string())))
        .expect("migrate");
    db
}

#[cfg(test)]
mod tests {
    use super::{DbError, migrated_sqlite};
    use diesel::connection::SimpleConnection;

    /// The held connection stays the same while other callers take and return pooled ones
    /// (a TEMP table lives only on the connection that made it).
    #[test]
    fn held_connection_is_kept_across_calls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = migrated_sqlite(dir.path());
        let mut held = db.held();
        held.run(|c| {
            c.batch_execute("CREATE TEMP TABLE mine (x INTEGER)")
                .map_err(DbError::from)
        })
        .expect("create");
        for _ in 0..3 {
            // Others check out every free connection and give them back in between.
            let a = db.pool.get().expect("a");
            let b = db.pool.get().expect("b");
            let c = db.pool.get().expect("c");
            drop((a, b, c));
            held.run(|c| {
                c.batch_execute("INSERT INTO mine VALUES (1)")
                    .map_err(DbError::from)
            })
            .expect("the held connection still has its TEMP table");
        }
        // A pooled call lands on another connection, which has no such table.
        let other = db.run_sync(|c| {
            c.batch_execute("INSERT INTO mine VALUES (1)")
                .map_err(DbError::from)
        });
        assert!(
            other.is_err(),
            "control: TEMP table seen outside the held connection"
        );
    }
}
