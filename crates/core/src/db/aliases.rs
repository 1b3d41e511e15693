//! `model_aliases` rows: a name clients send (exact or a glob) and the `provider/model` it means.

use super::schema::model_aliases;
use super::{DbConnection, Page};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = model_aliases)]
pub struct AliasRow {
    pub id: String,
    pub pattern: String,
    pub target: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = model_aliases)]
pub struct AliasChanges {
    pub pattern: Option<String>,
    pub target: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &AliasRow) -> QueryResult<()> {
    diesel::insert_into(model_aliases::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn get(conn: &mut DbConnection, id: &str) -> QueryResult<Option<AliasRow>> {
    model_aliases::table
        .filter(model_aliases::id.eq(id))
        .select(AliasRow::as_select())
        .first(conn)
        .optional()
}

/// One page of aliases, by pattern.
pub fn list(conn: &mut DbConnection, page: Page) -> QueryResult<(i64, Vec<AliasRow>)> {
    let count = model_aliases::table.count().get_result(conn)?;
    let rows = model_aliases::table
        .select(AliasRow::as_select())
        .order((model_aliases::pattern.asc(), model_aliases::id.asc()))
        .limit(page.page_size)
        .offset(page.offset())
        .load(conn)?;
    Ok((count, rows))
}

/// Every alias (the routing snapshot).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<AliasRow>> {
    model_aliases::table
        .select(AliasRow::as_select())
        .order(model_aliases::pattern.asc())
        .load(conn)
}

pub fn update(conn: &mut DbConnection, id: &str, changes: &AliasChanges) -> QueryResult<usize> {
    diesel::update(model_aliases::table.filter(model_aliases::id.eq(id)))
        .set(changes)
        .execute(conn)
}

pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(model_aliases::table.filter(model_aliases::id.eq(id))).execute(conn)
}
