//! Prices that stay right: the price list (`/api/ai-providers/pricing`), the rate check
//! (`/api/ai-providers/rate-check`) and the rate history (`/api/ai-providers/rate-history`).

use crate::auth::Admin;
use crate::db::rate_history::{self, HistoryFilter};
use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use crate::routes::ListBody;
use crate::routes::time::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

fn summary(state: &AppState) -> Value {
    let loaded = state.pricing.current();
    let settings = &state.settings.pricing;
    json!({
        "source": loaded.source,
        "file": settings.file.display().to_string(),
        "url": settings.url.as_ref().map(|u| u.as_str()),
        "loadedAt": loaded.loaded_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "models": loaded.list.len(),
        "fromFile": loaded.list.from_file,
    })
}

/// `GET /api/ai-providers/pricing[?provider=]`: where the prices come from and, with
/// `provider`, that provider's list prices.
pub async fn get(_: Admin, state: web::Data<AppState>, params: Params) -> HttpResponse {
    let mut body = summary(&state);
    if let Some(provider) = params.get("provider") {
        let loaded = state.pricing.current();
        let prices: Vec<Value> = loaded
            .list
            .entries()
            .into_iter()
            .filter(|((p, _, _), _)| p == provider)
            .map(|((_, model, kind), price)| {
                json!({"model": model, "type": kind, "input": price.input.normalize().to_string(),
                       "output": price.output.normalize().to_string(), "source": price.source})
            })
            .collect();
        body["prices"] = json!(prices);
    }
    HttpResponse::Ok().json(body)
}

/// `PUT /api/ai-providers/pricing`: a LiteLLM `model_prices_and_context_window.json` as the body;
/// checked, stored as `pricing.file` and used at once (and after restarts).
pub async fn put(
    _: Admin,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let file = state.settings.pricing.file.clone();
    state
        .pricing
        .replace(body.to_vec(), &file, "file")
        .await
        .map_err(|e| ApiError::invalid("body", e.to_string()))?;
    Ok(HttpResponse::Ok().json(summary(&state)))
}

/// `POST /api/ai-providers/pricing/refresh`: downloads the file from `pricing.url` when one is
/// configured (nothing is fetched otherwise), else reads `pricing.file` again.
pub async fn refresh(_: Admin, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let settings = &state.settings.pricing;
    let (bytes, source) = match &settings.url {
        Some(url) => {
            let res = state
                .http
                .get(url.clone())
                .timeout(std::time::Duration::from_secs(60))
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| {
                    ApiError::Unavailable(format!("cannot download the pricing file: {e}"))
                })?;
            let bytes = res.bytes().await.map_err(|e| {
                ApiError::Unavailable(format!("cannot download the pricing file: {e}"))
            })?;
            (bytes.to_vec(), "url")
        }
        None => match tokio::fs::read(&settings.file).await {
            Ok(b) => (b, "file"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ApiError::NotFound(format!(
                    "no pricing file at {} and no pricing.url: upload one with PUT /api/ai-providers/pricing",
                    settings.file.display()
                )));
            }
            Err(e) => return Err(ApiError::Internal(e.into())),
        },
    };
    state
        .pricing
        .replace(bytes, &settings.file, source)
        .await
        .map_err(|e| ApiError::invalid("pricing", e.to_string()))?;
    Ok(HttpResponse::Ok().json(summary(&state)))
}

/// `GET /api/ai-providers/rate-check`: every rate against the list prices now.
pub async fn rate_check(_: Admin, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let report = crate::pricing::check(&state).await?;
    let settings = &state.settings.pricing;
    let mut body = serde_json::to_value(&report).map_err(|e| ApiError::Internal(e.into()))?;
    body["checkedAt"] =
        json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    body["creditPrice"] = json!(settings.credit_price.normalize().to_string());
    body["driftPercent"] = json!(settings.drift_percent.normalize().to_string());
    body["pricing"] = summary(&state);
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/ai-providers/rate-history?providerId&model&rateId&page&pageSize`: newest first.
pub async fn history(
    _: Admin,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    let filter = HistoryFilter {
        provider_id: params.get("providerId").map(str::to_owned),
        rate_id: params.get("rateId").map(str::to_owned),
        model: params.get("model").map(str::to_owned),
    };
    let (count, rows) = state
        .db
        .run(move |conn| Ok::<_, ApiError>(rate_history::list(conn, &filter, page)?))
        .await?;
    let doc = |t: &Option<String>| {
        t.as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
    };
    let list = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "rateId": r.rate_id, "providerId": r.provider_id, "model": r.model,
                "type": r.type_, "change": r.change, "changedBy": r.changed_by,
                "previous": doc(&r.previous), "current": doc(&r.current),
                "createdAt": iso(r.created_at),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(ListBody::new(count, list, page)))
}
