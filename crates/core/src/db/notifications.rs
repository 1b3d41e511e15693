//! `notifications` and their outbox `notification_deliveries`: a notification and one delivery
//! per channel are written in one transaction; the sender claims a due delivery before it sends
//! (so two instances never send the same one at once) and marks it delivered once the receiver
//! accepted it, so a receiver outage or a restart delays a notification but never loses it.

use super::schema::{notification_deliveries as d, notifications as n};
use super::{DbConnection, Page};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = n)]
pub struct NotificationRow {
    pub id: String,
    pub kind: String,
    pub severity: String,
    pub title: String,
    pub body: String,
    /// JSON.
    pub data: String,
    pub user_did: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = d)]
pub struct DeliveryRow {
    pub id: String,
    pub notification_id: String,
    /// `blocklet`, or the webhook URL.
    pub channel: String,
    pub attempts: i64,
    pub next_attempt_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Writes a notification and a delivery to each of `channels`.
pub fn insert(
    conn: &mut DbConnection,
    row: &NotificationRow,
    channels: &[String],
) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::insert_into(n::table).values(row).execute(conn)?;
        for (i, channel) in channels.iter().enumerate() {
            let delivery = DeliveryRow {
                id: format!("{}-{i}", row.id),
                notification_id: row.id.clone(),
                channel: channel.clone(),
                attempts: 0,
                next_attempt_at: row.created_at,
                delivered_at: None,
                last_error: None,
                created_at: row.created_at,
            };
            diesel::insert_into(d::table)
                .values(&delivery)
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Deliveries due at `now` (oldest first), with their notification.
pub fn due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(DeliveryRow, NotificationRow)>> {
    d::table
        .inner_join(n::table)
        .filter(d::delivered_at.is_null())
        .filter(d::next_attempt_at.le(now))
        .order((d::next_attempt_at.asc(), d::id.asc()))
        .limit(limit)
        .select((DeliveryRow::as_select(), NotificationRow::as_select()))
        .load(conn)
}

/// Takes a due delivery for `lease` (its next attempt moves to `until`); `false` when another
/// sender took it first.
pub fn claim(
    conn: &mut DbConnection,
    row: &DeliveryRow,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        d::table
            .filter(d::id.eq(&row.id))
            .filter(d::delivered_at.is_null())
            .filter(d::next_attempt_at.eq(row.next_attempt_at)),
    )
    .set(d::next_attempt_at.eq(until))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn delivered(conn: &mut DbConnection, id: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(d::table.filter(d::id.eq(id)))
        .set((
            d::delivered_at.eq(at),
            d::attempts.eq(d::attempts + 1),
            d::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(drop)
}

pub fn failed(
    conn: &mut DbConnection,
    id: &str,
    error: &str,
    next: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(d::table.filter(d::id.eq(id)))
        .set((
            d::attempts.eq(d::attempts + 1),
            d::last_error.eq(error),
            d::next_attempt_at.eq(next),
        ))
        .execute(conn)
        .map(drop)
}

/// A notification and its deliveries.
pub type WithDeliveries = (NotificationRow, Vec<DeliveryRow>);

/// One page of notifications, newest first, with their deliveries; `user_did`: only that
/// user's.
pub fn list(
    conn: &mut DbConnection,
    user_did: Option<&str>,
    page: Page,
) -> QueryResult<(i64, Vec<WithDeliveries>)> {
    let query = || {
        let mut q = n::table.into_boxed();
        if let Some(u) = user_did {
            q = q.filter(n::user_did.eq(u.to_owned()));
        }
        q
    };
    let count = query().count().get_result(conn)?;
    let rows: Vec<NotificationRow> = query()
        .select(NotificationRow::as_select())
        .order((n::created_at.desc(), n::id.desc()))
        .limit(page.page_size)
        .offset(page.offset())
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let deliveries: Vec<DeliveryRow> = d::table
        .filter(d::notification_id.eq_any(ids))
        .select(DeliveryRow::as_select())
        .order(d::id.asc())
        .load(conn)?;
    let out = rows
        .into_iter()
        .map(|r| {
            let own = deliveries
                .iter()
                .filter(|x| x.notification_id == r.id)
                .cloned()
                .collect();
            (r, own)
        })
        .collect();
    Ok((count, out))
}
