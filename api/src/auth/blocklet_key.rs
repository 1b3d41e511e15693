//! Blocklet access keys (`blocklet-…`, SPEC §7.1): Blocklet Server owns them, so the Hub asks its
//! GraphQL API (`verifyAccessKey`) and caches the answer (`blocklet_key_cache_secs`, 60 s), so a
//! revoked key stops working within that time. The request is authenticated the way `@blocklet/sdk`'s `BlockletClient` does
//! it (`@blocklet/server-js` "sha256" access key): `x-access-key-id` = the app DID,
//! `x-access-signature` = base64(sha256(secret key as text ‖ ⌊now / 30⌋)), `x-access-alg`,
//! `x-access-blocklet` = the app's PID, `x-component-did`.

use super::Identity;
use super::role::Role;
use crate::config::ServerAccess;
use crate::error::ApiError;
use base64::Engine;
use moka::future::Cache;
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

pub const PREFIX: &str = "blocklet-";
const TIMEOUT: Duration = Duration::from_secs(10);

/// `@blocklet/server-js` `signer.sha256.sign(key, counter)`: the key is the secret key's bytes
/// read as UTF-8 text (invalid sequences become U+FFFD, as Node's `Buffer#toString` does).
pub fn access_signature(secret_text: &str, counter: u64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret_text.as_bytes());
    hasher.update(counter.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
}

/// A GraphQL request to Blocklet Server, signed as the app (see the module's note).
pub(super) async fn signed_gql(
    http: &reqwest::Client,
    server: &ServerAccess,
    query: &str,
) -> reqwest::Result<reqwest::Response> {
    let counter = chrono::Utc::now().timestamp().max(0) as u64 / 30;
    let mut req = http
        .post(&server.gql_url)
        .timeout(TIMEOUT)
        .header("x-access-key-id", &server.key_id)
        .header(
            "x-access-signature",
            access_signature(server.secret_text.expose_secret(), counter),
        )
        .header("x-access-alg", "sha256")
        .header("x-access-blocklet", &server.team_did)
        .json(&serde_json::json!({ "query": query }));
    if let Some(did) = &server.component_did {
        req = req.header("x-component-did", did);
    }
    req.send().await
}

/// What Blocklet Server said about a key.
#[derive(Debug, Clone)]
enum Verdict {
    Valid {
        did: String,
        role: Role,
        id: String,
        /// The key's own end: Blocklet Server's `verifyAccessKey` does not check it, so the Hub
        /// does (a cached verdict included).
        expires: Option<chrono::DateTime<chrono::Utc>>,
    },
    Refused(String),
}

#[derive(Clone)]
pub struct BlockletKeys {
    server: Option<Arc<ServerAccess>>,
    http: reqwest::Client,
    cache: Cache<String, Verdict>,
}

