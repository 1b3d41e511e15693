//! Usage per project (the calling app, `app_did`), as the real Hub's console reads it:
//! `GET /api/usage/quota`, `/api/usage/projects`, `/projects/trends`, `/projects/group-trends`,
//! `/projects/calls`, and `/api/usage/trends` (admins: everyone's). All from the
//! `model_call_stats` rollups (per user and app), except the calls themselves.
//!
//! Ranges: `startTime`/`endTime` (unix seconds or RFC 3339; the end is capped at now), else the
//! last `timeRange` days (30). Trends are hourly for a range of a day or less, daily otherwise,
//! in the user's days with `timezoneOffset` (minutes behind UTC); in a zone a part of an hour
//! off UTC, each hour counts in the bucket its start falls in. Members see their own calls;
//! `allUsers=true` is for admins. Amounts are exact decimal strings; durations are seconds.

use super::user::credits;
use super::user::stats::{Clock, east_minutes};
use crate::auth::Authenticated;
use crate::db::model_calls;
use crate::db::projects::{self, ProjectRow};
use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use crate::state::AppState;
use crate::usage::rollup::{Rollup, TimeType, Totals};
use crate::usage::rollup_store;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A time range of a usage query.
#[derive(Clone, Copy)]
struct Range {
    start: NaiveDateTime,
    end: NaiveDateTime,
}

impl Range {
    fn parse(params: &Params) -> ApiResult<Range> {
        let now = Utc::now().naive_utc();
        let end = crate::routes::time::param(params, "endTime")?
            .unwrap_or(now)
            .min(now);
        let start = match crate::routes::time::param(params, "startTime")? {
            Some(t) => t,
            None => {
                let days = match params.get("timeRange").filter(|s| !s.is_empty()) {
                    None => 30,
                    Some(raw) => raw
                        .parse::<i64>()
                        .ok()
                        .filter(|d| (1..=366).contains(d))
                        .ok_or_else(|| ApiError::invalid("timeRange", "must be 1 to 366 days"))?,
                };
                end - Duration::days(days)
            }
        };
        if start >= end {
            return Err(ApiError::invalid("startTime", "must be before endTime"));
        }
        Ok(Range { start, end })
    }

    /// Whole days in the range (at least one).
    fn days(self) -> i64 {
        ((self.end - self.start).num_seconds() + 86_399)
            .div_euclid(86_400)
            .max(1)
    }

    /// Hourly for a day or less, else daily.
    fn clock(self, east: i32) -> Clock {
        let time_type = if self.end - self.start <= Duration::days(1) {
            TimeType::Hour
        } else {
            TimeType::Day
        };
        Clock { time_type, east }
    }
}

/// Whole UTC days: totals over a range need no finer rows.
const UTC_DAYS: Clock = Clock {
    time_type: TimeType::Day,
    east: 0,
};

/// Rollup rows of `user` (or everyone) at `read` size: (bucket start, app, totals).
async fn rows_by_app(
    state: &AppState,
    user: Option<String>,
    read: TimeType,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> ApiResult<Vec<(NaiveDateTime, String, Totals)>> {
    let (from, to) = (from.and_utc().timestamp(), to.and_utc().timestamp());
    let rows = state
        .db
        .run(move |conn| {
            Ok::<_, ApiError>(rollup_store::rollups_by_app(
                conn,
                user.as_deref(),
                read,
                from,
                to,
            )?)
        })
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(ts, app, stats)| {
            let at = DateTime::from_timestamp(ts, 0)?.naive_utc();
            Some((at, app, Rollup::from_json(stats.as_deref()).totals))
        })
        .collect())
}

/// The rows of a range, read at the size its clock can regroup.
async fn range_rows(
    state: &AppState,
    user: Option<String>,
    range: Range,
    clock: Clock,
) -> ApiResult<Vec<(NaiveDateTime, String, Totals)>> {
    let read = clock.read_type();
    let from = clock.bucket(range.start);
    rows_by_app(state, user, read, from, range.end).await
}

/// The buckets from the range's first to its last, every one (empty ones too).
fn bucket_starts(range: Range, clock: Clock) -> Vec<NaiveDateTime> {
    let mut out = Vec::new();
    let mut at = clock.bucket(range.start);
    let last = clock.bucket(range.end - Duration::seconds(1));
    while at <= last && out.len() < 10_000 {
        out.push(at);
        // The next bucket starts after this one ends (a day is 24 h in a fixed offset).
        at = clock.bucket(
            at + match clock.time_type {
                TimeType::Hour => Duration::hours(1),
                TimeType::Day => Duration::days(1),
                TimeType::Month => Duration::days(32),
            },
        );
    }
    out
}

