//! `access_keys` rows: only the SHA-256 of a key is stored, with a short display prefix.

use super::DbConnection;
use super::page::Page;
use super::schema::access_keys;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = access_keys)]
pub struct AccessKeyRow {
    pub id: String,
    pub prefix: String,
    pub key_hash: String,
    pub user_did: String,
    pub role: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked: bool,
    /// The app calls through this key count for, unless the caller names one.
    pub app_did: Option<String>,
}

pub fn insert(conn: &mut DbConnection, row: &AccessKeyRow) -> QueryResult<()> {
    diesel::insert_into(access_keys::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn get(conn: &mut DbConnection, id: &str) -> QueryResult<Option<AccessKeyRow>> {
    access_keys::table
        .find(id)
        .select(AccessKeyRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<AccessKeyRow>> {
    access_keys::table
        .filter(access_keys::key_hash.eq(hash))
        .select(AccessKeyRow::as_select())
        .first(conn)
        .optional()
}

/// Keys of one user (or of everyone when `user_did` is `None`), newest first.
pub fn list(
    conn: &mut DbConnection,
    user_did: Option<&str>,
    page: Page,
) -> QueryResult<(i64, Vec<AccessKeyRow>)> {
    let filtered = || {
        let mut query = access_keys::table.into_boxed();
        if let Some(did) = user_did {
            query = query.filter(access_keys::user_did.eq(did.to_owned()));
        }
        query
    };
    let count = filtered().count().get_result(conn)?;
    let rows = filtered()
        .select(AccessKeyRow::as_select())
        .order((access_keys::created_at.desc(), access_keys::id.asc()))
        .limit(page.page_size)
        .offset(page.offset())
        .load(conn)?;
    Ok((count, rows))
}

pub fn revoke(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::update(access_keys::table.find(id))
        .set(access_keys::revoked.eq(true))
        .execute(conn)
}

pub fn touch(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(access_keys::table.find(id))
        .set(access_keys::last_used_at.eq(at))
        .execute(conn)
}

/// True when some usable key has an admin role.
pub fn admin_exists(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<bool> {
    let count: i64 = access_keys::table
        .filter(access_keys::revoked.eq(false))
        .filter(access_keys::role.eq_any(["owner", "admin"]))
        .filter(
            access_keys::expires_at
                .is_null()
                .or(access_keys::expires_at.gt(now)),
        )
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Revokes every key named `name` except the one with `keep_hash` (bootstrap key rotation).
pub fn revoke_named_except(
    conn: &mut DbConnection,
    name: &str,
    keep_hash: &str,
) -> QueryResult<usize> {
    diesel::update(
        access_keys::table
            .filter(access_keys::name.eq(name))
            .filter(access_keys::key_hash.ne(keep_hash))
            .filter(access_keys::revoked.eq(false)),
    )
    .set(access_keys::revoked.eq(true))
    .execute(conn)
}
