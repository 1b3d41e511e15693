//! `meter_event_outbox` (SPEC §9): what billed calls owe Payment Kit, written by the usage
//! writer in the call's transaction, reported by `billing::meter_reports`.
//!
//! A row's `identifier` is given once, before its first report, to a group of rows of one
//! (user, app): `aigne-hub-<id of the group's first row>` (ids are UUIDv7, unique). A retry
//! sends the same group under the same identifier, so Payment Kit, which keeps one event per
//! identifier, never counts it twice.

use super::DbConnection;
use super::credits::Credits;
use super::schema::meter_event_outbox as o;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Most rows one report covers.
pub const GROUP_ROWS: usize = 500;
/// Rows an instance left unreported this long are reported by any instance (PostgreSQL: the
/// instance may be gone).
pub const TAKE_OVER_AFTER: chrono::Duration = chrono::Duration::minutes(10);

#[derive(Insertable)]
#[diesel(table_name = o)]
// None is NULL, so that SQLite takes many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct NewOutboxRow<'a> {
    pub id: String,
    pub user_did: &'a str,
    pub app_did: Option<&'a str>,
    pub amount: Credits,
    pub model_call_id: Option<&'a str>,
    pub status: &'static str,
    pub attempts: i64,
    pub created_at: NaiveDateTime,
    pub instance_id: Option<&'a str>,
}

/// One report: the rows sharing an identifier.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub identifier: String,
    pub user_did: String,
    pub app_did: Option<String>,
    pub value: Decimal,
    pub calls: usize,
    pub last_at: NaiveDateTime,
    pub attempts: i64,
}

/// identifier, user, app, amount, created_at, attempts
type DueRow = (
    Option<String>,
    String,
    Option<String>,
    Credits,
    NaiveDateTime,
    i64,
);

/// What `user` owes that Payment Kit has not confirmed yet.
pub fn unreported(conn: &mut DbConnection, user: &str) -> QueryResult<Decimal> {
    let amounts: Vec<Credits> = o::table
        .filter(o::user_did.eq(user))
        .filter(o::status.eq("pending"))
        .select(o::amount)
        .load(conn)?;
    Ok(amounts.into_iter().sum::<Credits>().decimal())
}

/// Gives identifiers to the unreported rows that have none (this instance's, and anyone's
/// left for [`TAKE_OVER_AFTER`]); returns how many rows got one.
pub fn assign(conn: &mut DbConnection, instance: &str, now: NaiveDateTime) -> QueryResult<usize> {
    super::write_transaction(conn, |conn| {
        let rows: Vec<(String, String, Option<String>)> = o::table
            .filter(o::status.eq("pending"))
            .filter(o::identifier.is_null())
            .filter(
                o::instance_id
                    .eq(instance)
                    .or(o::created_at.lt(now - TAKE_OVER_AFTER)),
            )
            .order(o::id)
            .limit(10 * GROUP_ROWS as i64)
            .select((o::id, o::user_did, o::app_did))
            .load(conn)?;
        let mut groups: BTreeMap<(String, Option<String>), Vec<String>> = BTreeMap::new();
        for (id, user, app) in rows {
            groups.entry((user, app)).or_default().push(id);
        }
        let mut assigned = 0;
        for ids in groups.values() {
            for chunk in ids.chunks(GROUP_ROWS) {
                let identifier = format!("aigne-hub-{}", chunk[0]);
                assigned += diesel::update(
                    o::table
                        .filter(o::id.eq_any(chunk))
                        .filter(o::identifier.is_null()),
                )
                .set(o::identifier.eq(identifier))
                .execute(conn)?;
            }
        }
        Ok(assigned)
    })
}

/// The reports due now (identified, unreported, not waiting for a retry).
pub fn due(
    conn: &mut DbConnection,
    instance: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<Report>> {
    let rows: Vec<DueRow> = o::table
        .filter(o::status.eq("pending"))
        .filter(o::identifier.is_not_null())
        .filter(o::next_attempt_at.is_null().or(o::next_attempt_at.le(now)))
        .filter(
            o::instance_id
                .eq(instance)
                .or(o::created_at.lt(now - TAKE_OVER_AFTER)),
        )
        .order(o::id)
        .limit(20 * GROUP_ROWS as i64)
        .select((
            o::identifier,
            o::user_did,
            o::app_did,
            o::amount,
            o::created_at,
            o::attempts,
        ))
        .load(conn)?;
    let mut reports: BTreeMap<String, Report> = BTreeMap::new();
    for (identifier, user, app, amount, at, attempts) in rows {
        let Some(identifier) = identifier else {
            continue;
        };
        let r = reports.entry(identifier.clone()).or_insert_with(|| Report {
            identifier,
            user_did: user,
            app_did: app,
            value: Decimal::ZERO,
            calls: 0,
            last_at: at,
            attempts,
        });
        r.value += amount.decimal();
        r.calls += 1;
        r.last_at = r.last_at.max(at);
        r.attempts = r.attempts.max(attempts);
    }
    Ok(reports.into_values().collect())
}

/// Payment Kit has the report.
pub fn mark_sent(
    conn: &mut DbConnection,
    identifier: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        o::table
            .filter(o::identifier.eq(identifier))
            .filter(o::status.eq("pending")),
    )
    .set((
        o::status.eq("sent"),
        o::sent_at.eq(now),
        o::last_error.eq(None::<String>),
    ))
    .execute(conn)
}

