//! `ai_model_statuses` rows: whether a provider's model answered last time it was used or
//! checked, shared by every instance (one row per provider, model and call type).

use super::DbConnection;
use super::schema::ai_model_statuses;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = ai_model_statuses)]
pub struct ModelStatusRow {
    pub id: String,
    pub provider_id: String,
    pub model: String,
    /// The rate type (`chatCompletion`, `embedding`, …).
    pub type_: String,
    pub available: bool,
    /// `{"code": …, "message": …}` of the failure that made it unavailable.
    pub error: Option<String>,
    pub response_time: Option<i64>,
    pub checked_at: NaiveDateTime,
}

#[derive(AsChangeset)]
#[diesel(table_name = ai_model_statuses, treat_none_as_null = true)]
struct Changes<'a> {
    available: bool,
    error: Option<&'a str>,
    response_time: Option<i64>,
    checked_at: NaiveDateTime,
}

/// Writes the status of (`provider_id`, `model`, `type_`), creating its row if needed. Two
/// instances creating the same row at once: the loser updates the winner's row.
pub fn upsert(conn: &mut DbConnection, row: &ModelStatusRow) -> QueryResult<()> {
    let update = |conn: &mut DbConnection| {
        diesel::update(
            ai_model_statuses::table
                .filter(ai_model_statuses::provider_id.eq(&row.provider_id))
                .filter(ai_model_statuses::model.eq(&row.model))
                .filter(ai_model_statuses::type_.eq(&row.type_)),
        )
        .set(Changes {
            available: row.available,
            error: row.error.as_deref(),
            response_time: row.response_time,
            checked_at: row.checked_at,
        })
        .execute(conn)
    };
    if update(conn)? > 0 {
        return Ok(());
    }
    match diesel::insert_into(ai_model_statuses::table)
        .values(row)
        .execute(conn)
    {
        Ok(_) => Ok(()),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => update(conn).map(drop),
        Err(e) => Err(e),
    }
}

/// Every status (the routing snapshot and the console), by provider and model.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<ModelStatusRow>> {
    ai_model_statuses::table
        .select(ModelStatusRow::as_select())
        .order((
            ai_model_statuses::provider_id.asc(),
            ai_model_statuses::model.asc(),
            ai_model_statuses::type_.asc(),
        ))
        .load(conn)
}
