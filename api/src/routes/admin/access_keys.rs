//! `/api/access-keys`: Hub access keys. Admins manage everyone's keys; any other caller manages
//! only their own member keys. A key's plaintext is answered once, at creation.

use crate::auth::keys::{self, KeySpec};
use crate::auth::{Authenticated, Identity, Role};
use crate::db::access_keys::{self as repo, AccessKeyRow};
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiJson, Params};
use crate::routes::ListBody;
use crate::routes::time::{iso, iso_opt};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use hub_blocklet::did;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessKeyView {
    id: String,
    name: String,
    prefix: String,
    role: String,
    user_did: String,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
    revoked: bool,
    app_did: Option<String>,
    /// Only in the creation answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

fn view(row: AccessKeyRow, key: Option<String>) -> AccessKeyView {
    AccessKeyView {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        role: row.role,
        user_did: row.user_did,
        created_at: iso(row.created_at),
        last_used_at: iso_opt(row.last_used_at),
        expires_at: iso_opt(row.expires_at),
        revoked: row.revoked,
        app_did: row.app_did,
        key,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateKey {
    name: String,
    role: Option<String>,
    user_did: Option<String>,
    expires_at: Option<String>,
    /// The app (project) calls through the key count for.
    app_did: Option<String>,
}

pub async fn list(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    let user = me.scope(params.flag("allUsers")?)?;
    let (count, rows) = state
        .db
        .run(move |conn| Ok::<_, ApiError>(repo::list(conn, user.as_deref(), page)?))
        .await?;
    Ok(HttpResponse::Ok().json(ListBody::new(
        count,
        rows.into_iter().map(|r| view(r, None)).collect(),
        page,
    )))
}

fn spec_for(me: &Identity, body: CreateKey) -> ApiResult<KeySpec> {
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name", "must be 1 to 100 characters"));
    }
    let role = match body.role.as_deref() {
        None => Role::Member,
        Some(text) => Role::KEY_ROLES
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                ApiError::invalid(
                    "role",
                    format!(
                        "'{text}' is not one of {}",
                        Role::KEY_ROLES.map(Role::as_str).join(", ")
                    ),
                )
            })?,
    };
    let user_did = body
        .user_did
        .map(|d| {
            did::normalize(&d, did::DidRole::Account).map_err(|e| ApiError::invalid("userDid", e))
        })
        .transpose()?;
    if !me.role.is_admin() {
        if role != Role::Member {
            return Err(ApiError::Forbidden(
                "only an owner or admin can create admin keys".into(),
            ));
        }
        if user_did.as_deref().is_some_and(|d| d != me.user_did) {
            return Err(ApiError::Forbidden(
                "only an owner or admin can create keys for another user".into(),
            ));
        }
    }
    let expires_at = body
        .expires_at
        .map(|s| {
            DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.with_timezone(&Utc).naive_utc())
                .map_err(|_| {
                    ApiError::invalid("expiresAt", format!("'{s}' is not an RFC 3339 time"))
                })
        })
        .transpose()?;
    if expires_at.is_some_and(|t| t <= Utc::now().naive_utc()) {
        return Err(ApiError::invalid("expiresAt", "must be in the future"));
    }
    // Non-admins always get keys of their own.
    let user_did = user_did.or_else(|| (!me.role.is_admin()).then(|| me.user_did.clone()));
    let app_did = body
        .app_did
        .map(|d| {
            let d = d.trim().to_owned();
            let plain = !d.is_empty()
                && d.len() <= 200
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ":._-".contains(c));
            if plain {
                Ok(d)
            } else {
                Err(ApiError::invalid(
                    "appDid",
                    "must be an app DID (letters, digits and : . _ -, at most 200)",
                ))
            }
        })
        .transpose()?;
    Ok(KeySpec {
        name,
        role,
        user_did,
        expires_at,
        app_did,
    })
}

pub async fn create(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<CreateKey>,
) -> ApiResult<HttpResponse> {
    let spec = spec_for(&me, body)?;
    let (row, plaintext) = state
        .db
        .run(move |conn| Ok::<_, ApiError>(keys::create(conn, spec)?))
        .await?;
    Ok(HttpResponse::Created().json(view(row, Some(plaintext))))
}

pub async fn revoke(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .db
        .run(move |conn| {
            let missing = || ApiError::NotFound(format!("access key '{id}' does not exist"));
            let row = repo::get(conn, &id)?.ok_or_else(missing)?;
            // Someone else's key is "not found" for a non-admin: no existence oracle.
            if !me.role.is_admin() && row.user_did != me.user_did {
                return Err(missing());
            }
            repo::revoke(conn, &id)?;
            repo::get(conn, &id)?.ok_or_else(missing)
        })
        .await?;
    state.keys.forget(&row.key_hash).await;
    Ok(HttpResponse::Ok().json(view(row, None)))
}