/// Every bucket of the range with the totals of the rows of the apps `keep` takes.
fn series(
    range: Range,
    clock: Clock,
    rows: &[(NaiveDateTime, String, Totals)],
    keep: impl Fn(&str) -> bool,
) -> BTreeMap<NaiveDateTime, Totals> {
    let mut buckets: BTreeMap<NaiveDateTime, Totals> = bucket_starts(range, clock)
        .into_iter()
        .map(|at| (at, Totals::default()))
        .collect();
    for (at, app, t) in rows {
        if keep(app) {
            buckets.entry(clock.bucket(*at)).or_default().merge(t);
        }
    }
    buckets
}

fn stats_json(t: &Totals) -> Value {
    json!({
        "totalCalls": t.calls,
        "successCalls": t.success,
        "totalCredits": t.credits_text(),
        "totalUsage": t.usage,
        "avgDuration": t.avg_duration_secs(),
    })
}

fn trend_json(at: NaiveDateTime, t: &Totals) -> Value {
    json!({
        "timestamp": at.and_utc().timestamp(),
        "calls": t.calls,
        "successCalls": t.success,
        "successRate": success_rate(t),
        "avgDuration": t.avg_duration_secs(),
        "avgTtfb": t.avg_ttfb_secs(),
        "totalCredits": t.credits_text(),
        "totalUsage": t.usage,
    })
}

fn success_rate(t: &Totals) -> f64 {
    if t.calls == 0 {
        return 0.0;
    }
    (t.success as f64 * 1000.0 / t.calls as f64).round() / 10.0
}

/// What the console shows of an app: its name and logo as known, else its DID.
fn project_json(app: &str, known: Option<&ProjectRow>) -> Value {
    json!({
        "appDid": app,
        "appName": known.and_then(|p| p.name.clone()).unwrap_or_else(|| app.to_owned()),
        "appLogo": known.and_then(|p| p.logo.clone()),
        "appUrl": known.and_then(|p| p.url.clone()),
    })
}

async fn known_projects(state: &AppState, apps: Vec<String>) -> ApiResult<Vec<ProjectRow>> {
    state
        .db
        .run(move |conn| Ok::<_, ApiError>(projects::get_many(conn, &apps)?))
        .await
}

