//! `/api/ai-providers`: the providers the Hub may route to.

use super::credentials::{CredentialView, credential_view};
use super::double_option;
use crate::auth::Admin;
use crate::db::credentials as credential_repo;
use crate::db::providers::{self as repo, ProviderChanges, ProviderRow};
use crate::error::{ApiError, ApiResult, unique_or};
use crate::http::{ApiJson, Params};
use crate::providers::ProviderKind;
use crate::routes::ListBody;
use crate::routes::time::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderView {
    id: String,
    name: String,
    display_name: String,
    base_url: Option<String>,
    region: Option<String>,
    enabled: bool,
    config: Option<serde_json::Value>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    credentials: Option<Vec<CredentialView>>,
}

fn view(row: ProviderRow, credentials: Option<Vec<CredentialView>>) -> ProviderView {
    ProviderView {
        config: row
            .config
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok()),
        id: row.id,
        name: row.name,
        display_name: row.display_name,
        base_url: row.base_url,
        region: row.region,
        enabled: row.enabled,
        created_at: iso(row.created_at),
        updated_at: iso(row.updated_at),
        credentials,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateProvider {
    name: String,
    display_name: Option<String>,
    base_url: Option<String>,
    region: Option<String>,
    enabled: Option<bool>,
    config: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateProvider {
    name: Option<String>,
    display_name: Option<String>,
    #[serde(default, with = "double_option")]
    base_url: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    region: Option<Option<String>>,
    enabled: Option<bool>,
    #[serde(default, with = "double_option")]
    config: Option<Option<serde_json::Value>>,
}

pub fn parse_kind(name: &str) -> ApiResult<ProviderKind> {
    name.parse().map_err(|_| {
        ApiError::invalid(
            "name",
            format!(
                "unknown provider '{name}'; expected one of {}",
                ProviderKind::names()
            ),
        )
    })
}

fn check_display_name(v: &str) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 100 {
        return Err(ApiError::invalid(
            "displayName",
            "must be 1 to 100 characters",
        ));
    }
    Ok(v.to_owned())
}

fn check_base_url(v: &str) -> ApiResult<String> {
    let v = v.trim().trim_end_matches('/');
    let url = url::Url::parse(v)
        .map_err(|e| ApiError::invalid("baseUrl", format!("'{v}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ApiError::invalid(
            "baseUrl",
            "must be an http:// or https:// URL with a host",
        ));
    }
    Ok(v.to_owned())
}

fn check_region(v: &str) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty()
        || v.len() > 64
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::invalid(
            "region",
            "must be 1 to 64 letters, digits, '-' or '_'",
        ));
    }
    Ok(v.to_owned())
}

fn check_config(v: serde_json::Value) -> ApiResult<String> {
    if !v.is_object() {
        return Err(ApiError::invalid("config", "must be a JSON object"));
    }
    Ok(v.to_string())
}

fn duplicate(name: &str) -> ApiError {
    ApiError::Conflict(format!("a provider named '{name}' already exists"))
}

pub async fn list(_: Admin, state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    let (count, rows, creds) = state
        .db
        .run(move |conn| {
            let (count, rows) = repo::list(conn, page)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let creds = credential_repo::for_providers(conn, &ids)?;
            Ok::<_, ApiError>((count, rows, creds))
        })
        .await?;
    let cipher = state.cipher.clone();
    let list = rows
        .into_iter()
        .map(|row| {
            let mine = creds
                .iter()
                .filter(|c| c.provider_id == row.id)
                .map(|c| credential_view(&cipher, c.clone()))
                .collect();
            view(row, Some(mine))
        })
        .collect();
    Ok(HttpResponse::Ok().json(ListBody::new(count, list, page)))
}

pub async fn get(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (row, creds) = state
        .db
        .run(move |conn| {
            let row = repo::get(conn, &id)?.ok_or_else(|| not_found(&id))?;
            let creds = credential_repo::for_providers(conn, std::slice::from_ref(&row.id))?;
            Ok::<_, ApiError>((row, creds))
        })
        .await?;
    let creds = creds
        .into_iter()
        .map(|c| credential_view(&state.cipher, c))
        .collect();
    Ok(HttpResponse::Ok().json(view(row, Some(creds))))
}

pub fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("provider '{id}' does not exist"))
}

pub async fn create(
    _: Admin,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<CreateProvider>,
) -> ApiResult<HttpResponse> {
    let kind = parse_kind(&body.name)?;
    let now = Utc::now().naive_utc();
    let row = ProviderRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: kind.name().to_owned(),
        display_name: match body.display_name.as_deref() {
            Some(d) => check_display_name(d)?,
            None => kind.display_name().to_owned(),
        },
        base_url: body.base_url.as_deref().map(check_base_url).transpose()?,
        region: body.region.as_deref().map(check_region).transpose()?,
        enabled: body.enabled.unwrap_or(true),
        config: body.config.map(check_config).transpose()?,
        created_at: now,
        updated_at: now,
    };
    let stored = row.clone();
    state
        .db
        .run(move |conn| repo::insert(conn, &stored).map_err(unique_or(|| duplicate(&stored.name))))
        .await?;
    super::routing_changed(&state).await;
    Ok(HttpResponse::Created().json(view(row, Some(Vec::new()))))
}

