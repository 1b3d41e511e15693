//! `POST /api/app/register {publicKey}` → `{id, paymentLink}` (the key's application DID and
//! where it subscribes), `GET /api/app/status` (signed by the app) → `{id, subscription,
//! subscriptionDetailUrl}` (SPEC §5.4, §7.2), and `GET /api/app/usage?startTime&endTime`: the
//! credits and tokens of the calling app's calls per day and model.

use crate::auth::V1Caller;
use crate::auth::v1::{Via, parse_public_key};
use crate::db::apps::{self, AppRow};
use crate::db::model_calls::{self, CallFilter};
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::http::Params;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use hub_blocklet::did::{self, DidRole};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Register {
    public_key: String,
    /// How the app is shown in usage per project (optional; a later registration updates them).
    app_name: Option<String>,
    app_logo: Option<String>,
    app_url: Option<String>,
}

/// An optional http(s) URL field, trimmed.
fn url_field(name: &str, value: Option<String>) -> ApiResult<Option<String>> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() <= 1000
        && !v.chars().any(char::is_whitespace)
        && url::Url::parse(&v).is_ok();
    if ok {
        Ok(Some(v))
    } else {
        Err(ApiError::invalid(
            name,
            "must be an http(s) URL of at most 1000 characters",
        ))
    }
}

/// Where the app `id` subscribes: the purchase link with the app named (`metadata.appId`, as
/// Payment Kit's payment links take it), absolute.
fn subscribe_link(req: &HttpRequest, state: &AppState, id: &str) -> String {
    let link = crate::http::mount::absolute(req, &state.settings.billing.payment_link);
    let glue = if link.contains('?') { '&' } else { '?' };
    format!("{link}{glue}metadata.appId={id}")
}

/// Registers an app's public key. Open to anyone (the key only lets its holder sign as that app;
/// what the app may spend is decided per call), and idempotent.
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<Register>,
) -> ApiResult<HttpResponse> {
    let pk = parse_public_key(&body.public_key).map_err(|m| ApiError::invalid("publicKey", m))?;
    let name = body
        .app_name
        .map(|n| {
            n.trim()
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
        })
        .filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err(ApiError::invalid(
            "appName",
            "must be at most 100 characters",
        ));
    }
    let logo = url_field("appLogo", body.app_logo)?;
    let url = url_field("appUrl", body.app_url)?;
    let id = did::address(&pk, DidRole::Application);
    let now = chrono::Utc::now().naive_utc();
    let row = AppRow {
        id: id.clone(),
        public_key: format!("0x{}", hex::encode(pk)),
        created_at: now,
        updated_at: now,
    };
    let app = id.clone();
    let nudge = url.is_some();
    state
        .db
        .run(move |conn| {
            apps::register(conn, &row)?;
            if name.is_some() || logo.is_some() || url.is_some() {
                crate::db::projects::upsert(
                    conn,
                    &app,
                    name.as_deref(),
                    logo.as_deref(),
                    url.as_deref(),
                    now,
                )?;
            }
            Ok::<_, crate::db::DbError>(())
        })
        .await?;
    if nudge {
        state.project_names.notify_one();
    }
    let payment_link = subscribe_link(&req, &state, &id);
    Ok(HttpResponse::Ok().json(json!({ "id": id, "paymentLink": payment_link })))
}

/// Payment Kit's page of a subscription, signed in as its customer (as the real Hub links it).
fn subscription_detail_url(req: &HttpRequest, state: &AppState, sub: &Value) -> Option<String> {
    let id = sub["id"].as_str()?;
    let mount = hub_blocklet::mount_points::find(
        &state.settings.identity.mount_points,
        hub_blocklet::mount_points::PAYMENT_KIT_DID,
    )
    .and_then(|p| p.mount_point.clone())
    .unwrap_or_else(|| "/".into());
    let info = req.connection_info();
    let mut url = format!(
        "{}://{}{}/customer/subscription/{id}",
        info.scheme(),
        info.host(),
        mount.trim_end_matches('/')
    );
    if let Some(did) = sub["customer"]["did"].as_str() {
        let connect = json!({"forceConnected": did, "switchBehavior": "required"}).to_string();
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(connect);
        url.push_str(&format!("?__did-connect__={token}"));
    }
    Some(url)
}