/// The report failed; tried again at `retry_at`.
pub fn mark_failed(
    conn: &mut DbConnection,
    identifier: &str,
    error: &str,
    retry_at: NaiveDateTime,
) -> QueryResult<usize> {
    let error: String = error.chars().take(1000).collect();
    diesel::update(
        o::table
            .filter(o::identifier.eq(identifier))
            .filter(o::status.eq("pending")),
    )
    .set((
        o::attempts.eq(o::attempts + 1),
        o::last_error.eq(error),
        o::next_attempt_at.eq(retry_at),
    ))
    .execute(conn)
}

/// Deletes reported rows sent before `cutoff` (retention).
pub fn delete_sent_before(conn: &mut DbConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        o::table
            .filter(o::status.eq("sent"))
            .filter(o::sent_at.lt(cutoff)),
    )
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DbError, migrated_sqlite};

    fn at(min: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, min, 0))
            .expect("time")
    }

    fn add(
        c: &mut DbConnection,
        id: &str,
        user: &str,
        app: Option<&str>,
        amount: &str,
        instance: &str,
        when: NaiveDateTime,
    ) {
        diesel::insert_into(o::table)
            .values(NewOutboxRow {
                id: id.into(),
                user_did: user,
                app_did: app,
                amount: amount.parse().expect("amount"),
                model_call_id: None,
                status: "pending",
                attempts: 0,
                created_at: when,
                instance_id: Some(instance),
            })
            .execute(c)
            .expect("insert");
    }

    #[test]
    fn identifiers_are_given_once_per_user_and_app_and_kept_through_retries() {
        let dir = tempfile::tempdir().expect("dir");
        let db = migrated_sqlite(dir.path());
        db.run_sync(|c| -> Result<(), DbError> {
            add(c, "01", "u1", Some("a"), "0.1", "me", at(10));
            add(c, "02", "u1", Some("a"), "0.2", "me", at(11));
            add(c, "03", "u1", None, "0.3", "me", at(11));
            add(c, "04", "u2", Some("a"), "0.4", "me", at(12));
            // Another instance's row: its own sender reports it, until it is left too long.
            add(c, "05", "u1", Some("a"), "0.5", "other", at(12));
            assert_eq!(unreported(c, "u1")?, "1.1".parse::<Decimal>().expect("d"));
            assert_eq!(assign(c, "me", at(13))?, 4);
            // Given once: a second pass changes nothing.
            assert_eq!(assign(c, "me", at(14))?, 0);
            let reports = due(c, "me", at(14))?;
            let by_id: BTreeMap<&str, &Report> =
                reports.iter().map(|r| (r.identifier.as_str(), r)).collect();
            assert_eq!(by_id.len(), 3);
            let first = by_id["aigne-hub-01"];
            assert_eq!((first.user_did.as_str(), first.calls), ("u1", 2));
            assert_eq!(first.value, "0.3".parse::<Decimal>().expect("d"));
            assert_eq!(first.last_at, at(11));
            assert_eq!(by_id["aigne-hub-03"].app_did, None);
            // A failed report waits, keeps its identifier, then is due again.
            assert_eq!(mark_failed(c, "aigne-hub-01", "down", at(20))?, 2);
            assert_eq!(due(c, "me", at(15))?.len(), 2);
            let again = due(c, "me", at(20))?;
            assert!(
                again
                    .iter()
                    .any(|r| r.identifier == "aigne-hub-01" && r.attempts == 1)
            );
            assert_eq!(mark_sent(c, "aigne-hub-01", at(21))?, 2);
            assert_eq!(mark_sent(c, "aigne-hub-01", at(22))?, 0);
            assert_eq!(unreported(c, "u1")?, "0.8".parse::<Decimal>().expect("d"));
            // The other instance's row is taken over once it has waited TAKE_OVER_AFTER.
            assert_eq!(assign(c, "me", at(21))?, 0);
            assert_eq!(assign(c, "me", at(23))?, 1);
            assert_eq!(delete_sent_before(c, at(30))?, 2);
            Ok(())
        })
        .expect("outbox");
    }
}