pub async fn update(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
    ApiJson(body): ApiJson<UpdateProvider>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let new_kind = body.name.as_deref().map(parse_kind).transpose()?;
    let changes = ProviderChanges {
        display_name: body
            .display_name
            .as_deref()
            .map(check_display_name)
            .transpose()?,
        base_url: body
            .base_url
            .map(|v| v.as_deref().map(check_base_url).transpose())
            .transpose()?,
        region: body
            .region
            .map(|v| v.as_deref().map(check_region).transpose())
            .transpose()?,
        enabled: body.enabled,
        config: body
            .config
            .map(|v| v.map(check_config).transpose())
            .transpose()?,
        updated_at: Some(Utc::now().naive_utc()),
    };
    let row = state
        .db
        .run(move |conn| {
            let current = repo::get(conn, &id)?.ok_or_else(|| not_found(&id))?;
            if let Some(kind) = new_kind
                && kind.name() != current.name
            {
                return Err(ApiError::invalid(
                    "name",
                    "a provider's name cannot change; create a provider of the other kind instead",
                ));
            }
            repo::update(conn, &id, &changes)?;
            repo::get(conn, &id)?.ok_or_else(|| not_found(&id))
        })
        .await?;
    super::routing_changed(&state).await;
    Ok(HttpResponse::Ok().json(view(row, None)))
}

pub async fn delete(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    state
        .db
        .run(move |conn| match repo::delete(conn, &id)? {
            0 => Err(not_found(&id)),
            _ => Ok(()),
        })
        .await?;
    super::routing_changed(&state).await;
    Ok(HttpResponse::NoContent().finish())
}

/// RFC 3339 of a wall-clock time (UTC, milliseconds).
fn at(t: std::time::SystemTime) -> String {
    chrono::DateTime::<Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `GET /api/ai-providers/health`: every provider and credential as routing sees them now:
/// `state` is `active`, `cooling_down` (a 429 weighted it down, or its provider is cooling
/// down; `coolingDownUntil` says until when) or `disabled` (with the provider's reason). The
/// last success and failure are this instance's; the rest is shared through the database,
/// with each provider's `models`: their statuses (`ai_model_statuses`).
pub async fn health(_: Admin, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let (rows, creds, statuses) = state
        .db
        .run(move |conn| {
            let mut rows = Vec::new();
            for page in 1.. {
                let page = crate::db::Page {
                    page,
                    page_size: crate::db::Page::MAX_SIZE,
                };
                let (count, mut more) = repo::list(conn, page)?;
                let done = more.is_empty() || rows.len() + more.len() >= count as usize;
                rows.append(&mut more);
                if done {
                    break;
                }
            }
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let creds = credential_repo::for_providers(conn, &ids)?;
            let statuses = crate::db::model_statuses::all(conn)?;
            Ok::<_, ApiError>((rows, creds, statuses))
        })
        .await?;
    let balancer = &state.router.balancer;
    let providers: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|row| {
            let cooldown = row
                .name
                .parse::<ProviderKind>()
                .ok()
                .and_then(|k| balancer.cooldown_until(k));
            let credentials: Vec<serde_json::Value> = creds
                .iter()
                .filter(|c| c.provider_id == row.id)
                .map(|c| {
                    let here = balancer.credential_health(&c.id);
                    let until = here.penalty_until.or(cooldown);
                    let state = if !c.active || here.disabled {
                        "disabled"
                    } else if until.is_some() {
                        "cooling_down"
                    } else {
                        "active"
                    };
                    serde_json::json!({
                        "id": c.id,
                        "name": c.name,
                        "state": state,
                        "active": c.active,
                        "coolingDownUntil": until.map(at),
                        "error": c.error,
                        "usageCount": c.usage_count,
                        "lastUsedAt": c.last_used_at.map(iso),
                        "lastSuccessAt": here.last_success.map(at),
                        "lastFailureAt": here.last_failure.as_ref().map(|(t, _)| at(*t)),
                        "lastFailure": here.last_failure.map(|(_, m)| m),
                    })
                })
                .collect();
            let usable = credentials
                .iter()
                .filter(|c| c["state"] != "disabled")
                .count();
            serde_json::json!({
                "id": row.id,
                "name": row.name,
                "displayName": row.display_name,
                "enabled": row.enabled,
                "coolingDownUntil": cooldown.map(at),
                "usableCredentials": usable,
                "credentials": credentials,
                "models": statuses
                    .iter()
                    .filter(|s| s.provider_id == row.id)
                    .map(super::model_statuses::view)
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "providers": providers })))
}
