//! Model rates: what a model costs in credits (`/api/ai-providers/{id}/model-rates` and the
//! global list `/api/ai-providers/model-rates`).

use super::decimal::{WireDecimal, text};
use super::double_option;
use super::providers::not_found as provider_not_found;
use crate::auth::Admin;
use crate::db::providers as provider_repo;
use crate::db::rates::{self as repo, RateChanges, RateFilter, RateRow};
use crate::error::{ApiError, ApiResult, unique_or};
use crate::http::{ApiJson, Params};
use crate::routes::ListBody;
use crate::routes::time::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateView {
    id: String,
    provider_id: String,
    model: String,
    model_display: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    input_rate: String,
    output_rate: String,
    unit_costs: Option<Value>,
    caching: Option<Value>,
    model_metadata: Option<Value>,
    deprecated: bool,
    created_at: String,
    updated_at: String,
}

fn json_col(v: Option<String>) -> Option<Value> {
    v.and_then(|s| serde_json::from_str(&s).ok())
}

fn view(row: RateRow) -> RateView {
    RateView {
        id: row.id,
        provider_id: row.provider_id,
        model: row.model,
        model_display: row.model_display,
        description: row.description,
        kind: row.kind,
        input_rate: row.input_rate,
        output_rate: row.output_rate,
        unit_costs: json_col(row.unit_costs),
        caching: json_col(row.caching),
        model_metadata: json_col(row.model_metadata),
        deprecated: row.deprecated,
        created_at: iso(row.created_at),
        updated_at: iso(row.updated_at),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitCosts {
    input: WireDecimal,
    output: WireDecimal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Caching {
    #[serde(alias = "read_rate")]
    read_rate: Option<WireDecimal>,
    #[serde(alias = "write_rate")]
    write_rate: Option<WireDecimal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateRate {
    model: String,
    model_display: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    input_rate: WireDecimal,
    output_rate: WireDecimal,
    unit_costs: Option<UnitCosts>,
    caching: Option<Caching>,
    model_metadata: Option<Value>,
    deprecated: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateRate {
    model: Option<String>,
    #[serde(default, with = "double_option")]
    model_display: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    description: Option<Option<String>>,
    #[serde(rename = "type")]
    kind: Option<String>,
    input_rate: Option<WireDecimal>,
    output_rate: Option<WireDecimal>,
    #[serde(default, with = "double_option")]
    unit_costs: Option<Option<UnitCosts>>,
    #[serde(default, with = "double_option")]
    caching: Option<Option<Caching>>,
    #[serde(default, with = "double_option")]
    model_metadata: Option<Option<Value>>,
    deprecated: Option<bool>,
}

fn check_model(v: &str) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 200 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::invalid(
            "model",
            "must be 1 to 200 characters without spaces",
        ));
    }
    Ok(v.to_owned())
}

fn check_type(v: &str) -> ApiResult<String> {
    match crate::usage::CallType::parse(v) {
        Some(t) => Ok(t.as_str().to_owned()),
        None => Err(ApiError::invalid(
            "type",
            format!(
                "'{v}' is not one of {}",
                crate::usage::CallType::names().join(", ")
            ),
        )),
    }
}

fn check_text(field: &str, v: Option<String>, max: usize) -> ApiResult<Option<String>> {
    match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max => Err(ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        other => Ok(other),
    }
}

fn unit_costs_json(u: UnitCosts) -> String {
    json!({ "input": text(u.input.0), "output": text(u.output.0) }).to_string()
}

fn caching_json(c: Caching) -> String {
    let mut map = serde_json::Map::new();
    if let Some(r) = c.read_rate {
        map.insert("readRate".into(), Value::String(text(r.0)));
    }
    if let Some(w) = c.write_rate {
        map.insert("writeRate".into(), Value::String(text(w.0)));
    }
    Value::Object(map).to_string()
}

/// `{maxTokens?, features?[], imageGeneration?{…}, …}`: an object with sane known fields.
fn metadata_json(v: Value) -> ApiResult<String> {
    let Value::Object(map) = &v else {
        return Err(ApiError::invalid("modelMetadata", "must be a JSON object"));
    };
    if let Some(max) = map.get("maxTokens")
        && max.as_u64().is_none_or(|n| n == 0)
    {
        return Err(ApiError::invalid(
            "modelMetadata.maxTokens",
            "must be a positive integer",
        ));
    }
    if let Some(features) = map.get("features")
        && !features
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string))
    {
        return Err(ApiError::invalid(
            "modelMetadata.features",
            "must be an array of strings",
        ));
    }
    Ok(v.to_string())
}

fn duplicate(model: &str, kind: &str) -> ApiError {
    ApiError::Conflict(format!(
        "this provider already has a {kind} rate for model '{model}'"
    ))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "model rate '{id}' does not exist for this provider"
    ))
}

