//! Write transactions that wait for the writer lock instead of failing.
//!
//! SQLite starts a plain `BEGIN` as a reader. A transaction that reads and then writes must
//! upgrade to the writer lock, and when another connection has committed since its first read
//! that upgrade fails at once with `SQLITE_BUSY` (the busy timeout cannot help: waiting would
//! not make its snapshot current). `BEGIN IMMEDIATE` takes the writer lock first, waiting up to
//! the busy timeout, so a read-then-write transaction such as "create the user if missing, then
//! the key" never fails because the usage writer committed a batch in between. PostgreSQL has
//! no such upgrade; it gets a plain transaction.

use super::DbConnection;
use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
use diesel::result::Error;

/// Runs `f` in a transaction that holds SQLite's writer lock from its start; commits on `Ok`,
/// rolls back on `Err`.
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<Error>,
{
    let depth = match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
        DbConnection::Postgres(c) => AnsiTransactionManager::transaction_manager_status_mut(c),
    }
    .transaction_depth()?;
    if depth.is_some() {
        // Inside a transaction already (one of these holds the writer lock): a savepoint.
        return conn.transaction(f);
    }
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            commit(conn)?;
            Ok(value)
        }
        Err(user_error) => match rollback(conn) {
            // The caller's error says more than a rollback on a broken connection.
            Ok(()) | Err(Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

fn commit(conn: &mut DbConnection) -> Result<(), Error> {
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::commit_transaction(c),
        DbConnection::Postgres(c) => AnsiTransactionManager::commit_transaction(c),
    }
}

fn rollback(conn: &mut DbConnection) -> Result<(), Error> {
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
        DbConnection::Postgres(c) => AnsiTransactionManager::rollback_transaction(c),
    }
}

#[cfg(test)]
mod tests {
    use super::write_transaction;
    use crate::db::{DbConnection, DbError, migrated_sqlite};
    use diesel::connection::{Connection, SimpleConnection};
    use diesel::result::Error;

    fn count(c: &mut DbConnection) -> Result<i64, Error> {
        use diesel::dsl::count_star;
        use diesel::prelude::*;
        crate::db::schema::users::table
            .select(count_star())
            .first(c)
    }

    fn insert(c: &mut DbConnection, did: &str) -> Result<(), Error> {
        c.batch_execute(&format!(
            "INSERT INTO users (did, role, created_at, starter_credits_granted) \
             VALUES ('{did}', 'member', '2026-01-01 00:00:00', 0)"
        ))
    }

    /// Read, another connection commits, then write: a plain transaction fails to upgrade
    /// (the failure this module exists for); a write transaction waits and succeeds.
    #[test]
    fn a_read_then_write_survives_a_commit_in_between() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = migrated_sqlite(dir.path());
        let mut mine = db.checkout().expect("mine");
        let mut other = db.checkout().expect("other");

        let plain = mine.transaction(|c| {
            count(c)?;
            insert(&mut other, "did:abt:other1")?;
            insert(c, "did:abt:mine1")
        });
        assert!(
            plain.is_err(),
            "control: a deferred transaction upgraded over a newer commit"
        );

        let written = write_transaction(&mut mine, |c| {
            let before = count(c)?;
            // The other connection cannot commit while we hold the writer lock: it waits for
            // its busy timeout and gives up, which the test shortens.
            other.batch_execute("PRAGMA busy_timeout = 10")?;
            assert!(insert(&mut other, "did:abt:other2").is_err());
            insert(c, "did:abt:mine2")?;
            Ok::<_, DbError>(before)
        })
        .expect("write transaction");
        assert_eq!(count(&mut mine).expect("count"), written + 1);

        // Nested: a savepoint inside the outer write transaction.
        let nested = write_transaction(&mut mine, |c| {
            insert(c, "did:abt:outer")?;
            write_transaction(c, |c| insert(c, "did:abt:inner"))?;
            count(c)
        })
        .expect("nested write transaction");
        assert_eq!(nested, written + 3);

        let failed = write_transaction(&mut mine, |c| {
            insert(c, "did:abt:rolled-back")?;
            Err::<(), _>(DbError::Unavailable("stop".into()))
        });
        assert!(failed.is_err());
        assert_eq!(count(&mut mine).expect("count"), nested, "rolled back");
    }
}
