//! `projects` rows: what the Hub knows of a calling app (`app_did`) — its name, logo and URL,
//! from its registration or its `__blocklet__.js`.

use super::DbConnection;
use super::schema::projects;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = projects)]
pub struct ProjectRow {
    pub app_did: String,
    pub name: Option<String>,
    pub logo: Option<String>,
    pub url: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The projects of `dids` that the Hub knows.
pub fn get_many(conn: &mut DbConnection, dids: &[String]) -> QueryResult<Vec<ProjectRow>> {
    if dids.is_empty() {
        return Ok(Vec::new());
    }
    projects::table
        .filter(projects::app_did.eq_any(dids))
        .select(ProjectRow::as_select())
        .load(conn)
}