pub async fn list(
    _: Admin,
    state: web::Data<AppState>,
    provider_id: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    let provider_id = provider_id.into_inner();
    let filter = RateFilter {
        provider_id: Some(provider_id.clone()),
        model: params.get("model").map(str::to_owned),
        q: params.get("q").map(str::to_owned),
    };
    let (count, rows) = state
        .db
        .run(move |conn| {
            provider_repo::get(conn, &provider_id)?
                .ok_or_else(|| provider_not_found(&provider_id))?;
            Ok::<_, ApiError>(repo::list(conn, &filter, page)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ListBody::new(
        count,
        rows.into_iter().map(view).collect(),
        page,
    )))
}

/// `GET /api/ai-providers/model-rates?page&pageSize&providerId&model&q`.
pub async fn list_all(
    _: Admin,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    let filter = RateFilter {
        provider_id: params.get("providerId").map(str::to_owned),
        model: params.get("model").map(str::to_owned),
        q: params.get("q").map(str::to_owned),
    };
    let (count, rows) = state
        .db
        .run(move |conn| Ok::<_, ApiError>(repo::list(conn, &filter, page)?))
        .await?;
    Ok(HttpResponse::Ok().json(ListBody::new(
        count,
        rows.into_iter().map(view).collect(),
        page,
    )))
}

pub async fn create(
    Admin(me): Admin,
    state: web::Data<AppState>,
    provider_id: web::Path<String>,
    ApiJson(body): ApiJson<CreateRate>,
) -> ApiResult<HttpResponse> {
    let provider_id = provider_id.into_inner();
    let model = check_model(&body.model)?;
    let kind = check_type(&body.kind)?;
    let now = Utc::now().naive_utc();
    let row = RateRow {
        id: uuid::Uuid::now_v7().to_string(),
        provider_id: provider_id.clone(),
        model_display: check_text("modelDisplay", body.model_display, 200)?,
        description: check_text("description", body.description, 2000)?,
        input_rate: text(body.input_rate.0),
        output_rate: text(body.output_rate.0),
        unit_costs: body.unit_costs.map(unit_costs_json),
        caching: body.caching.map(caching_json),
        model_metadata: body.model_metadata.map(metadata_json).transpose()?,
        deprecated: body.deprecated.unwrap_or(false),
        created_at: now,
        updated_at: now,
        model: model.clone(),
        kind: kind.clone(),
    };
    let stored = row.clone();
    state
        .db
        .run(move |conn| {
            provider_repo::get(conn, &provider_id)?
                .ok_or_else(|| provider_not_found(&provider_id))?;
            repo::insert(conn, &stored, &me.user_did)
                .map_err(unique_or(|| duplicate(&model, &kind)))
        })
        .await?;
    // Rates price calls: the snapshot the gateway reads them from is rebuilt.
    super::routing_changed(&state).await;
    Ok(HttpResponse::Created().json(view(row)))
}

pub async fn update(
    Admin(me): Admin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateRate>,
) -> ApiResult<HttpResponse> {
    let (provider_id, id) = path.into_inner();
    let changes = RateChanges {
        model: body.model.as_deref().map(check_model).transpose()?,
        model_display: body
            .model_display
            .map(|v| check_text("modelDisplay", v, 200))
            .transpose()?,
        description: body
            .description
            .map(|v| check_text("description", v, 2000))
            .transpose()?,
        kind: body.kind.as_deref().map(check_type).transpose()?,
        input_rate: body.input_rate.map(|d| text(d.0)),
        output_rate: body.output_rate.map(|d| text(d.0)),
        unit_costs: body.unit_costs.map(|v| v.map(unit_costs_json)),
        caching: body.caching.map(|v| v.map(caching_json)),
        model_metadata: body
            .model_metadata
            .map(|v| v.map(metadata_json).transpose())
            .transpose()?,
        deprecated: body.deprecated,
        updated_at: Some(Utc::now().naive_utc()),
    };
    let row = state
        .db
        .run(move |conn| {
            let current = repo::get(conn, &provider_id, &id)?.ok_or_else(|| not_found(&id))?;
            let model = changes.model.clone().unwrap_or(current.model);
            let kind = changes.kind.clone().unwrap_or(current.kind);
            repo::update(conn, &provider_id, &id, &changes, &me.user_did)
                .map_err(unique_or(|| duplicate(&model, &kind)))?
                .ok_or_else(|| not_found(&id))
        })
        .await?;
    // Rates price calls: the snapshot the gateway reads them from is rebuilt.
    super::routing_changed(&state).await;
    Ok(HttpResponse::Ok().json(view(row)))
}

pub async fn delete(
    Admin(me): Admin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (provider_id, id) = path.into_inner();
    state
        .db
        .run(
            move |conn| match repo::delete(conn, &provider_id, &id, &me.user_did)? {
                0 => Err(not_found(&id)),
                _ => Ok(()),
            },
        )
        .await?;
    // Rates price calls: the snapshot the gateway reads them from is rebuilt.
    super::routing_changed(&state).await;
    Ok(HttpResponse::NoContent().finish())
}
