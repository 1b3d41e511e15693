//! Handler extractors: `Authenticated` (any valid key) and `Admin` (owner or admin).
//!
//! The token is found by [`super::token::locate`] (header > cookie > body > query) and told apart
//! by kind: a login token (three dot-separated parts), a Blocklet access key (`blocklet-…`), or
//! a Hub access key.

use super::role::Role;
use super::{access_key, blocklet_key, login_token, token};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Utc;
use futures_util::future::LocalBoxFuture;
use secrecy::ExposeSecret;

/// The caller.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_did: String,
    pub role: Role,
    /// The access key used, when the caller authenticated with one.
    pub key_id: Option<String>,
    /// The name a login token carries (Blocklet mode), newer than any stored profile.
    pub full_name: Option<String>,
    /// The app (project) the caller's calls count for unless a call names one: the access
    /// key's own, or the Hub's app for Blocklet logins and Blocklet access keys.
    pub app_did: Option<String>,
}

impl Identity {
    /// The user a list is limited to: this caller, or nobody (everyone's rows) when `all_users`
    /// is asked, which needs the owner or admin role.
    pub fn scope(&self, all_users: bool) -> Result<Option<String>, ApiError> {
        if !all_users {
            return Ok(Some(self.user_did.clone()));
        }
        if !self.role.is_admin() {
            return Err(ApiError::Forbidden(
                "allUsers=true needs the owner or admin role".into(),
            ));
        }
        Ok(None)
    }
}

/// Any authenticated caller.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Identity);

/// A caller with the owner or admin role.
#[derive(Debug, Clone)]
pub struct Admin(pub Identity);

/// A Hub access key (`aigne-…`), looked up by its hash.
async fn hub_key(state: &AppState, token: &str) -> Result<Identity, ApiError> {
    let row = state
        .keys
        .lookup(access_key::hash(token))
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
        full_name: None,
        app_did: row.app_did,
    })
}

/// A DID-session login token (HS256 with the Blocklet session secret).
fn login(state: &AppState, token: &str) -> Result<Identity, ApiError> {
    let secret = state
        .settings
        .identity
        .session_secret
        .as_ref()
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "login tokens are accepted only in Blocklet mode (no session secret is set)".into(),
            )
        })?;
    let user = login_token::verify(token, secret.expose_secret())
        .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    Ok(Identity {
        user_did: user.did,
        role: blocklet_key::passport_role(&user.role),
        key_id: None,
        full_name: user.full_name.filter(|n| !n.trim().is_empty()),
        app_did: Some(state.app_did.clone()),
    })
}

/// Who `token` belongs to, by its kind (as `@blocklet/sdk` tells them apart).
async fn authenticate(state: &AppState, token: &str) -> Result<Identity, ApiError> {
    if token.split('.').count() == 3 {
        login(state, token)
    } else if token.starts_with(blocklet_key::PREFIX) && !token.contains('.') {
        // A Blocklet access key is the Blocklet app's: its calls count for the Hub's app.
        let mut identity = state.blocklet_keys.verify(token).await?;
        identity.app_did = Some(state.app_did.clone());
        Ok(identity)
    } else {
        hub_key(state, token).await
    }
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))
}

/// The identity behind the request's token, whatever its role (v1 takes component keys too).
pub(super) fn identify(req: &HttpRequest) -> LocalBoxFuture<'static, Result<Identity, ApiError>> {
    let prepared = state_of(req).and_then(|s| token::locate(req).map(|t| (s, t)));
    Box::pin(async move {
        let (state, token) = prepared?;
        let token = token.ok_or_else(|| {
            ApiError::Unauthorized(
                "missing access token: send Authorization: Bearer <key>, the login_token \
                 cookie, or access_token"
                    .into(),
            )
        })?;
        authenticate(&state, &token).await
    })
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let identity = identify(req);
        Box::pin(async move {
            let identity = identity.await?;
            if identity.role == Role::Component {
                return Err(ApiError::Forbidden(
                    "component callers may use only the v1 routes (/api/v1/*)".into(),
                ));
            }
            Ok(Authenticated(identity))
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
