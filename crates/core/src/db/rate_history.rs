//! `ai_model_rate_histories`: every change of a model rate, written in the change's transaction
//! by [`super::rates`], so no change goes unrecorded.

use super::rates::RateRow;
use super::schema::ai_model_rate_histories as h;
use super::{DbBackend, DbConnection, Page};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = h)]
pub struct HistoryRow {
    pub id: String,
    pub rate_id: String,
    pub provider_id: String,
    pub model: String,
    pub type_: String,
    /// `created`, `updated`, `deleted`, `margin` or `sync` (the bulk updates).
    pub change: String,
    /// The user DID of who made it (`system` for the Hub itself).
    pub changed_by: String,
    pub previous: Option<String>,
    pub current: Option<String>,
    pub created_at: NaiveDateTime,
}

/// What a history entry keeps of a rate: its prices.
fn prices(row: &RateRow) -> Value {
    let doc = |t: &Option<String>| {
        t.as_deref()
            .map(|s| serde_json::from_str::<Value>(s).unwrap_or(Value::String(s.to_owned())))
    };
    json!({
        "inputRate": row.input_rate,
        "outputRate": row.output_rate,
        "unitCosts": doc(&row.unit_costs),
        "caching": doc(&row.caching),
    })
}

/// Records the change from `before` to `after` (either may be absent); nothing when the prices
/// did not change (a new display name is not a price change).
pub fn record(
    conn: &mut DbConnection,
    before: Option<&RateRow>,
    after: Option<&RateRow>,
    change: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let (previous, current) = (before.map(prices), after.map(prices));
    if previous == current {
        return Ok(());
    }
    let Some(rate) = after.or(before) else {
        return Ok(());
    };
    let row = HistoryRow {
        id: uuid::Uuid::now_v7().to_string(),
        rate_id: rate.id.clone(),
        provider_id: rate.provider_id.clone(),
        model: rate.model.clone(),
        type_: rate.kind.clone(),
        change: change.to_owned(),
        changed_by: by.to_owned(),
        previous: previous.map(|v| v.to_string()),
        current: current.map(|v| v.to_string()),
        created_at: now,
    };
    diesel::insert_into(h::table)
        .values(&row)
        .execute(conn)
        .map(drop)
}

#[derive(Debug, Default, Clone)]
pub struct HistoryFilter {
    pub provider_id: Option<String>,
    pub rate_id: Option<String>,
    pub model: Option<String>,
}

fn filtered(f: &HistoryFilter) -> h::BoxedQuery<'static, DbBackend> {
    let mut q = h::table.into_boxed();
    if let Some(p) = &f.provider_id {
        q = q.filter(h::provider_id.eq(p.clone()));
    }
    if let Some(r) = &f.rate_id {
        q = q.filter(h::rate_id.eq(r.clone()));
    }
    if let Some(m) = &f.model {
        q = q.filter(h::model.eq(m.clone()));
    }
    q
}

/// One page of changes, newest first.
pub fn list(
    conn: &mut DbConnection,
    filter: &HistoryFilter,
    page: Page,
) -> QueryResult<(i64, Vec<HistoryRow>)> {
    let count = filtered(filter).count().get_result(conn)?;
    let rows = filtered(filter)
        .select(HistoryRow::as_select())
        .order((h::created_at.desc(), h::id.desc()))
        .limit(page.page_size)
        .offset(page.offset())
        .load(conn)?;
    Ok((count, rows))
}
