//! `GET /api/user/usage-stats?start&end&timeType=hour|day|month` (SPEC §5.6): calls, successes,
//! failures, tokens, credits (exact) and latency percentiles per time bucket, with totals and a
//! per-model breakdown (also as the real Hub's `modelStats`). Own calls, or everyone's for
//! admins with `allUsers=true`. Buckets are UTC, or the user's with `timezoneOffset` (minutes
//! behind UTC, as the real Hub takes it): hourly rollups regrouped into their days and months.
//!
//! Two sources, named in the answer's `source`:
//! - `stats` (the usual case, also with `appDid`): the `model_call_stats` rollups the writer keeps
//!   as calls finish; a query reads one row per bucket and app, whatever the number of calls.
//!   Buckets count whole: the first is the one `start` falls in. Latency percentiles come from
//!   10%-wide histograms (never below the true value, at most 10% above).
//! - `calls` (with `model`, `type`, `providerId`, `status`, `search` or `minDurationSeconds`,
//!   which rollups do not split by, or a `timezoneOffset` of a part of an hour): computed from
//!   `model_calls` for the range, exact, at most [`MAX_CALLS`] calls (a larger range is a 400
//!   asking for a narrower one).

use super::calls::filter;
use crate::auth::Authenticated;
use crate::db::model_calls::{self, CallPoint};
use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use crate::state::AppState;
use crate::usage::rollup::{Rollup, TimeType, Totals};
use crate::usage::rollup_store::{self as rollup_rows, Scope};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

pub const MAX_CALLS: i64 = 500_000;

fn time_type(v: Option<&str>) -> ApiResult<TimeType> {
    let v = v.unwrap_or("day");
    TimeType::parse(v).ok_or_else(|| {
        ApiError::invalid("timeType", format!("'{v}' is not one of hour, day, month"))
    })
}

#[derive(Default)]
struct Acc {
    calls: u64,
    success: u64,
    failed: u64,
    usage: i64,
    credits: Decimal,
    durations: Vec<i64>,
    ttfbs: Vec<i64>,
}

impl Acc {
    fn add(&mut self, p: &CallPoint) {
        self.calls += 1;
        if p.status == "success" {
            self.success += 1;
        } else {
            self.failed += 1;
        }
        self.usage += p.total_usage;
        self.credits += p.credits.decimal();
        self.durations.extend(p.duration_ms);
        self.ttfbs.extend(p.ttfb_ms);
    }

    fn view(mut self) -> Stats {
        Stats {
            calls: self.calls,
            success: self.success,
            failed: self.failed,
            total_usage: self.usage,
            credits: crate::billing::credits::text(self.credits),
            duration_p50: percentile(&mut self.durations, 50),
            duration_p95: percentile(&mut self.durations, 95),
            ttfb_p50: percentile(&mut self.ttfbs, 50),
            ttfb_p95: percentile(&mut self.ttfbs, 95),
        }
    }
}

fn totals_view(t: &Totals) -> Stats {
    Stats {
        calls: t.calls,
        success: t.success,
        failed: t.failed,
        total_usage: t.usage,
        credits: t.credits_text(),
        duration_p50: t.duration.percentile(50),
        duration_p95: t.duration.percentile(95),
        ttfb_p50: t.ttfb.percentile(50),
        ttfb_p95: t.ttfb.percentile(95),
    }
}

