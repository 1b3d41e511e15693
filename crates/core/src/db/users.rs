//! `users` rows: everyone the Hub has seen (access-key holders now; DID-session users later).

use super::DbConnection;
use super::page::{Page, contains_pattern, lower};
use super::schema::users;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub did: String,
    pub name: Option<String>,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub starter_credits_granted: bool,
    pub email: Option<String>,
    pub avatar: Option<String>,
}

/// A profile change: `Some(None)` clears a field, `None` leaves it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    pub name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub avatar: Option<Option<String>>,
}

/// Changes the user's profile; the number of rows changed (0: no such user).
pub fn set_profile(
    conn: &mut DbConnection,
    did: &str,
    changes: &ProfileChanges,
) -> QueryResult<usize> {
    if changes.name.is_none() && changes.email.is_none() && changes.avatar.is_none() {
        return users::table
            .find(did)
            .count()
            .get_result::<i64>(conn)
            .map(|n| n as usize);
    }
    diesel::update(users::table.find(did))
        .set(changes)
        .execute(conn)
}

pub fn get(conn: &mut DbConnection, did: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(did)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts the user unless one with that DID exists; returns the stored row.
pub fn ensure(conn: &mut DbConnection, row: &UserRow) -> QueryResult<UserRow> {
    if let Some(existing) = get(conn, &row.did)? {
        return Ok(existing);
    }
    match diesel::insert_into(users::table).values(row).execute(conn) {
        Ok(_) => Ok(row.clone()),
        // Another writer inserted it between our read and write.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => get(conn, &row.did)?.ok_or(diesel::result::Error::NotFound),
        Err(e) => Err(e),
    }
}

pub fn list(
    conn: &mut DbConnection,
    q: Option<&str>,
    page: Page,
) -> QueryResult<(i64, Vec<UserRow>)> {
    let filtered = || {
        let mut query = users::table.into_boxed();
        if let Some(q) = q.filter(|q| !q.is_empty()) {
            let pattern = contains_pattern(q);
            query = query.filter(
                lower(users::did)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(users::name.assume_not_null())
                        .like(pattern)
                        .escape('\\')),
            );
        }
        query
    };
    let count = filtered().count().get_result(conn)?;
    let rows = filtered()
        .select(UserRow::as_select())
        .order((users::created_at.asc(), users::did.asc()))
        .limit(page.page_size)
        .offset(page.offset())
        .load(conn)?;
    Ok((count, rows))
}

/// Claims `user`'s starter credits (creating their row if needed): true for exactly one caller,
/// ever, on any instance.
pub fn claim_starter(
    conn: &mut DbConnection,
    user: &str,
    role: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    use super::ledger::LedgerStore;
    match conn {
        DbConnection::Sqlite(c) => c.claim_starter(user, role, now),
        DbConnection::Postgres(c) => c.claim_starter(user, role, now),
    }
}

/// Gives a claim back (the grant it was for could not be made), so a later call claims again.
pub fn release_starter(conn: &mut DbConnection, user: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(user))
        .set(users::starter_credits_granted.eq(false))
        .execute(conn)
}

/// The users of `dids` the Hub knows.
pub fn get_many(conn: &mut DbConnection, dids: &[String]) -> QueryResult<Vec<UserRow>> {
    if dids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::did.eq_any(dids))
        .select(UserRow::as_select())
        .load(conn)
}

/// The DIDs of owners and administrators (who operator notifications go to).
pub fn admins(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    users::table
        .filter(users::role.eq_any(["owner", "admin"]))
        .select(users::did)
        .order(users::did.asc())
        .load(conn)
}
