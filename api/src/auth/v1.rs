//! Who calls a v1 route (SPEC §5.4): the auth chain, in order — (1) a remote app's signature
//! (`x-app-id`, `x-timestamp`, `x-component-sig`, `x-app-user-did`; §7.2) with its key from
//! `apps`, (2) a component signature made with this app's key (§7.3), (3) an owner/admin
//! session. No signature headers and no session → 400; a bad signature → 401; a session
//! without the admin role → 403.

use super::Identity;
use super::component_sig::{self, AppKey, Presented, SignedRequest};
use super::did::{self, DidRole};
use super::role::Role;
use super::token::JsonBody;
use crate::db::apps;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use moka::sync::Cache;
use serde_json::{Map, Value};
use std::time::Duration;

pub const HEADER_APP_ID: &str = "x-app-id";
pub const HEADER_TIMESTAMP: &str = "x-timestamp";
pub const HEADER_APP_USER: &str = "x-app-user-did";
pub const HEADER_PATH_PREFIX: &str = "x-path-prefix";
/// How far a remote app's `x-timestamp` may be from now.
pub const REMOTE_SKEW_SECS: i64 = 600;
/// Registered app keys are cached this long (a registration is permanent).
const APP_CACHE_TTL: Duration = Duration::from_secs(300);

/// How a v1 caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    RemoteApp { app_id: String },
    Component { did: String },
    Session,
}

/// A caller of the v1 routes.
#[derive(Debug, Clone)]
pub struct V1Caller {
    pub identity: Identity,
    pub via: Via,
}

/// Public keys of registered apps, by app DID.
#[derive(Clone)]
pub struct AppKeys {
    cache: Cache<String, [u8; 32]>,
}

impl Default for AppKeys {
    fn default() -> Self {
        AppKeys {
            cache: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(APP_CACHE_TTL)
                .build(),
        }
    }
}

impl AppKeys {
    async fn get(&self, state: &AppState, app_id: &str) -> Result<Option<[u8; 32]>, ApiError> {
        if let Some(pk) = self.cache.get(app_id) {
            return Ok(Some(pk));
        }
        let id = app_id.to_owned();
        let row = state
            .db
            .run(move |conn| apps::get(conn, &id).map_err(crate::db::DbError::from))
            .await?;
        let Some(row) = row else { return Ok(None) };
        let pk = parse_public_key(&row.public_key).map_err(|e| {
            ApiError::internal(anyhow::anyhow!("app {app_id} has a bad stored key: {e}"))
        })?;
        self.cache.insert(app_id.to_owned(), pk);
        Ok(Some(pk))
    }
}

/// An Ed25519 public key as `0x`-hex (or bare hex).
pub fn parse_public_key(text: &str) -> Result<[u8; 32], String> {
    let digits = text.trim();
    let digits = digits.strip_prefix("0x").unwrap_or(digits);
    let bytes = hex::decode(digits).map_err(|_| "publicKey must be hex".to_owned())?;
    let pk: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "publicKey must be 32 bytes (an Ed25519 public key)".to_owned())?;
    ed25519_dalek::VerifyingKey::from_bytes(&pk)
        .map_err(|_| "publicKey is not an Ed25519 public key".to_owned())?;
    Ok(pk)
}

