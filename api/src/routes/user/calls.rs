//! `GET /api/user/model-calls` (the call log, paginated) and `/export` (CSV), filtered by
//! `status`, `model` (substring), `type`, `providerId`, `appDid`, `start`, `end` (RFC 3339 or unix
//! seconds; `end` exclusive). Members see their own calls; `allUsers=true` is for admins.
//! Counts stop at `COUNT_CAP` (`countCapped: true` then): an exact count of a large log would
//! read every match on every page view.

use crate::auth::Authenticated;
use crate::db::model_calls::{self, CallFilter, CallRecord};
use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use crate::routes::ListBody;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
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

pub(super) fn filter(me: &crate::auth::Identity, params: &Params) -> ApiResult<CallFilter> {
    let f = CallFilter {
        user_did: me.scope(params.flag("allUsers")?)?,
        status: one_of(
            params,
            "status",
            &crate::usage::CallStatus::ALL.map(|s| s.as_str()),
        )?,
        model: params.get("model").map(str::to_owned),
        kind: one_of(params, "type", &crate::usage::CallType::names())?,
        provider_id: params.get("providerId").map(str::to_owned),
        app_did: params.get("appDid").map(str::to_owned),
        start: crate::routes::time::param(params, "start")?,
        end: crate::routes::time::param(params, "end")?,
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

fn view(r: CallRecord, admin: bool) -> Value {
    let mut v = json!({
        "id": r.id,
        "providerId": r.provider_id,
        "model": r.model,
        "type": r.kind,
        "status": r.status,
        "totalUsage": r.total_usage,
        "usageMetrics": json_column(&r.usage_metrics),
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
        "metadata": json_column(&r.metadata),
        "callTime": r.call_time.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
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
    let (count, rows) = state
        .db
        .run(move |conn| Ok::<_, ApiError>(model_calls::list(conn, &f, page)?))
        .await?;
    let admin = me.role.is_admin();
    let capped = count > model_calls::COUNT_CAP;
    let mut body = serde_json::to_value(ListBody::new(
        count.min(model_calls::COUNT_CAP),
        rows.into_iter().map(|r| view(r, admin)).collect(),
        page,
    ))
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

fn csv_bytes(rows: Vec<CallRecord>) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_HEADER)?;
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

pub async fn export(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let f = filter(&me, &params)?;
    let rows = state
        .db
        .run(move |conn| Ok::<_, ApiError>(model_calls::export(conn, &f, EXPORT_LIMIT)?))
        .await?;
    let body = web::block(move || csv_bytes(rows))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            "attachment; filename=\"model-calls.csv\"",
        ))
        .body(body))
}
