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

/// Adds a rate (and its history entry), `by` a user DID.
pub fn insert(conn: &mut DbConnection, row: &RateRow, by: &str) -> QueryResult<()> {
    super::write_transaction(conn, |conn| {
        diesel::insert_into(ai_model_rates::table)
            .values(row)
            .execute(conn)?;
        super::rate_history::record(conn, None, Some(row), "created", by, row.created_at)
    })
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

/// Changes a rate, recording a price change in its history; the row after, or `None` when
/// there is no such rate.
pub fn update(
    conn: &mut DbConnection,
    provider_id: &str,
    id: &str,
    changes: &RateChanges,
    by: &str,
) -> QueryResult<Option<RateRow>> {
    super::write_transaction(conn, |conn| {
        let Some(before) = get(conn, provider_id, id)? else {
            return Ok(None);
        };
        diesel::update(
            ai_model_rates::table
                .filter(ai_model_rates::provider_id.eq(provider_id))
                .filter(ai_model_rates::id.eq(id)),
        )
        .set(changes)
        .execute(conn)?;
        let after = get(conn, provider_id, id)?;
        if let Some(after) = &after {
            super::rate_history::record(
                conn,
                Some(&before),
                Some(after),
                "updated",
                by,
                after.updated_at,
            )?;
        }
        Ok(after)
    })
}

/// Deletes a rate (its history stays); the rows deleted.
pub fn delete(
    conn: &mut DbConnection,
    provider_id: &str,
    id: &str,
    by: &str,
) -> QueryResult<usize> {
    super::write_transaction(conn, |conn| {
        let Some(before) = get(conn, provider_id, id)? else {
            return Ok(0);
        };
        let n = diesel::delete(
            ai_model_rates::table
                .filter(ai_model_rates::provider_id.eq(provider_id))
                .filter(ai_model_rates::id.eq(id)),
        )
        .execute(conn)?;
        let now = chrono::Utc::now().naive_utc();
        super::rate_history::record(conn, Some(&before), None, "deleted", by, now)?;
        Ok(n)
    })
}

/// Every rate row (for bulk updates).
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<RateRow>> {
    ai_model_rates::table
        .select(RateRow::as_select())
        .order((ai_model_rates::model.asc(), ai_model_rates::id.asc()))
        .load(conn)
}

/// New prices for one row of a bulk update: its rates, and new unit costs (JSON) if they change.
pub struct NewPrices {
    pub id: String,
    pub input_rate: String,
    pub output_rate: String,
    pub unit_costs: Option<String>,
}

/// Sets new prices on many rows in one transaction, each recorded in the history as `change`
/// (`margin`, `sync`) by `by`.
pub fn set_rates(
    conn: &mut DbConnection,
    changes: &[NewPrices],
    now: NaiveDateTime,
    change: &str,
    by: &str,
) -> QueryResult<()> {
    super::write_transaction(conn, |conn| {
        for c in changes {
            let before = ai_model_rates::table
                .filter(ai_model_rates::id.eq(&c.id))
                .select(RateRow::as_select())
                .first(conn)
                .optional()?;
            let Some(before) = before else { continue };
            diesel::update(ai_model_rates::table.filter(ai_model_rates::id.eq(&c.id)))
                .set((
                    ai_model_rates::input_rate.eq(&c.input_rate),
                    ai_model_rates::output_rate.eq(&c.output_rate),
                    ai_model_rates::unit_costs
                        .eq(c.unit_costs.as_ref().or(before.unit_costs.as_ref())),
                    ai_model_rates::updated_at.eq(now),
                ))
                .execute(conn)?;
            let after = RateRow {
                input_rate: c.input_rate.clone(),
                output_rate: c.output_rate.clone(),
                unit_costs: c.unit_costs.clone().or(before.unit_costs.clone()),
                updated_at: now,
                ..before.clone()
            };
            super::rate_history::record(conn, Some(&before), Some(&after), change, by, now)?;
        }
        Ok(())
    })
}
