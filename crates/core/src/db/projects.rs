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

/// Records what is known of an app: given fields replace the stored ones, absent ones stay.
pub fn upsert(
    conn: &mut DbConnection,
    app_did: &str,
    name: Option<&str>,
    logo: Option<&str>,
    url: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let existing = projects::table
        .find(app_did)
        .select(ProjectRow::as_select())
        .first(conn)
        .optional()?;
    match existing {
        None => diesel::insert_into(projects::table)
            .values(&ProjectRow {
                app_did: app_did.to_owned(),
                name: name.map(str::to_owned),
                logo: logo.map(str::to_owned),
                url: url.map(str::to_owned),
                created_at: now,
                updated_at: now,
            })
            .execute(conn)
            .map(drop)
            .or_else(|e| match e {
                // Another request registered it first: theirs stands.
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => Ok(()),
                e => Err(e),
            }),
        Some(row) => diesel::update(projects::table.find(app_did))
            .set((
                projects::name.eq(name.map(str::to_owned).or(row.name)),
                projects::logo.eq(logo.map(str::to_owned).or(row.logo)),
                projects::url.eq(url.map(str::to_owned).or(row.url)),
                projects::updated_at.eq(now),
            ))
            .execute(conn)
            .map(drop),
    }
}
