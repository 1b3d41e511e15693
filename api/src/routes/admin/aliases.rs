//! Model aliases (`/api/model-aliases`): a name clients send, exact or a glob, mapped to the
//! `provider/model` that serves it. Every change rebuilds the routing snapshot.

use crate::auth::Admin;
use crate::db::aliases::{self as repo, AliasChanges, AliasRow};
use crate::error::{ApiError, ApiResult, unique_or};
use crate::http::{ApiJson, Params};
use crate::routes::ListBody;
use crate::routes::time::iso;
use crate::routing::aliases::{InvalidAlias, check_pattern, check_target, is_glob};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AliasView {
    id: String,
    pattern: String,
    /// `exact` or `glob`.
    kind: &'static str,
    target: String,
    created_at: String,
    updated_at: String,
}

fn view(row: AliasRow) -> AliasView {
    AliasView {
        kind: if is_glob(&row.pattern) {
            "glob"
        } else {
            "exact"
        },
        id: row.id,
        pattern: row.pattern,
        target: row.target,
        created_at: iso(row.created_at),
        updated_at: iso(row.updated_at),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAlias {
    pattern: String,
    target: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAlias {
    pattern: Option<String>,
    target: Option<String>,
}

impl From<InvalidAlias> for ApiError {
    fn from(e: InvalidAlias) -> Self {
        ApiError::invalid(e.field, e.message)
    }
}

fn duplicate(pattern: &str) -> ApiError {
    ApiError::Conflict(format!("an alias for '{pattern}' already exists"))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("model alias '{id}' does not exist"))
}

/// `GET /api/model-aliases?page&pageSize`.
pub async fn list(_: Admin, state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    let (count, rows) = state
        .db
        .run(move |conn| Ok::<_, ApiError>(repo::list(conn, page)?))
        .await?;
    Ok(HttpResponse::Ok().json(ListBody::new(
        count,
        rows.into_iter().map(view).collect(),
        page,
    )))
}

/// `POST /api/model-aliases` `{pattern, target}` → 201.
pub async fn create(
    _: Admin,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<CreateAlias>,
) -> ApiResult<HttpResponse> {
    let now = Utc::now().naive_utc();
    let row = AliasRow {
        id: uuid::Uuid::now_v7().to_string(),
        pattern: check_pattern(&body.pattern)?,
        target: check_target(&body.target)?,
        created_at: now,
        updated_at: now,
    };
    let stored = row.clone();
    state
        .db
        .run(move |conn| {
            repo::insert(conn, &stored).map_err(unique_or(|| duplicate(&stored.pattern)))
        })
        .await?;
    super::routing_changed(&state).await;
    Ok(HttpResponse::Created().json(view(row)))
}

/// `PUT /api/model-aliases/{id}` `{pattern?, target?}`.
pub async fn update(
    _: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
    ApiJson(body): ApiJson<UpdateAlias>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let changes = AliasChanges {
        pattern: body.pattern.as_deref().map(check_pattern).transpose()?,
        target: body.target.as_deref().map(check_target).transpose()?,
        updated_at: Some(Utc::now().naive_utc()),
    };
    let row = state
        .db
        .run(move |conn| {
            let current = repo::get(conn, &id)?.ok_or_else(|| not_found(&id))?;
            let pattern = changes.pattern.clone().unwrap_or(current.pattern);
            repo::update(conn, &id, &changes).map_err(unique_or(|| duplicate(&pattern)))?;
            repo::get(conn, &id)?.ok_or_else(|| not_found(&id))
        })
        .await?;
    super::routing_changed(&state).await;
    Ok(HttpResponse::Ok().json(view(row)))
}

/// `DELETE /api/model-aliases/{id}` → 204.
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
