//! `GET /api/user/model-calls` (the call log, paginated) and `/export` (CSV), filtered by
//! `status` (`all`: any), `model` (substring), `type`, `providerId`, `appDid`, `start`, `end`
//! (RFC 3339 or unix seconds; `end` exclusive) or the real Hub's `startTime`/`endTime` (unix
//! seconds, `endTime` inclusive), `search` in `searchFields`, `minDurationSeconds`. Members see
//! their own calls; `allUsers=true` is for admins. Rows carry the real Hub's `duration`, `ttfb`,
//! `appInfo` and `userInfo` beside the Hub's own fields.
//! Counts stop at `COUNT_CAP` (`countCapped: true` then): an exact count of a large log would
//! read every match on every page view.

use crate::auth::Authenticated;
use crate::db::model_calls::{self, CallFilter, CallRecord, SearchField};
use crate::db::projects::{self, ProjectRow};
use crate::db::users::{self, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use crate::routes::ListBody;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;
use serde_json::{Value, json};

/// The most rows one export holds.
const EXPORT_LIMIT: i64 = 100_000;

fn one_of(params: &Params, name: &str, allowed: &[&str]) -> ApiResult<Option<String>> {
    match params.get(name) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_owned())),
        Some(v) => Err(ApiError::invalid(
            name,
            format!("'{v}' is not one of {}", allowed.join(", ")),
        )),
    }
}

/// A time range bound: `start`/`end` (RFC 3339 or unix seconds), or the real Hub's
/// `startTime`/`endTime` (unix seconds; its `endTime` is inclusive).
fn bounds(params: &Params) -> ApiResult<(Option<NaiveDateTime>, Option<NaiveDateTime>)> {
    let start = match crate::routes::time::param(params, "start")? {
        Some(t) => Some(t),
        None => crate::routes::time::param(params, "startTime")?,
    };
    let end = match crate::routes::time::param(params, "end")? {
        Some(t) => Some(t),
        None => crate::routes::time::param(params, "endTime")?.map(|t| t + Duration::seconds(1)),
    };
    Ok((start, end))
}

/// `search` (at most 100 characters) in `searchFields` (comma-separated; all four by default).
fn search(params: &Params) -> ApiResult<Option<(String, Vec<SearchField>)>> {
    let Some(needle) = params
        .get("search")
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    if needle.chars().count() > 100 {
        return Err(ApiError::invalid(
            "search",
            "must be at most 100 characters",
        ));
    }
    let mut fields = Vec::new();
    for name in params
        .get("searchFields")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        let field = SearchField::parse(name).ok_or_else(|| {
            ApiError::invalid(
                "searchFields",
                format!(
                    "'{name}' is not one of {}",
                    SearchField::ALL.map(SearchField::name).join(", ")
                ),
            )
        })?;
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    if fields.is_empty() {
        fields = SearchField::ALL.to_vec();
    }
    Ok(Some((needle.to_owned(), fields)))
}

fn min_duration_ms(params: &Params) -> ApiResult<Option<i64>> {
    let Some(raw) = params.get("minDurationSeconds").filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    match raw.parse::<f64>() {
        Ok(secs) if secs.is_finite() && (0.0..=86_400.0 * 365.0).contains(&secs) => {
            Ok(Some((secs * 1000.0).round() as i64))
        }
        _ => Err(ApiError::invalid(
            "minDurationSeconds",
            format!("'{raw}' is not a number of seconds (0 or more)"),
        )),
    }
}

pub(crate) fn filter(me: &crate::auth::Identity, params: &Params) -> ApiResult<CallFilter> {
    let (start, end) = bounds(params)?;
    let status = match params.get("status") {
        // The real Hub's way of saying "any".
        Some("all") | Some("") => None,
        _ => one_of(
            params,
            "status",
            &crate::usage::CallStatus::ALL.map(|s| s.as_str()),
        )?,
    };
    let f = CallFilter {
        user_did: me.scope(params.flag("allUsers")?)?,
        status,
        model: params.get("model").map(str::to_owned),
        kind: one_of(params, "type", &crate::usage::CallType::names())?,
        provider_id: params.get("providerId").map(str::to_owned),
        app_did: params.get("appDid").map(str::to_owned),
        start,
        end,
        search: search(params)?,
        min_duration_ms: min_duration_ms(params)?,
    };
    if let (Some(s), Some(e)) = (f.start, f.end)
        && e <= s
    {
        return Err(ApiError::invalid("end", "must be after start"));
    }
    Ok(f)
}