/// The object a remote app signs: `{appId, timestamp, data, userDid?}`.
pub fn remote_object(app_id: &str, timestamp: Value, data: Value, user_did: Option<&str>) -> Value {
    let mut object = Map::new();
    object.insert("appId".into(), Value::String(app_id.to_owned()));
    object.insert("timestamp".into(), timestamp);
    object.insert("data".into(), data);
    if let Some(user) = user_did {
        object.insert("userDid".into(), Value::String(user.to_owned()));
    }
    Value::Object(object)
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The parsed JSON body, or `{}` when there is none (what the signers put in).
fn body_value(req: &HttpRequest) -> Result<Value, ApiError> {
    match req.extensions().get::<JsonBody>() {
        Some(JsonBody(bytes)) if !bytes.iter().all(u8::is_ascii_whitespace) => {
            serde_json::from_slice(bytes).map_err(|e| {
                ApiError::bad_request("invalid_json", format!("malformed JSON body: {e}"))
            })
        }
        _ => Ok(Value::Object(Map::new())),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn remote_app(
    state: &AppState,
    req: &HttpRequest,
    app_id: &str,
    body: Value,
) -> Result<V1Caller, ApiError> {
    let (Some(timestamp), Some(sig)) = (
        header(req, HEADER_TIMESTAMP),
        header(req, component_sig::HEADER_SIG),
    ) else {
        return Err(ApiError::bad_request(
            "missing_signature",
            "a remote-app call needs x-app-id, x-timestamp and x-component-sig",
        ));
    };
    let seconds: i64 = timestamp
        .parse()
        .map_err(|_| ApiError::Unauthorized("x-timestamp must be unix seconds".into()))?;
    if (now() - seconds).abs() > REMOTE_SKEW_SECS {
        return Err(ApiError::Unauthorized(format!(
            "x-timestamp is more than {REMOTE_SKEW_SECS} s away from the Hub's clock"
        )));
    }
    let pk = state.app_keys.get(state, app_id).await?.ok_or_else(|| {
        ApiError::Unauthorized(format!(
            "app {app_id} is not registered (POST /api/app/register)"
        ))
    })?;
    if did::address(&pk, DidRole::Application) != app_id {
        return Err(ApiError::Unauthorized(
            "x-app-id is not the DID of the registered key".into(),
        ));
    }
    let key = AppKey::from_public(&pk)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("app key of {app_id}: {e}")))?;
    let user = header(req, HEADER_APP_USER);
    // Signers put the timestamp in as a number; accept its string form too.
    let forms = [Value::from(seconds), Value::String(timestamp.to_owned())];
    let signed = forms
        .into_iter()
        .any(|ts| key.verify(&remote_object(app_id, ts, body.clone(), user), sig));
    if !signed {
        return Err(ApiError::Unauthorized(
            "remote-app signature does not match the request".into(),
        ));
    }
    Ok(V1Caller {
        identity: Identity {
            user_did: user.unwrap_or(app_id).to_owned(),
            role: Role::Component,
            key_id: None,
            full_name: None,
            app_did: None,
        },
        via: Via::RemoteApp {
            app_id: app_id.to_owned(),
        },
    })
}

fn component(
    state: &AppState,
    req: &HttpRequest,
    sig: &str,
    body: Value,
) -> Result<V1Caller, ApiError> {
    let (Some(iat), Some(exp)) = (
        header(req, component_sig::HEADER_IAT),
        header(req, component_sig::HEADER_EXP),
    ) else {
        return Err(ApiError::bad_request(
            "missing_signature",
            "a component call needs x-component-sig, x-component-sig-iat and x-component-sig-exp",
        ));
    };
    let key = state.settings.identity.app_key.as_ref().ok_or_else(|| {
        ApiError::Unauthorized(
            "component calls need the Blocklet app key (BLOCKLET_APP_SK or BLOCKLET_APP_PK)".into(),
        )
    })?;
    let path = req.path();
    let prefixed = header(req, HEADER_PATH_PREFIX)
        .filter(|p| !path.starts_with(p))
        .map(|p| {
            format!(
                "{}/{}",
                p.trim_end_matches('/'),
                path.trim_start_matches('/')
            )
        });
    let method = req.method().as_str().to_ascii_lowercase();
    let signed = SignedRequest {
        method: &method,
        path,
        query: req.query_string(),
        body: Some(&body),
    };
    component_sig::verify_request(
        key,
        &Presented { sig, iat, exp },
        &signed,
        prefixed.as_deref(),
        now(),
    )
    .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let did = header(req, component_sig::HEADER_DID).unwrap_or("unknown-component");
    Ok(V1Caller {
        identity: Identity {
            user_did: header(req, "x-user-did").unwrap_or(did).to_owned(),
            role: Role::Component,
            key_id: None,
            full_name: None,
            app_did: None,
        },
        via: Via::Component {
            did: did.to_owned(),
        },
    })
}

impl V1Caller {
    /// The calling app, recorded on its calls' rows: a remote app's id, or the DID of the
    /// component of this app that signed the call.
    pub fn app_did(&self) -> Option<&str> {
        match &self.via {
            Via::RemoteApp { app_id } => Some(app_id),
            Via::Component { did } => Some(did),
            Via::Session => None,
        }
    }
}

impl FromRequest for V1Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        let session = (header(&req, HEADER_APP_ID).is_none()
            && header(&req, component_sig::HEADER_SIG).is_none())
        .then(|| super::extract::identify(&req));
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing")))?;
            if let Some(app_id) = header(&req, HEADER_APP_ID) {
                let body = body_value(&req)?;
                return remote_app(&state, &req, app_id, body).await;
            }
            if let Some(sig) = header(&req, component_sig::HEADER_SIG) {
                let body = body_value(&req)?;
                return component(&state, &req, sig, body);
            }
            let Some(session) = session else {
                return Err(ApiError::internal(anyhow::anyhow!("no auth path")));
            };
            match session.await {
                Ok(identity) if identity.role.is_admin() => Ok(V1Caller {
                    identity,
                    via: Via::Session,
                }),
                Ok(identity) => Err(ApiError::Forbidden(format!(
                    "v1 routes take component calls, signed app calls or an owner/admin \
                     session; the caller is {}",
                    identity.role
                ))),
                Err(ApiError::Unauthorized(m)) if m.starts_with("missing access token") => {
                    Err(ApiError::bad_request(
                        "missing_signature",
                        "v1 routes need a component signature (x-component-sig …), a remote-app \
                         signature (x-app-id, x-timestamp, x-component-sig) or an admin session",
                    ))
                }
                Err(e) => Err(e),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PK: &str = "0x03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";

    /// interop-vectors/v1-remote-call.js
    #[test]
    fn remote_app_vector() {
        let pk = parse_public_key(PK).expect("pk");
        let app_id = did::address(&pk, DidRole::Application);
        assert_eq!(app_id, "zNKa5mpgjBK9h5KQ5BxCSSPmy8F5NJwuSmxQ");
        let data = json!({"input": {"messages": [{"role": "user", "content": "Hi"}]}, "model": "gpt-4o-mini"});
        let object = remote_object(
            &app_id,
            json!(1_700_000_000),
            data.clone(),
            Some("z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP"),
        );
        assert_eq!(
            hub_blocklet::canonical::to_string(&object),
            r#"{"appId":"zNKa5mpgjBK9h5KQ5BxCSSPmy8F5NJwuSmxQ","data":{"input":{"messages":[{"content":"Hi","role":"user"}]},"model":"gpt-4o-mini"},"timestamp":1700000000,"userDid":"z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP"}"#
        );
        let sig = "0x999ab44bd1aed84c015dc7876e0ae1a01b6ed41700557dbb4b5ec805e12ffe3814a71ce6d2634f50d6360c902b1eb9edaee978f6232cac313c3ab4cac3cdc701";
        let key = AppKey::from_public(&pk).expect("key");
        assert!(key.verify(&object, sig));
        let tampered = remote_object(
            &app_id,
            json!(1_700_000_000),
            json!({"input": data["input"], "model": "x"}),
            Some("z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP"),
        );
        assert!(!key.verify(&tampered, sig));
    }

    #[test]
    fn public_keys_are_checked() {
        assert!(parse_public_key(PK).is_ok());
        assert!(parse_public_key("0x1234").is_err());
        assert!(parse_public_key("zz").is_err());
    }
}
