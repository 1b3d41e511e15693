//! Storage: the connection pool (SQLite or PostgreSQL), migrations and repositories.
//!
//! Every diesel call runs on the blocking pool through [`Db::run`], pool checkout included,
//! never on the async executor.

pub mod access_keys;
pub mod apps;
mod cached_sql;
pub mod credentials;
pub mod ledger;
mod migrate;
pub mod model_calls;
pub mod outbox;
pub mod page;
mod pool;
pub mod providers;
pub mod rates;
pub mod schema;
pub mod stamp;
pub mod stats;
pub mod users;
pub mod wal;

pub use migrate::{has_pending_migrations, revert_all_migrations, run_migrations};
pub use page::Page;
pub use pool::{DbConnection, build_pool};

/// The backend type of [`DbConnection`] (for boxed queries).
pub type DbBackend = <DbConnection as diesel::Connection>::Backend;

use crate::config::DatabaseSettings;
use diesel::r2d2::Pool;

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
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| DbError::Unavailable(e.to_string()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(DbError::Unavailable(format!("blocking task failed: {e}"))))?
    }

    /// Runs `f` with a pooled connection on the current thread (CLI and start-up only).
    pub fn run_sync<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<DbError>,
    {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| DbError::Unavailable(e.to_string()))?;
        f(&mut conn)
    }
}

/// Tests: a migrated SQLite database in `dir`.
#[cfg(test)]
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
