//! `ai_credentials` rows. `credential_value` is always the encrypted form (secrets::Cipher).

use super::DbConnection;
use super::page::Page;
use super::schema::ai_credentials;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ai_credentials)]
pub struct CredentialRow {
    pub id: String,
    pub provider_id: String,
    pub name: String,
    pub credential_value: String,
    pub credential_type: String,
    pub active: bool,
    pub last_used_at: Option<NaiveDateTime>,
    pub usage_count: i64,
    pub error: Option<String>,
    pub weight: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = ai_credentials)]
pub struct CredentialChanges {
    pub name: Option<String>,
    pub credential_value: Option<String>,
    pub credential_type: Option<String>,
    pub active: Option<bool>,
    pub error: Option<Option<String>>,
    pub weight: Option<i64>,
    pub updated_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, row: &CredentialRow) -> QueryResult<()> {
    diesel::insert_into(ai_credentials::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn get(
    conn: &mut DbConnection,
    provider_id: &str,
    id: &str,
) -> QueryResult<Option<CredentialRow>> {
    ai_credentials::table
        .filter(ai_credentials::provider_id.eq(provider_id))
        .filter(ai_credentials::id.eq(id))
        .select(CredentialRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConnection,
    provider_id: &str,
    page: Page,
) -> QueryResult<(i64, Vec<CredentialRow>)> {
    let count = ai_credentials::table
        .filter(ai_credentials::provider_id.eq(provider_id))
        .count()
        .get_result(conn)?;
    let rows = ai_credentials::table
        .filter(ai_credentials::provider_id.eq(provider_id))
        .select(CredentialRow::as_select())
        .order((ai_credentials::created_at.asc(), ai_credentials::id.asc()))
        .limit(page.page_size)
        .offset(page.offset())
        .load(conn)?;
    Ok((count, rows))
}

/// Every credential of the given providers (for embedding in provider lists).
pub fn for_providers(
    conn: &mut DbConnection,
    provider_ids: &[String],
) -> QueryResult<Vec<CredentialRow>> {
    ai_credentials::table
        .filter(ai_credentials::provider_id.eq_any(provider_ids))
        .select(CredentialRow::as_select())
        .order((ai_credentials::created_at.asc(), ai_credentials::id.asc()))
        .load(conn)
}

pub fn update(
    conn: &mut DbConnection,
    provider_id: &str,
    id: &str,
    changes: &CredentialChanges,
) -> QueryResult<usize> {
    diesel::update(
        ai_credentials::table
            .filter(ai_credentials::provider_id.eq(provider_id))
            .filter(ai_credentials::id.eq(id)),
    )
    .set(changes)
    .execute(conn)
}

pub fn delete(conn: &mut DbConnection, provider_id: &str, id: &str) -> QueryResult<usize> {
    diesel::delete(
        ai_credentials::table
            .filter(ai_credentials::provider_id.eq(provider_id))
            .filter(ai_credentials::id.eq(id)),
    )
    .execute(conn)
}

/// Whether a credential is active, and its stored (encrypted) value.
pub fn state(conn: &mut DbConnection, id: &str) -> QueryResult<Option<(bool, String)>> {
    use ai_credentials::dsl;
    dsl::ai_credentials
        .find(id)
        .select((dsl::active, dsl::credential_value))
        .first(conn)
        .optional()
}

/// Marks a credential rejected by its provider inactive with the reason; returns its stored
/// (encrypted) value so the re-check can try it later, `None` if it is gone.
pub fn disable(conn: &mut DbConnection, id: &str, reason: &str) -> QueryResult<Option<String>> {
    use ai_credentials::dsl;
    diesel::update(dsl::ai_credentials.find(id))
        .set((
            dsl::active.eq(false),
            dsl::error.eq(reason),
            dsl::updated_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    dsl::ai_credentials
        .find(id)
        .select(dsl::credential_value)
        .first(conn)
        .optional()
}

/// Makes a credential the re-check found working active again, unless an administrator already
/// did (or changed it); returns whether this call re-enabled it.
pub fn reenable(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    use ai_credentials::dsl;
    let changed = diesel::update(dsl::ai_credentials.find(id).filter(dsl::active.eq(false)))
        .set((
            dsl::active.eq(true),
            dsl::error.eq(None::<String>),
            dsl::updated_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(changed > 0)
}
