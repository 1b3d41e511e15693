//! `apps`: applications registered for v1 remote calls (SPEC §5.4, §7.2), by application DID.

use super::DbConnection;
use super::schema::apps;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = apps)]
pub struct AppRow {
    pub id: String,
    pub public_key: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn get(conn: &mut DbConnection, id: &str) -> QueryResult<Option<AppRow>> {
    apps::table
        .find(id)
        .select(AppRow::as_select())
        .first(conn)
        .optional()
}

/// Registers `row`, or keeps the existing row: the id is derived from the key, so a second
/// registration of the same key changes nothing.
pub fn register(conn: &mut DbConnection, row: &AppRow) -> QueryResult<()> {
    use diesel::result::{DatabaseErrorKind, Error};
    match diesel::insert_into(apps::table).values(row).execute(conn) {
        Ok(_) | Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(()),
        Err(e) => Err(e),
    }
}
