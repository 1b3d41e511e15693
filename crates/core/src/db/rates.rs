//! `ai_model_rates` rows. Rates are exact decimal strings; JSON columns hold serialized JSON.

use super::page::{Page, contains_pattern, lower};
use super::schema::ai_model_rates;
use super::{DbBackend, DbConnection};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ai_model_rates)]
pub struct RateRow {
    pub id: String,
    pub provider_id: String,
    pub model: String,
    pub model_display: Option<String>,
    pub description: Option<String>,
    #[diesel(column_name = type_)]
    pub kind: String,
    pub input_rate: String,
    pub output_rate: String,
    pub unit_costs: Option<String>,
    pub caching: Option<String>,
    pub model_metadata: Option<String>,
    pub deprecated: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = ai_model_rates)]
pub struct RateChanges {
    pub model: Option<String>,
    pub model_display: Option<Option<String>>,
    pub description: Option<Option<String>>,
    #[diesel(column_name = type_)]
    pub kind: Option<String>,
    pub input_rate: Option<String>,
    pub output_rate: Option<String>,
    pub unit_costs: Option<Option<String>>,
    pub caching: Option<Option<String>>,
    pub model_metadata: Option<Option<String>>,
    pub deprecated: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Filters of the rate lists.
#[derive(Debug, Default, Clone)]
pub struct RateFilter {
    pub provider_id: Option<String>,
    pub model: Option<String>,
    pub q: Option<String>,
}

pub fn insert(conn: &mut DbConnection, row: &RateRow) -> QueryResult<()> {
    diesel::insert_into(ai_model_rates::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn get(conn: &mut DbConnection, provider_id: &str, id: &str) -> QueryResult<Option<RateRow>> {
    ai_model_rates::table
        .filter(ai_model_rates::provider_id.eq(provider_id))
        .filter(ai_model_rates::id.eq(id))
        .select(RateRow::as_select())
        .first(conn)
        .optional()
}

fn filtered(filter: &RateFilter) -> ai_model_rates::BoxedQuery<'static, DbBackend> {
    let mut query = ai_model_rates::table.into_boxed();
    if let Some(provider_id) = &filter.provider_id {
        query = query.filter(ai_model_rates::provider_id.eq(provider_id.clone()));
    }
    if let Some(model) = &filter.model {
        query = query.filter(ai_model_rates::model.eq(model.clone()));
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.is_empty()) {
        let pattern = contains_pattern(q);
        query = query.filter(
            lower(ai_model_rates::model)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(ai_model_rates::model_display.assume_not_null())
                    .like(pattern)
                    .escape('\\')),
        );
    }
    query
}

pub fn list(
    conn: &mut DbConnection,
    filter: &RateFilter,
    page: Page,
) -> QueryResult<(i64, Vec<RateRow>)> {
    let count = filtered(filter).count().get_result(conn)?;
    let rows = filtered(filter)
        .select(RateRow::as_select())
        .order((
            ai_model_rates::model.asc(),
            ai_model_rates::type_.asc(),
            ai_model_rates::id.asc(),
        ))
        .limit(page.page_size)
        .offset(page.offset())
        .load(conn)?;
    Ok((count, rows))
}

pub fn update(
    conn: &mut DbConnection,
    provider_id: &str,
    id: &str,
    changes: &RateChanges,
) -> QueryResult<usize> {
    diesel::update(
        ai_model_rates::table
            .filter(ai_model_rates::provider_id.eq(provider_id))
            .filter(ai_model_rates::id.eq(id)),
    )
    .set(changes)
    .execute(conn)
}

pub fn delete(conn: &mut DbConnection, provider_id: &str, id: &str) -> QueryResult<usize> {
    diesel::delete(
        ai_model_rates::table
            .filter(ai_model_rates::provider_id.eq(provider_id))
            .filter(ai_model_rates::id.eq(id)),
    )
    .execute(conn)
}

/// Every rate row (for bulk updates).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<RateRow>> {
    ai_model_rates::table
        .select(RateRow::as_select())
        .order((ai_model_rates::model.asc(), ai_model_rates::id.asc()))
        .load(conn)
}

/// Sets new rates on many rows in one transaction.
pub fn set_rates(
    conn: &mut DbConnection,
    changes: &[(String, String, String)],
    now: NaiveDateTime,
) -> QueryResult<()> {
    super::write_transaction(conn, |conn| {
        for (id, input, output) in changes {
            diesel::update(ai_model_rates::table.filter(ai_model_rates::id.eq(id)))
                .set((
                    ai_model_rates::input_rate.eq(input),
                    ai_model_rates::output_rate.eq(output),
                    ai_model_rates::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}