#[derive(Deserialize)]
struct GqlAnswer {
    data: Option<GqlData>,
    #[serde(default)]
    errors: Vec<GqlError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlData {
    verify_access_key: Option<VerifyAnswer>,
}

#[derive(Deserialize)]
struct VerifyAnswer {
    data: Option<KeyData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyData {
    access_key_id: Option<String>,
    created_by: Option<String>,
    passport: Option<String>,
    /// A time (ISO text, or epoch milliseconds) or null.
    #[serde(default)]
    expire_at: Option<serde_json::Value>,
}

/// `expireAt` as Blocklet Server answers it: null, an ISO time, or epoch milliseconds (seconds
/// when small enough to be seconds).
fn expiry(
    value: Option<&serde_json::Value>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    use serde_json::Value;
    let bad = || format!("an expiry Blocklet Server sent cannot be read: {value:?}");
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .or_else(|_| {
                s.parse::<i64>()
                    .map_err(|_| bad())
                    .and_then(|n| from_epoch(n).ok_or_else(bad).map(Some))
            }),
        Some(Value::Number(n)) => n.as_i64().and_then(from_epoch).map(Some).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

fn from_epoch(n: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    if n.abs() < 100_000_000_000 {
        chrono::DateTime::from_timestamp(n, 0)
    } else {
        chrono::DateTime::from_timestamp_millis(n)
    }
}

#[derive(Deserialize)]
struct GqlError {
    message: String,
}

/// The role a Blocklet passport grants (`blocklet-admin` → admin); unknown passports are guests.
pub fn passport_role(passport: &str) -> Role {
    passport
        .strip_prefix(PREFIX)
        .unwrap_or(passport)
        .parse()
        .ok()
        .filter(|r| *r != Role::Component)
        .unwrap_or(Role::Guest)
}

impl BlockletKeys {
    pub fn new(server: Option<ServerAccess>, http: reqwest::Client, ttl: Duration) -> Self {
        BlockletKeys {
            server: server.map(Arc::new),
            http,
            cache: Cache::builder()
                .max_capacity(if ttl.is_zero() { 0 } else { 10_000 })
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .build(),
        }
    }

    /// The caller a `blocklet-…` key stands for.
    pub async fn verify(&self, token: &str) -> Result<Identity, ApiError> {
        let Some(server) = &self.server else {
            return Err(ApiError::Unauthorized(
                "Blocklet access keys work only when the Hub runs in Blocklet Server \
                 (ABT_NODE_PORT and the app key are not set)"
                    .into(),
            ));
        };
        let cache_key = super::access_key::hash(token);
        // Concurrent misses for one key share one question to Blocklet Server.
        let verdict = match self.cache.get(&cache_key).await {
            Some(v) => v,
            None => self
                .cache
                .try_get_with(cache_key, self.ask(server, token))
                .await
                .map_err(|e| {
                    Arc::try_unwrap(e)
                        .unwrap_or_else(|shared| ApiError::Unavailable(shared.to_string()))
                })?,
        };
        match verdict {
            Verdict::Valid {
                expires: Some(at), ..
            } if at <= chrono::Utc::now() => Err(ApiError::Unauthorized(format!(
                "Blocklet access key refused: it expired at {}",
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))),
            Verdict::Valid { did, role, id, .. } => Ok(Identity {
                user_did: did,
                role,
                key_id: Some(id),
                full_name: None,
                app_did: None,
            }),
            Verdict::Refused(why) => Err(ApiError::Unauthorized(format!(
                "Blocklet access key refused: {why}"
            ))),
        }
    }

    /// One `verifyAccessKey` call. Transport failures are errors (not cached); answers are
    /// verdicts (cached).
    async fn ask(&self, server: &ServerAccess, token: &str) -> Result<Verdict, ApiError> {
        let unreachable = |why: String| {
            tracing::warn!("Blocklet Server verifyAccessKey failed: {why}");
            ApiError::Unavailable(format!(
                "cannot verify the Blocklet access key: Blocklet Server {why}"
            ))
        };
        let literal = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let query = format!(
            "mutation {{\n  verifyAccessKey(input: {{accessKeyId: {}, teamDid: {}}}) {{\n    \
             code\n    data {{\n      accessKeyId\n      createdBy\n      passport\n      \
             remark\n      expireAt\n    }}\n  }}\n}}",
            literal(token),
            literal(&server.team_did)
        );
        let res = signed_gql(&self.http, server, &query)
            .await
            .map_err(|e| unreachable(format!("is unreachable ({e})")))?;
        let status = res.status();
        if status.is_server_error() {
            return Err(unreachable(format!("answered {status}")));
        }
        let answer: GqlAnswer = res
            .json()
            .await
            .map_err(|e| unreachable(format!("sent an unreadable answer ({e})")))?;
        if let Some(err) = answer.errors.first() {
            return Ok(Verdict::Refused(err.message.clone()));
        }
        if !status.is_success() {
            return Ok(Verdict::Refused(format!(
                "Blocklet Server answered {status}"
            )));
        }
        let data = answer
            .data
            .and_then(|d| d.verify_access_key)
            .and_then(|v| v.data);
        match data {
            Some(KeyData {
                access_key_id,
                created_by: Some(did),
                passport,
                expire_at,
            }) if !did.is_empty() => match expiry(expire_at.as_ref()) {
                Ok(expires) => Ok(Verdict::Valid {
                    did,
                    role: passport_role(passport.as_deref().unwrap_or("guest")),
                    id: access_key_id.unwrap_or_else(|| token.to_owned()),
                    expires,
                }),
                Err(why) => Ok(Verdict::Refused(why)),
            },
            _ => Ok(Verdict::Refused("unknown access key".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `@blocklet/server-js` `signer.sha256.sign(toBuffer(SK), 56666666)` with the fixed key of
    /// interop-vectors/README.md, computed by node.
    #[test]
    fn access_signature_matches_server_js() {
        let sk = hex::decode(
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
             03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
        )
        .expect("hex");
        let text = String::from_utf8_lossy(&sk);
        assert_eq!(
            access_signature(&text, 56_666_666),
            "9vizyQ2kgJUrz9vs+isw/HJtg6nQAY67fL0FBzT4q88="
        );
    }

    #[test]
    fn expiries_in_every_form_blocklet_server_sends() {
        use serde_json::json;
        let t = |v: serde_json::Value| expiry(Some(&v));
        assert_eq!(t(json!(null)), Ok(None));
        assert_eq!(expiry(None), Ok(None));
        let at = chrono::DateTime::from_timestamp(1_796_000_000, 0);
        assert_eq!(t(json!("2026-11-30T00:53:20.000Z")), Ok(at));
        assert_eq!(t(json!(1_796_000_000_000_i64)), Ok(at));
        assert_eq!(t(json!(1_796_000_000)), Ok(at));
        assert_eq!(t(json!("1796000000000")), Ok(at));
        assert!(t(json!("next week")).is_err());
        assert!(t(json!({"at": 1})).is_err());
    }

    #[test]
    fn passports_map_to_roles() {
        assert_eq!(passport_role("blocklet-admin"), Role::Admin);
        assert_eq!(passport_role("blocklet-owner"), Role::Owner);
        assert_eq!(passport_role("member"), Role::Member);
        assert_eq!(passport_role("blocklet-component"), Role::Guest);
        assert_eq!(passport_role("blocklet-vip"), Role::Guest);
    }
}
