//! Embedded migrations, one set per dialect (see migrations/README.md).

use super::DbConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies pending migrations; returns the versions applied.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map(versions),
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES).map(versions),
    };
    applied.map_err(|e: BoxError| anyhow::anyhow!("migration failed: {e}"))
}

/// True when the database is behind the binary.
pub fn has_pending_migrations(conn: &mut DbConnection) -> anyhow::Result<bool> {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE),
        DbConnection::Postgres(c) => c.has_pending_migration(POSTGRES),
    };
    pending.map_err(|e: BoxError| anyhow::anyhow!("cannot read migration state: {e}"))
}

/// Reverts every migration (tests of `down.sql`).
pub fn revert_all_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(versions),
        DbConnection::Postgres(c) => c.revert_all_migrations(POSTGRES).map(versions),
    };
    reverted.map_err(|e: BoxError| anyhow::anyhow!("revert failed: {e}"))
}

/// Reverts the newest migration (tests of one migration's data copy).
#[cfg(test)]
pub fn revert_last_migration(conn: &mut DbConnection) -> anyhow::Result<String> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE).map(|v| v.to_string()),
        DbConnection::Postgres(c) => c.revert_last_migration(POSTGRES).map(|v| v.to_string()),
    };
    reverted.map_err(|e: BoxError| anyhow::anyhow!("revert failed: {e}"))
}

fn versions(v: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    v.into_iter().map(|m| m.to_string()).collect()
}