/// Nearest-rank percentile.
fn percentile(values: &mut [i64], p: usize) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (p * values.len()).div_ceil(100).max(1);
    values.get(rank - 1).copied()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Stats {
    calls: u64,
    success: u64,
    failed: u64,
    total_usage: i64,
    credits: String,
    duration_p50: Option<i64>,
    duration_p95: Option<i64>,
    ttfb_p50: Option<i64>,
    ttfb_p95: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bucket {
    timestamp: String,
    #[serde(flatten)]
    stats: Stats,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModelStats {
    model: String,
    #[serde(flatten)]
    stats: Stats,
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// How buckets are cut: their size, and the user's clock (`east` minutes ahead of UTC, from
/// the real Hub's `timezoneOffset`, which is minutes behind: JavaScript's `getTimezoneOffset`).
#[derive(Clone, Copy)]
pub(crate) struct Clock {
    pub time_type: TimeType,
    pub east: i32,
}

impl Clock {
    pub fn bucket(self, t: NaiveDateTime) -> NaiveDateTime {
        self.time_type.bucket_at(t, self.east)
    }

    /// A bucket's start as the user reads it: `2026-11-25T00:00:00+08:00`, or `…Z` in UTC.
    pub fn label(self, t: NaiveDateTime) -> String {
        match chrono::FixedOffset::east_opt(self.east * 60).filter(|_| self.east != 0) {
            Some(zone) => t
                .and_utc()
                .with_timezone(&zone)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            None => rfc3339(t),
        }
    }

    /// Whether hourly rollups can be cut into this clock's buckets (whole-hour offsets).
    pub fn rollups_serve(self) -> bool {
        self.east % 60 == 0
    }

    /// The rollup size to read: the bucket's own in UTC, else hours to regroup.
    pub fn read_type(self) -> TimeType {
        if self.east == 0 {
            self.time_type
        } else {
            TimeType::Hour
        }
    }
}

/// `timezoneOffset`: minutes behind UTC (`-480` for UTC+8), at most 14 hours either way.
pub(crate) fn east_minutes(params: &Params) -> ApiResult<i32> {
    let Some(raw) = params.get("timezoneOffset").filter(|s| !s.is_empty()) else {
        return Ok(0);
    };
    match raw.parse::<i32>() {
        Ok(behind) if (-840..=840).contains(&behind) => Ok(-behind),
        _ => Err(ApiError::invalid(
            "timezoneOffset",
            format!("'{raw}' is not minutes behind UTC between -840 and 840"),
        )),
    }
}

pub async fn usage_stats(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let time_type = time_type(params.get("timeType"))?;
    let group = match params.get("groupBy") {
        None | Some("") | Some("model") => None,
        Some("app") => Some(Group::App),
        Some("user") if me.role.is_admin() => Some(Group::User),
        Some("user") => {
            return Err(ApiError::invalid(
                "groupBy",
                "only admins can see usage by user",
            ));
        }
        Some(other) => {
            return Err(ApiError::invalid(
                "groupBy",
                format!("'{other}' is not one of model, app, user"),
            ));
        }
    };
    let clock = Clock {
        time_type,
        east: east_minutes(&params)?,
    };
    let mut f = filter(&me, &params)?;
    let end = f.end.unwrap_or_else(|| Utc::now().naive_utc());
    let start = f.start.unwrap_or(end - Duration::days(7));
    if end <= start {
        return Err(ApiError::invalid("end", "must be after start"));
    }
    f.start = Some(start);
    f.end = Some(end);
    let unsplit = f.model.is_none()
        && f.kind.is_none()
        && f.provider_id.is_none()
        && f.status.is_none()
        && f.search.is_none()
        && f.min_duration_ms.is_none();
    if unsplit && clock.rollups_serve() {
        let scope = Scope {
            user_did: f.user_did.clone(),
            app_did: f.app_did.clone(),
        };
        let read = clock.read_type();
        let from = clock.bucket(start).and_utc().timestamp();
        let to = end.and_utc().timestamp();
        let days = whole_days(read, from, to);
        let (rows, day_rows, owners) = state
            .db
            .run(move |conn| {
                let (rows, day_rows) =
                    rollup_rows::rollups_and_days(conn, &scope, read, (from, to), days)?;
                let owners = match group {
                    Some(_) => rollup_rows::rollups_by_owner(conn, &scope, read, from, to)?,
                    None => Vec::new(),
                };
                Ok::<_, ApiError>((rows, day_rows, owners))
            })
            .await?;
        let body = web::block(move || {
            let days = days.map(|span| (span, day_rows.as_slice()));
            let mut body = from_rollups(&rows, days, clock, start, end);
            if let Some(group) = group {
                body["byGroup"] = serde_json::json!(by_owner(&owners, group));
                body["groupBy"] = serde_json::json!(group.as_str());
            }
            body
        })
        .await
        .map_err(ApiError::internal)?;
        return Ok(HttpResponse::Ok().json(body));
    }
    if group.is_some() {
        return Err(ApiError::invalid(
            "groupBy",
            "a breakdown by app or user is not available with model, type, providerId, status, \
             search or minDurationSeconds filters, or a timezoneOffset of a part of an hour",
        ));
    }
    let points = state
        .db
        .run(move |conn| Ok::<_, ApiError>(model_calls::points(conn, &f, MAX_CALLS)?))
        .await?;
    if points.len() as i64 > MAX_CALLS {
        return Err(ApiError::invalid(
            "start",
            format!("the range holds more than {MAX_CALLS} calls; ask for a narrower one"),
        ));
    }
    let body = web::block(move || summarize(&points, clock, start, end))
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(body))
}

/// The whole UTC days inside hourly rows' `[from, to)` (unix seconds), when there are any:
/// their day rollups give the totals and the per-model breakdown, so each hour is read for
/// its totals alone (a 30-day hourly chart read six times the entries otherwise).
fn whole_days(read: TimeType, from: i64, to: i64) -> Option<(i64, i64)> {
    const DAY: i64 = 86_400;
    let first = from.div_euclid(DAY) * DAY + if from.rem_euclid(DAY) == 0 { 0 } else { DAY };
    let last = to.div_euclid(DAY) * DAY;
    (read == TimeType::Hour && last > first).then_some((first, last))
}

type Rows = [(i64, Option<String>)];

/// The answer from rollup rows (several rows per bucket when they are per app or per user).
/// With `days` (hourly rows, and the day rows of the whole days among them), the hours inside
/// those days count in the series only, and the days in the totals and the breakdown.
fn from_rollups(
    rows: &Rows,
    days: Option<((i64, i64), &Rows)>,
    clock: Clock,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> serde_json::Value {
    let mut total = Rollup::default();
    let mut buckets: BTreeMap<NaiveDateTime, Totals> = BTreeMap::new();
    let covered = |ts: i64| days.is_some_and(|((a, b), _)| (a..b).contains(&ts));
    for (ts, stats) in rows {
        let Some(at) = DateTime::from_timestamp(*ts, 0).map(|d| d.naive_utc()) else {
            continue;
        };
        // Rows read at the clock's own size are their bucket; hours are regrouped.
        let bucket = buckets.entry(clock.bucket(at)).or_default();
        if covered(*ts) {
            bucket.merge(&Rollup::totals_from_json(stats.as_deref()));
        } else {
            let row = Rollup::from_json(stats.as_deref());
            bucket.merge(&row.totals);
            total.merge(&row);
        }
    }
    for (_, stats) in days.map_or(&[][..], |(_, rows)| rows) {
        total.merge(&Rollup::from_json(stats.as_deref()));
    }
    let series: Vec<Bucket> = buckets
        .iter()
        .map(|(at, t)| Bucket {
            timestamp: clock.label(*at),
            stats: totals_view(t),
        })
        .collect();
    let by_model: Vec<ModelStats> = total
        .by_model
        .iter()
        .map(|(m, t)| ModelStats {
            model: m.clone(),
            stats: totals_view(t),
        })
        .collect();
    answer(
        (clock, start, end),
        "stats",
        totals_view(&total.totals),
        series,
        by_model,
    )
}

/// A breakdown of usage-stats by the calling app or the user.
#[derive(Clone, Copy)]
enum Group {
    App,
    User,
}

impl Group {
    fn as_str(self) -> &'static str {
        match self {
            Group::App => "app",
            Group::User => "user",
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupStats {
    /// The app or user DID (`""`: calls without an app).
    key: String,
    #[serde(flatten)]
    stats: Stats,
}

/// Most rows a breakdown answers (by calls, most first).
const GROUP_ROWS: usize = 50;

fn by_owner(rows: &[(String, String, Option<String>)], group: Group) -> Vec<GroupStats> {
    let mut acc: BTreeMap<&str, Totals> = BTreeMap::new();
    for (user, app, stats) in rows {
        let key = match group {
            Group::App => app.as_str(),
            Group::User => user.as_str(),
        };
        acc.entry(key)
            .or_default()
            .merge(&Rollup::from_json(stats.as_deref()).totals);
    }
    let mut out: Vec<GroupStats> = acc
        .iter()
        .map(|(k, t)| GroupStats {
            key: (*k).to_owned(),
            stats: totals_view(t),
        })
        .collect();
    out.sort_by(|a, b| b.stats.calls.cmp(&a.stats.calls).then(a.key.cmp(&b.key)));
    out.truncate(GROUP_ROWS);
    out
}

/// The answer's shape, whichever the source: models by calls, most first.
fn answer(
    (clock, start, end): (Clock, NaiveDateTime, NaiveDateTime),
    source: &str,
    totals: Stats,
    series: Vec<Bucket>,
    mut by_model: Vec<ModelStats>,
) -> serde_json::Value {
    by_model.sort_by(|a, b| {
        b.stats
            .calls
            .cmp(&a.stats.calls)
            .then(a.model.cmp(&b.model))
    });
    // The real Hub's answer: the five models called most, and how many models were called.
    let top: Vec<serde_json::Value> = by_model
        .iter()
        .take(5)
        .map(|m| {
            let provider = m.model.split_once('/').map_or("", |(p, _)| p);
            serde_json::json!({
                "model": m.model,
                "provider": {"name": provider},
                "totalCalls": m.stats.calls,
            })
        })
        .collect();
    serde_json::json!({
        "timeType": clock.time_type.as_str(),
        "timezoneOffset": -clock.east,
        "start": rfc3339(start),
        "end": rfc3339(end),
        "source": source,
        "totals": totals,
        "series": series,
        "byModel": by_model,
        "modelStats": {"list": top, "totalModelCount": by_model.len()},
    })
}

fn summarize(
    points: &[CallPoint],
    clock: Clock,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> serde_json::Value {
    let mut total = Acc::default();
    let mut buckets: BTreeMap<NaiveDateTime, Acc> = BTreeMap::new();
    let mut models: BTreeMap<&str, Acc> = BTreeMap::new();
    for p in points {
        total.add(p);
        buckets.entry(clock.bucket(p.call_time)).or_default().add(p);
        models.entry(p.model.as_str()).or_default().add(p);
    }
    let series: Vec<Bucket> = buckets
        .into_iter()
        .map(|(t, acc)| Bucket {
            timestamp: clock.label(t),
            stats: acc.view(),
        })
        .collect();
    let by_model: Vec<ModelStats> = models
        .into_iter()
        .map(|(m, acc)| ModelStats {
            model: m.to_owned(),
            stats: acc.view(),
        })
        .collect();
    answer((clock, start, end), "calls", total.view(), series, by_model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").expect("time")
    }

    fn point(time: &str, status: &str, model: &str, credits: &str, ms: i64) -> CallPoint {
        CallPoint {
            call_time: t(time),
            status: status.into(),
            model: model.into(),
            total_usage: 10,
            credits: credits.parse().expect("amount"),
            duration_ms: Some(ms),
            ttfb_ms: None,
        }
    }

    #[test]
    fn percentiles() {
        let mut v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&mut v, 50), Some(50));
        assert_eq!(percentile(&mut v, 95), Some(95));
        assert_eq!(percentile(&mut [7], 95), Some(7));
        assert_eq!(percentile(&mut [], 50), None);
    }

    #[test]
    fn summary_adds_exact_credits_per_bucket_and_model() {
        let points = [
            point("2026-11-23 10:00:00", "success", "openai/a", "0.1", 100),
            point("2026-11-23 23:59:59", "failed", "openai/b", "0", 300),
            point("2026-11-24 00:00:00", "success", "openai/a", "0.2", 200),
        ];
        let v = summarize(
            &points,
            Clock {
                time_type: TimeType::Day,
                east: 0,
            },
            t("2026-11-23 00:00:00"),
            t("2026-11-25 00:00:00"),
        );
        assert_eq!(v["totals"]["calls"], 3);
        assert_eq!(v["totals"]["credits"], "0.3");
        assert_eq!(v["totals"]["failed"], 1);
        assert_eq!(v["series"][0]["timestamp"], "2026-11-23T00:00:00Z");
        assert_eq!(v["series"][0]["calls"], 2);
        assert_eq!(v["series"][1]["credits"], "0.2");
        assert_eq!(v["byModel"][0]["model"], "openai/a");
        assert_eq!(v["byModel"][0]["durationP50"], 100);
    }
}
