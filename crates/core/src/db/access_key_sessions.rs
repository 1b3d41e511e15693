//! `access_key_sessions` rows: the connect flow of `aigne hub connect` on a standalone Hub. A
//! session is `pending` until a signed-in user approves it (an access key is minted for them and
//! kept here sealed) or refuses it; every change is conditional on the row still being pending and
//! unexpired, so a session is decided once, by one user.

use super::DbConnection;
use super::schema::access_key_sessions as sessions;
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const REFUSED: &str = "refused";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub challenge: String,
    pub status: String,
    pub user_did: Option<String>,
    pub access_key_id: Option<String>,
    pub sealed_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// The session, if it exists and has not expired at `now`.
pub fn live(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .filter(sessions::id.eq(id))
        .filter(sessions::expires_at.gt(now))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// Sessions still open at `now` (waiting for a decision or for the CLI to collect its key).
pub fn count_live(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<i64> {
    sessions::table
        .filter(sessions::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// How a pending session is decided.
pub struct Decision<'a> {
    pub status: &'a str,
    pub user_did: &'a str,
    /// Until when the decided session can still be read by the CLI.
    pub expires_at: NaiveDateTime,
}

/// Decides a session that is still pending and unexpired at `now`; `false` when it was not
/// (decided already, expired, or never existed).
pub fn decide(
    conn: &mut DbConnection,
    id: &str,
    now: NaiveDateTime,
    decision: &Decision<'_>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::status.eq(PENDING))
            .filter(sessions::expires_at.gt(now)),
    )
    .set((
        sessions::status.eq(decision.status),
        sessions::user_did.eq(decision.user_did),
        sessions::expires_at.eq(decision.expires_at),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The key minted for an approved session, sealed.
pub fn attach_key(
    conn: &mut DbConnection,
    id: &str,
    access_key_id: &str,
    sealed_key: &str,
) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::id.eq(id)))
        .set((
            sessions::access_key_id.eq(access_key_id),
            sessions::sealed_key.eq(sealed_key),
        ))
        .execute(conn)
}

pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::id.eq(id))).execute(conn)
}

/// Drops sessions that expired before `now` (their sealed keys with them).
pub fn delete_expired(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    fn pending(id: &str, now: NaiveDateTime) -> SessionRow {
        SessionRow {
            id: id.into(),
            challenge: "c".into(),
            status: PENDING.into(),
            user_did: None,
            access_key_id: None,
            sealed_key: None,
            created_at: now,
            expires_at: now + Duration::minutes(10),
        }
    }

    #[test]
    fn sessions_are_decided_once_and_only_before_they_expire() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::db::migrated_sqlite(dir.path());
        let now = Utc::now().naive_utc();
        let later = now + Duration::minutes(11);
        db.run_sync(|c| {
            insert(c, &pending("a", now))?;
            insert(c, &pending("b", now))?;
            let approve = Decision {
                status: APPROVED,
                user_did: "zUser",
                expires_at: now + Duration::minutes(5),
            };
            assert!(decide(c, "a", now, &approve)?);
            assert!(!decide(c, "a", now, &approve)?, "decided twice");
            assert_eq!(attach_key(c, "a", "key-1", "sealed")?, 1);
            let a = live(c, "a", now)?.expect("a");
            assert_eq!(
                (a.status.as_str(), a.user_did.as_deref()),
                (APPROVED, Some("zUser"))
            );
            assert_eq!(a.access_key_id.as_deref(), Some("key-1"));
            assert_eq!(count_live(c, now)?, 2);
            // Past its time a session is gone for readers and cannot be decided.
            assert!(live(c, "b", later)?.is_none());
            assert!(!decide(c, "b", later, &approve)?);
            assert_eq!(count_live(c, later)?, 0);
            assert_eq!(delete_expired(c, later)?, 2);
            assert_eq!(delete(c, "a")?, 0);
            Ok::<_, crate::db::DbError>(())
        })
        .expect("db");
    }
}
