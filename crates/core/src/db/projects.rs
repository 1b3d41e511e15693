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
    /// When its `__blocklet__.js` was last read (or tried).
    pub fetched_at: Option<NaiveDateTime>,
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
                fetched_at: None,
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
                projects::url.eq(url.map(str::to_owned).or(row.url.clone())),
                projects::updated_at.eq(now),
                // A new URL is read again at once.
                projects::fetched_at.eq(row
                    .fetched_at
                    .filter(|_| url.is_none() || url == row.url.as_deref())),
            ))
            .execute(conn)
            .map(drop),
    }
}

/// How often a project's `__blocklet__.js` is read again, and a failed read retried.
pub const REFRESH: chrono::TimeDelta = chrono::TimeDelta::days(7);
pub const RETRY: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// Projects with a URL whose `__blocklet__.js` is due at `now` (never read, read a week ago,
/// or nameless and tried a day ago), at most `limit`.
pub fn due_for_fetch(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<ProjectRow>> {
    projects::table
        .filter(projects::url.is_not_null())
        .filter(
            projects::fetched_at
                .is_null()
                .or(projects::fetched_at.lt(now - REFRESH))
                .or(projects::name
                    .is_null()
                    .and(projects::fetched_at.lt(now - RETRY))),
        )
        .select(ProjectRow::as_select())
        .order(projects::fetched_at.asc())
        .limit(limit)
        .load(conn)
}

/// What a read of the project's `__blocklet__.js` found (`None`s: nothing, or it failed): found
/// values replace the stored ones, the rest stay.
pub fn record_fetch(
    conn: &mut DbConnection,
    app_did: &str,
    name: Option<&str>,
    logo: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let Some(row) = projects::table
        .find(app_did)
        .select(ProjectRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(0);
    };
    diesel::update(projects::table.find(app_did))
        .set((
            projects::name.eq(name.map(str::to_owned).or(row.name)),
            projects::logo.eq(logo.map(str::to_owned).or(row.logo)),
            projects::fetched_at.eq(Some(now)),
        ))
        .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[test]
    fn projects_are_read_again_weekly_and_failures_daily() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::db::migrated_sqlite(dir.path());
        let now = Utc::now().naive_utc();
        db.run_sync(|c| {
            upsert(c, "zNoUrl", Some("n"), None, None, now)?;
            upsert(c, "zNew", None, None, Some("https://new.example"), now)?;
            upsert(c, "zOld", None, None, Some("https://old.example"), now)?;
            upsert(c, "zFailed", None, None, Some("https://down.example"), now)?;
            let due: Vec<String> = due_for_fetch(c, now, 10)?
                .into_iter()
                .map(|p| p.app_did)
                .collect();
            assert_eq!(due.len(), 3, "{due:?}");
            record_fetch(
                c,
                "zOld",
                Some("Old App"),
                Some("https://old.example/logo.png"),
                now - Duration::days(8),
            )?;
            record_fetch(c, "zFailed", None, None, now - Duration::hours(2))?;
            record_fetch(c, "zNew", Some("New App"), None, now)?;
            let due: Vec<String> = due_for_fetch(c, now, 10)?
                .into_iter()
                .map(|p| p.app_did)
                .collect();
            assert_eq!(due, ["zOld"]);
            let later: Vec<String> = due_for_fetch(c, now + Duration::days(1), 10)?
                .into_iter()
                .map(|p| p.app_did)
                .collect();
            assert!(later.contains(&"zFailed".to_owned()), "{later:?}");
            // A failed read keeps what was known; a new URL is read again at once.
            record_fetch(c, "zOld", None, None, now)?;
            let old = get_many(c, &["zOld".to_owned()])?;
            assert_eq!(old[0].name.as_deref(), Some("Old App"));
            upsert(c, "zNew", None, None, Some("https://moved.example"), now)?;
            let due: Vec<String> = due_for_fetch(c, now, 10)?
                .into_iter()
                .map(|p| p.app_did)
                .collect();
            assert_eq!(due, ["zNew"]);
            Ok::<_, crate::db::DbError>(())
        })
        .expect("db");
    }
}
