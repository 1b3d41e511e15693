//! Handler extractors: `Authenticated` (any valid key) and `Admin` (owner or admin).
//!
//! Bearer tokens only for now; DID-session cookies and Blocklet keys arrive with their issue.

use super::access_key;
use super::role::Role;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Utc;
use futures_util::future::LocalBoxFuture;

/// The caller.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_did: String,
    pub role: Role,
    /// The access key used, when the caller authenticated with one.
    pub key_id: Option<String>,
}

/// Any authenticated caller.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Identity);

/// A caller with the owner or admin role.
#[derive(Debug, Clone)]
pub struct Admin(pub Identity);

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let header = req.headers().get(AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("missing access key: send Authorization: Bearer <key>".into())
    })?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::Unauthorized("Authorization header must be 'Bearer <key>'".into())
    })?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::Unauthorized(
            "Authorization header must be 'Bearer <key>'".into(),
        ));
    }
    Ok(token.to_owned())
}

async fn authenticate(state: web::Data<AppState>, token: String) -> Result<Identity, ApiError> {
    let row = state
        .keys
        .lookup(access_key::hash(&token))
        .await?
        .ok_or_else(|| ApiError::Unauthorized("invalid access key".into()))?;
    if row.revoked {
        return Err(ApiError::Unauthorized("access key has been revoked".into()));
    }
    if row.expires_at.is_some_and(|t| t <= Utc::now().naive_utc()) {
        return Err(ApiError::Unauthorized("access key has expired".into()));
    }
    let role = row.role.parse::<Role>().map_err(|_| {
        ApiError::internal(anyhow::anyhow!("access key {} has unknown role", row.id))
    })?;
    Ok(Identity {
        user_did: row.user_did,
        role,
        key_id: Some(row.id),
    })
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let prepared = state_of(req).and_then(|s| bearer(req).map(|t| (s, t)));
        Box::pin(async move {
            let (state, token) = prepared?;
            authenticate(state, token).await.map(Authenticated)
        })
    }
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let auth = Authenticated::from_request(req, payload);
        Box::pin(async move {
            let Authenticated(identity) = auth.await?;
            if !identity.role.is_admin() {
                return Err(ApiError::Forbidden(format!(
                    "this route needs the owner or admin role; the caller is {}",
                    identity.role
                )));
            }
            Ok(Admin(identity))
        })
    }
}