/// `GET /api/usage/quota`: the caller's credits, what they spent a day on average over the
/// range, and how many days what is left lasts at that pace (`null` without recent spending).
pub async fn quota(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let range = Range::parse(&params)?;
    let rows = range_rows(&state, Some(me.user_did.clone()), range, UTC_DAYS).await?;
    let spent: Decimal = rows.iter().map(|(_, _, t)| t.credits).sum();
    let daily = spent / Decimal::from(range.days());
    let text = crate::billing::credits::text;
    let mut body = json!({
        "dailyAvgCredits": text(daily),
        "usedInRange": text(spent),
        "days": range.days(),
        "enableCredit": state.settings.billing.enabled,
        "currency": {"name": "Credits", "symbol": "credits", "decimal": crate::billing::credits::SCALE},
    });
    if state.settings.billing.enabled {
        let s = credits::summary(&state, me.user_did.clone(), me.role.as_str()).await?;
        let (total, remaining, pending) = s.real_terms();
        let days_left = (daily > Decimal::ZERO && remaining > Decimal::ZERO)
            .then(|| (remaining / daily).floor().max(Decimal::ONE));
        body["total"] = json!(text(total));
        body["remaining"] = json!(text(remaining));
        body["used"] = json!(text((total - remaining).max(Decimal::ZERO)));
        body["pendingCredit"] = json!(text(pending));
        body["estimatedDaysRemaining"] = json!(days_left.map(|d| d.to_string()));
    }
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/usage/projects?page&pageSize&sortBy=totalCalls|totalCredits&sortOrder`.
pub async fn list(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let user = me.scope(params.flag("allUsers")?)?;
    let range = Range::parse(&params)?;
    let page = params.page()?;
    let by_credits = match params.get("sortBy") {
        None | Some("") | Some("totalCalls") => false,
        Some("totalCredits") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "sortBy",
                format!("'{other}' is not one of totalCalls, totalCredits"),
            ));
        }
    };
    let ascending = match params.get("sortOrder") {
        None | Some("") | Some("desc") => false,
        Some("asc") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "sortOrder",
                format!("'{other}' is not one of asc, desc"),
            ));
        }
    };
    let rows = range_rows(&state, user.clone(), range, UTC_DAYS).await?;
    let mut apps: BTreeMap<String, (Totals, NaiveDateTime)> = BTreeMap::new();
    for (at, app, t) in rows {
        let entry = apps.entry(app).or_insert_with(|| (Totals::default(), at));
        entry.0.merge(&t);
        entry.1 = entry.1.max(at);
    }
    let mut list: Vec<(String, Totals, NaiveDateTime)> =
        apps.into_iter().map(|(a, (t, at))| (a, t, at)).collect();
    list.sort_by(|a, b| {
        let order = if by_credits {
            a.1.credits.cmp(&b.1.credits)
        } else {
            a.1.calls.cmp(&b.1.calls)
        };
        let order = if ascending { order } else { order.reverse() };
        order.then(a.0.cmp(&b.0))
    });
    let total = list.len();
    let shown: Vec<(String, Totals, NaiveDateTime)> = list
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.page_size as usize)
        .collect();
    let app_dids: Vec<String> = shown.iter().map(|(a, _, _)| a.clone()).collect();
    // The last call of each: within the last day each had calls.
    let since = shown
        .iter()
        .map(|(_, _, at)| *at)
        .min()
        .unwrap_or(range.end);
    let (known, last) = {
        let apps = app_dids.clone();
        state
            .db
            .run(move |conn| {
                let known = projects::get_many(conn, &apps)?;
                let last = model_calls::last_calls(conn, user.as_deref(), &apps, since)?;
                Ok::<_, ApiError>((known, last))
            })
            .await?
    };
    let projects: Vec<Value> = shown
        .iter()
        .map(|(app, t, _)| {
            let mut p = project_json(app, known.iter().find(|k| &k.app_did == app));
            let last_call = last
                .iter()
                .find(|(a, _)| a.as_deref() == Some(app.as_str()))
                .and_then(|(_, at)| *at);
            p["totalCalls"] = json!(t.calls);
            p["totalCredits"] = json!(t.credits_text());
            p["totalUsage"] = json!(t.usage);
            p["avgDuration"] = json!(t.avg_duration_secs());
            p["successRate"] = json!(success_rate(t));
            p["lastCallTime"] = json!(last_call.map(|at| at.and_utc().timestamp()));
            p
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "projects": projects,
        "total": total,
        "page": page.page,
        "pageSize": page.page_size,
    })))
}

fn app_param(params: &Params) -> ApiResult<String> {
    params
        .get("appDid")
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| ApiError::invalid("appDid", "required"))
}

/// `GET /api/usage/projects/trends?appDid=…`: one project's calls per bucket.
pub async fn trends_of(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let user = me.scope(params.flag("allUsers")?)?;
    let app = app_param(&params)?;
    let range = Range::parse(&params)?;
    let clock = range.clock(east_minutes(&params)?);
    let rows = range_rows(&state, user, range, clock).await?;
    let buckets = series(range, clock, &rows, |row_app| row_app == app);
    let known = known_projects(&state, vec![app.clone()]).await?;
    Ok(HttpResponse::Ok().json(json!({
        "project": project_json(&app, known.first()),
        "granularity": clock.time_type.as_str(),
        "trends": buckets.iter().map(|(at, t)| trend_json(*at, t)).collect::<Vec<_>>(),
    })))
}

/// `GET /api/usage/projects/group-trends`: every project's calls per bucket.
pub async fn group_trends(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let user = me.scope(params.flag("allUsers")?)?;
    let range = Range::parse(&params)?;
    let clock = range.clock(east_minutes(&params)?);
    let rows = range_rows(&state, user, range, clock).await?;
    let mut buckets: BTreeMap<NaiveDateTime, BTreeMap<String, Totals>> =
        bucket_starts(range, clock)
            .into_iter()
            .map(|at| (at, BTreeMap::new()))
            .collect();
    let mut apps: Vec<String> = Vec::new();
    for (at, app, t) in &rows {
        buckets
            .entry(clock.bucket(*at))
            .or_default()
            .entry(app.clone())
            .or_default()
            .merge(t);
        if !apps.contains(app) {
            apps.push(app.clone());
        }
    }
    apps.sort();
    let known = known_projects(&state, apps.clone()).await?;
    let trends: Vec<Value> = buckets
        .iter()
        .map(|(at, by)| {
            let by_project: serde_json::Map<String, Value> =
                by.iter().map(|(a, t)| (a.clone(), stats_json(t))).collect();
            json!({"timestamp": at.and_utc().timestamp(), "byProject": by_project})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "projects": apps
            .iter()
            .map(|a| project_json(a, known.iter().find(|k| &k.app_did == a)))
            .collect::<Vec<_>>(),
        "granularity": clock.time_type.as_str(),
        "trends": trends,
    })))
}

/// `GET /api/usage/projects/calls?appDid=…`: the call log of one project (the call log's
/// filters and answer).
pub async fn calls(
    auth: Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    app_param(&params)?;
    super::user::calls::list(auth, state, params).await
}

/// `GET /api/usage/trends` (admins): everyone's calls per bucket.
pub async fn trends(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    if !me.role.is_admin() {
        return Err(ApiError::Forbidden(
            "usage trends of everyone need the owner or admin role".into(),
        ));
    }
    let range = Range::parse(&params)?;
    let clock = range.clock(east_minutes(&params)?);
    let rows = range_rows(&state, None, range, clock).await?;
    let buckets = series(range, clock, &rows, |_| true);
    Ok(HttpResponse::Ok().json(json!({
        "granularity": clock.time_type.as_str(),
        "trends": buckets.iter().map(|(at, t)| trend_json(*at, t)).collect::<Vec<_>>(),
    })))
}
