//! `ai_providers` rows.

use super::page::Page;
use super::schema::ai_providers;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ai_providers)]
pub struct ProviderRow {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub base_url: Option<String>,
    pub region: Option<String>,
    pub enabled: bool,
    pub config: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A partial update; `None` leaves a column as it is, `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = ai_providers)]
pub struct ProviderChanges {
    pub display_name: Option<String>,
    pub base_url: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub config: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &ProviderRow) -> QueryResult<()> {
    diesel::insert_into(ai_providers::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn get(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ProviderRow>> {
    ai_providers::table
        .find(id)
        .select(ProviderRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConnection, page: Page) -> QueryResult<(i64, Vec<ProviderRow>)> {
    let count = ai_providers::table.count().get_result(conn)?;
    let rows = ai_providers::table
        .select(ProviderRow::as_select())
        .order((ai_providers::created_at.asc(), ai_providers::id.asc()))
        .limit(page.page_size)
        .offset(page.offset())
        .load(conn)?;
    Ok((count, rows))
}

pub fn update(conn: &mut DbConnection, id: &str, changes: &ProviderChanges) -> QueryResult<usize> {
    diesel::update(ai_providers::table.find(id))
        .set(changes)
        .execute(conn)
}

pub fn delete(conn: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(ai_providers::table.find(id)).execute(conn)
}

/// Every provider row.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<ProviderRow>> {
    ai_providers::table
        .select(ProviderRow::as_select())
        .order(ai_providers::name.asc())
        .load(conn)
}

pub fn by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<ProviderRow>> {
    ai_providers::table
        .filter(ai_providers::name.eq(name))
        .select(ProviderRow::as_select())
        .first(conn)
        .optional()
}