/// The calling app's registration and its Payment Kit subscription — `active`, `trialing` or
/// `past_due` — with the page to manage it (`null`s when it has none, or when billing does not
/// go through Payment Kit).
pub async fn status(
    req: HttpRequest,
    caller: V1Caller,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let Via::RemoteApp { app_id } = &caller.via else {
        return Err(ApiError::bad_request(
            "missing_signature",
            "GET /api/app/status needs a remote-app signature (x-app-id, x-timestamp, x-component-sig)",
        ));
    };
    let subscription = match &state.payment_kit {
        Some(pk) => pk.subscription_for_status(app_id).await.map_err(|e| {
            ApiError::Unavailable(format!("the app's subscription cannot be checked now: {e}"))
        })?,
        None => None,
    };
    let detail = subscription
        .as_ref()
        .and_then(|s| subscription_detail_url(&req, &state, s));
    Ok(HttpResponse::Ok().json(json!({
        "id": app_id,
        "subscription": subscription,
        "subscriptionDetailUrl": detail,
    })))
}

/// Calls an app usage report reads at most (a larger range is a 400 asking for a narrower one).
const MAX_USAGE_CALLS: i64 = 500_000;

#[derive(Default)]
struct Day {
    credits: Decimal,
    prompt_tokens: u64,
    completion_tokens: u64,
    images: u64,
}

/// `GET /api/app/usage?startTime&endTime` (unix seconds or RFC 3339): the calling app's calls
/// (a signed remote app; a component or an admin asks for the Hub's own app) per UTC day and
/// model, `{list: [{date, model, usedCredits, promptTokens, completionTokens,
/// numberOfImageGeneration}]}`, oldest first.
pub async fn usage(
    caller: V1Caller,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let app = match &caller.via {
        Via::RemoteApp { app_id } => app_id.clone(),
        Via::Component { .. } | Via::Session => state.app_did.clone(),
    };
    let start = crate::routes::time::param(&params, "startTime")?
        .ok_or_else(|| ApiError::invalid("startTime", "required"))?;
    let end = crate::routes::time::param(&params, "endTime")?
        .ok_or_else(|| ApiError::invalid("endTime", "required"))?;
    if end <= start {
        return Err(ApiError::invalid("endTime", "must be after startTime"));
    }
    let filter = CallFilter {
        app_did: Some(app),
        start: Some(start),
        end: Some(end),
        ..CallFilter::default()
    };
    let points = state
        .db
        .run(move |conn| {
            Ok::<_, ApiError>(model_calls::usage_points(conn, &filter, MAX_USAGE_CALLS)?)
        })
        .await?;
    if points.len() as i64 > MAX_USAGE_CALLS {
        return Err(ApiError::invalid(
            "startTime",
            format!("the range holds more than {MAX_USAGE_CALLS} calls: ask for a shorter one"),
        ));
    }
    let mut days: BTreeMap<(String, String), Day> = BTreeMap::new();
    for p in points {
        let day = days
            .entry((p.call_time.date().to_string(), p.model))
            .or_default();
        day.credits += p.credits.decimal();
        let metrics: Value = p
            .usage_metrics
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or(Value::Null);
        day.prompt_tokens += metrics["promptTokens"].as_u64().unwrap_or(0);
        day.completion_tokens += metrics["completionTokens"].as_u64().unwrap_or(0);
        day.images += metrics["images"].as_u64().unwrap_or(0);
    }
    let list: Vec<Value> = days
        .into_iter()
        .map(|((date, model), d)| {
            json!({
                "date": date,
                "model": model,
                "usedCredits": crate::billing::credits::text(d.credits),
                "promptTokens": d.prompt_tokens,
                "completionTokens": d.completion_tokens,
                "numberOfImageGeneration": d.images,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "list": list })))
}