fn json_column(text: &Option<String>) -> Value {
    text.as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

/// The stored usage with the counts left out for being zero put back.
fn usage_view(text: &Option<String>) -> Value {
    let mut v = json_column(text);
    if let Some(m) = v.as_object_mut().filter(|m| m.contains_key("promptTokens")) {
        for k in ["cacheReadTokens", "cacheWriteTokens"] {
            m.entry(k).or_insert(json!(0));
        }
    }
    v
}

/// The stored metadata with what was left out for being usual put back (the model asked for
/// is the row's, first attempt, not streamed).
fn metadata_view(text: &Option<String>, model: &str) -> Value {
    let mut v = json_column(text);
    if let Some(m) = v.as_object_mut().filter(|m| m.contains_key("endpoint")) {
        m.entry("originalModel").or_insert(json!(model));
        m.entry("attempt").or_insert(json!(1));
        m.entry("stream").or_insert(json!(false));
    }
    v
}

/// Milliseconds as seconds with one decimal (the real Hub's `duration`).
fn seconds(ms: i64) -> f64 {
    (ms as f64 / 100.0).round() / 10.0
}

/// The real Hub's `appInfo` and `userInfo` of each row, from the projects and users the Hub
/// knows (an unknown app keeps its DID as its name).
fn annotate(list: &mut [Value], projects: &[ProjectRow], users: &[UserRow]) {
    for v in list {
        if let Some(app) = v["appDid"]
            .as_str()
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
        {
            let known = projects.iter().find(|p| p.app_did == app);
            v["appInfo"] = json!({
                "appDid": app,
                "appName": known.and_then(|p| p.name.clone()).unwrap_or_else(|| app.clone()),
                "appLogo": known.and_then(|p| p.logo.clone()).unwrap_or_default(),
                "appUrl": known.and_then(|p| p.url.clone()).unwrap_or_default(),
            });
        }
        if let Some(user) = v["userDid"].as_str().map(str::to_owned) {
            let known = users.iter().find(|u| u.did == user);
            v["userInfo"] = json!({
                "did": user,
                "fullName": known.and_then(|u| u.name.clone()).unwrap_or_default(),
                "email": known.and_then(|u| u.email.clone()).unwrap_or_default(),
                "avatar": known.and_then(|u| u.avatar.clone()),
            });
        }
    }
}

fn view(r: CallRecord, admin: bool) -> Value {
    let mut v = json!({
        "id": r.id,
        "providerId": r.provider_id,
        "model": r.model,
        "type": r.kind,
        "status": r.status,
        "totalUsage": r.total_usage,
        "usageMetrics": usage_view(&r.usage_metrics),
        "credits": r.credits,
        "durationMs": r.duration_ms,
        "ttfbMs": r.ttfb_ms,
        "providerTtfbMs": r.provider_ttfb_ms,
        "errorReason": r.error_reason,
        "appDid": r.app_did,
        "userDid": r.user_did,
        "requestId": r.request_id,
        "traceId": r.trace_id,
        "dialect": r.dialect,
        "metadata": metadata_view(&r.metadata, &r.model),
        "callTime": r.call_time.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        // The real Hub's names: seconds.
        "duration": r.duration_ms.map(seconds),
        "ttfb": r.ttfb_ms.map(seconds),
    });
    if admin {
        v["credentialId"] = json!(r.credential_id);
    }
    v
}

pub async fn list(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    let f = filter(&me, &params)?;
    let (count, rows, known_apps, known_users) = state
        .db
        .run(move |conn| {
            let (count, rows) = model_calls::list(conn, &f, page)?;
            let mut app_dids: Vec<String> = rows.iter().filter_map(|r| r.app_did.clone()).collect();
            let mut user_dids: Vec<String> =
                rows.iter().filter_map(|r| r.user_did.clone()).collect();
            app_dids.sort();
            app_dids.dedup();
            user_dids.sort();
            user_dids.dedup();
            let known_apps = projects::get_many(conn, &app_dids)?;
            let known_users = users::get_many(conn, &user_dids)?;
            Ok::<_, ApiError>((count, rows, known_apps, known_users))
        })
        .await?;
    let admin = me.role.is_admin();
    let capped = count > model_calls::COUNT_CAP;
    let mut list: Vec<Value> = rows.into_iter().map(|r| view(r, admin)).collect();
    annotate(&mut list, &known_apps, &known_users);
    let mut body =
        serde_json::to_value(ListBody::new(count.min(model_calls::COUNT_CAP), list, page))
            .map_err(ApiError::internal)?;
    // More matches than were counted: `count` is a lower bound.
    body["countCapped"] = json!(capped);
    Ok(HttpResponse::Ok().json(body))
}

const CSV_HEADER: [&str; 16] = [
    "id",
    "callTime",
    "status",
    "type",
    "model",
    "providerId",
    "promptTokens",
    "completionTokens",
    "totalUsage",
    "credits",
    "durationMs",
    "ttfbMs",
    "appDid",
    "userDid",
    "requestId",
    "errorReason",
];

/// One page of the export as CSV lines (the header first when `header`).
fn csv_bytes(rows: Vec<CallRecord>, header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    if header {
        out.write_record(CSV_HEADER)?;
    }
    for r in rows {
        let usage = json_column(&r.usage_metrics);
        let tokens = |k: &str| usage[k].as_u64().map(|n| n.to_string()).unwrap_or_default();
        let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        out.write_record([
            r.id,
            r.call_time
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            r.status,
            r.kind,
            r.model,
            r.provider_id.unwrap_or_default(),
            tokens("promptTokens"),
            tokens("completionTokens"),
            r.total_usage.to_string(),
            r.credits.to_string(),
            opt(r.duration_ms),
            opt(r.ttfb_ms),
            r.app_did.unwrap_or_default(),
            r.user_did.unwrap_or_default(),
            r.request_id.unwrap_or_default(),
            r.error_reason.unwrap_or_default(),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// Rows of an export's first page: small, so the download starts at once.
const EXPORT_FIRST_PAGE: i64 = 200;

/// Rows per later page: they follow while the client reads.
const EXPORT_PAGE: i64 = 1_000;

/// The pages after the first of every export in flight take turns on at most two database
/// connections, so long downloads never starve the requests people wait on.
static EXPORT_PAGES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Reads one export page and turns it into CSV on the blocking pool: the bytes and the key of
/// its last row (`None`: the export is over).
async fn export_step(
    state: &AppState,
    filter: CallFilter,
    after: Option<(chrono::NaiveDateTime, String)>,
    limit: i64,
) -> ApiResult<(Vec<u8>, Option<(chrono::NaiveDateTime, String)>)> {
    let header = after.is_none();
    state
        .db
        .run(move |conn| {
            let rows = model_calls::export_page(conn, &filter, after.as_ref(), limit)?;
            let last = (rows.len() as i64 == limit)
                .then(|| rows.last().map(|r| (r.call_time, r.id.clone())))
                .flatten();
            let bytes = csv_bytes(rows, header).map_err(ApiError::internal)?;
            Ok::<_, ApiError>((bytes, last))
        })
        .await
}

/// `GET /api/user/model-calls/export`: the call log as CSV (at most 100,000 rows, newest first),
/// streamed page by page; an error before the first byte is answered as such, a later one ends
/// the download early (and is logged).
pub async fn export(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let f = filter(&me, &params)?;
    let (first, mut after) = export_step(&state, f.clone(), None, EXPORT_FIRST_PAGE).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, ApiError>>(2);
    actix_web::rt::spawn(async move {
        let mut sent = EXPORT_FIRST_PAGE;
        while let Some(key) = after.take() {
            if sent >= EXPORT_LIMIT {
                break;
            }
            let limit = EXPORT_PAGE.min(EXPORT_LIMIT - sent);
            let Ok(_turn) = EXPORT_PAGES.acquire().await else {
                return;
            };
            if tx.is_closed() {
                return;
            }
            match export_step(&state, f.clone(), Some(key), limit).await {
                Ok((bytes, next)) => {
                    sent += limit;
                    after = next;
                    if tx.send(Ok(web::Bytes::from(bytes))).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!("call log export stopped early: {e}");
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
    });
    let rest = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let body =
        futures_util::stream::once(async move { Ok::<_, ApiError>(web::Bytes::from(first)) })
            .chain(rest);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            "attachment; filename=\"model-calls.csv\"",
        ))
        .streaming(body))
}
