//! `aigne hub connect` against a standalone Hub (on Blocklet Server these paths are Blocklet
//! Server's, and the Hub does not serve them):
//!
//! 1. The CLI opens a session: `POST /.well-known/service/api/access-key/session` → `{id,
//!    challenge}`, and sends the user to the console's page
//!    `/.well-known/service/gen-simple-access-key?__token__=<base64url(id)>&appName=…`.
//! 2. There the user signs in and approves (`POST /api/connect-sessions/{id}/approve`) or refuses;
//!    approval mints an access key for that user, kept sealed in the session row.
//! 3. The CLI polls `GET …/session?sid=<id>` until it answers `accessKeyId` and
//!    `accessKeySecret` (encrypted as the CLI decrypts it, `auth::cli_secret`), then deletes the
//!    session. A refused session answers 403, an unknown or expired one 404: the CLI stops with
//!    that message.

use crate::auth::keys::{self, KeySpec};
use crate::auth::{Authenticated, Role, cli_secret};
use crate::db::access_key_sessions::{self as repo, APPROVED, Decision, PENDING, REFUSED};
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::routes::time::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDateTime, Utc};
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;

/// How long a decided session stays readable (the CLI polls every few seconds).
const COLLECT_WITHIN: Duration = Duration::minutes(5);
/// Open sessions at most: a session costs a row, and opening one needs no credentials.
const MAX_OPEN: i64 = 1_000;
const GONE: &str =
    "this connect session does not exist or has expired: run `aigne hub connect` again";

fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    hex::encode(raw)
}

/// The sealed key's associated data: a sealed key belongs to its session only.
fn aad(session: &str) -> String {
    format!("access_key_sessions:{session}")
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

#[derive(Deserialize)]
pub struct Sid {
    sid: Option<String>,
}

impl Sid {
    fn get(&self) -> ApiResult<&str> {
        self.sid
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::invalid("sid", "required"))
    }
}

/// `POST /.well-known/service/api/access-key/session`.
pub async fn open(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let at = now();
    let decide_within = Duration::from_std(state.settings.connect_session)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("connect_session_secs: {e}")))?;
    let row = repo::SessionRow {
        id: random_hex(32),
        challenge: random_hex(16),
        status: PENDING.to_owned(),
        user_did: None,
        access_key_id: None,
        sealed_key: None,
        created_at: at,
        expires_at: at + decide_within,
    };
    let answer = json!({
        "id": row.id,
        "challenge": row.challenge,
        "status": row.status,
        "expiresAt": iso(row.expires_at),
    });
    state
        .db
        .run(move |conn| {
            repo::delete_expired(conn, at)?;
            if repo::count_live(conn, at)? >= MAX_OPEN {
                return Err(ApiError::Unavailable(
                    "too many connect sessions are open; try again in a few minutes".into(),
                ));
            }
            Ok(repo::insert(conn, &row)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// `GET /.well-known/service/api/access-key/session?sid=…`: the session as the CLI polls it.
pub async fn poll(state: web::Data<AppState>, q: web::Query<Sid>) -> ApiResult<HttpResponse> {
    let sid = q.get()?.to_owned();
    let found = {
        let sid = sid.clone();
        state
            .db
            .run(move |conn| Ok::<_, ApiError>(repo::live(conn, &sid, now())?))
            .await?
    };
    let row = found.ok_or_else(|| ApiError::NotFound(GONE.into()))?;
    let mut answer = json!({
        "id": row.id,
        "challenge": row.challenge,
        "status": row.status,
        "expiresAt": iso(row.expires_at),
    });
    match row.status.as_str() {
        REFUSED => Err(ApiError::Forbidden(
            "the connection was refused in the AIGNE Hub console".into(),
        )),
        APPROVED => {
            let (Some(key_id), Some(sealed)) = (&row.access_key_id, &row.sealed_key) else {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "approved connect session {sid} has no key"
                )));
            };
            let secret = state
                .cipher
                .decrypt(sealed, &aad(&sid))
                .map_err(|e| ApiError::internal(anyhow::anyhow!("connect session {sid}: {e}")))?;
            answer["accessKeyId"] = json!(key_id);
            answer["accessKeySecret"] = json!(cli_secret::encrypt(&secret, key_id, &row.challenge));
            Ok(HttpResponse::Ok().json(answer))
        }
        _ => Ok(HttpResponse::Ok().json(answer)),
    }
}

/// `DELETE /.well-known/service/api/access-key/session?sid=…`: the CLI has its key.
pub async fn close(state: web::Data<AppState>, q: web::Query<Sid>) -> ApiResult<HttpResponse> {
    let sid = q.get()?.to_owned();
    let deleted = state
        .db
        .run(move |conn| Ok::<_, ApiError>(repo::delete(conn, &sid)?))
        .await?;
    if deleted == 0 {
        return Err(ApiError::NotFound(GONE.into()));
    }
    Ok(HttpResponse::Ok().json(json!({"deleted": true})))
}

/// `GET /api/connect-sessions/{id}`: what the console's approval page shows.
pub async fn show(
    Authenticated(_me): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .db
        .run(move |conn| Ok::<_, ApiError>(repo::live(conn, &id, now())?))
        .await?
        .ok_or_else(|| ApiError::NotFound(GONE.into()))?;
    Ok(HttpResponse::Ok().json(json!({
        "status": row.status,
        "createdAt": iso(row.created_at),
        "expiresAt": iso(row.expires_at),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Approval {
    /// The asking app's name (from the page's URL), for the key's name.
    app_name: Option<String>,
}

/// The name of the minted key: the app's name as it asked, trimmed and bounded.
fn key_name(app: Option<&str>) -> String {
    let app: String = app
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("CLI")
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    format!("{app} (connected)")
}

/// Why a session could not be decided: decided before, or gone.
fn undecidable(conn: &mut crate::db::DbConnection, id: &str) -> ApiError {
    match repo::live(conn, id, now()) {
        Ok(Some(row)) => {
            ApiError::Conflict(format!("this connect session was already {}", row.status))
        }
        Ok(None) => ApiError::NotFound(GONE.into()),
        Err(e) => e.into(),
    }
}

/// `POST /api/connect-sessions/{id}/approve`: mints an access key for the signed-in user (a
/// member key of their own, whatever their role) and seals it into the session.
pub async fn approve(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
    ApiJson(body): ApiJson<Approval>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let name = key_name(body.app_name.as_deref());
    let user = me.user_did.clone();
    let cipher = state.cipher.clone();
    let key_id = state
        .db
        .run(move |conn| {
            let at = now();
            // Claimed first, so a session decided already costs no key; the key and its sealed
            // copy land in the same transaction (a poll never sees an approval without its key).
            let decided = crate::db::write_transaction::<_, ApiError, _>(conn, |conn| {
                let decision = Decision {
                    status: APPROVED,
                    user_did: &user,
                    expires_at: at + COLLECT_WITHIN,
                };
                if !repo::decide(conn, &id, at, &decision)? {
                    return Ok(None);
                }
                let spec = KeySpec {
                    name,
                    role: Role::Member,
                    user_did: Some(user.clone()),
                    expires_at: None,
                    app_did: None,
                };
                let (row, plaintext) = keys::create(conn, spec)?;
                let sealed = cipher.encrypt(&plaintext, &aad(&id));
                repo::attach_key(conn, &id, &row.id, &sealed)?;
                Ok(Some(row.id))
            })?;
            decided.ok_or_else(|| undecidable(conn, &id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"status": APPROVED, "accessKeyId": key_id})))
}

/// `POST /api/connect-sessions/{id}/refuse`.
pub async fn refuse(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    state
        .db
        .run(move |conn| {
            let at = now();
            let decision = Decision {
                status: REFUSED,
                user_did: &me.user_did,
                expires_at: at + COLLECT_WITHIN,
            };
            if repo::decide(conn, &id, at, &decision)? {
                Ok(())
            } else {
                Err(undecidable(conn, &id))
            }
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"status": REFUSED})))
}

#[cfg(test)]
mod tests {
    use super::key_name;

    #[test]
    fn key_names_are_trimmed_bounded_and_printable() {
        assert_eq!(key_name(Some("  AIGNE CLI ")), "AIGNE CLI (connected)");
        assert_eq!(key_name(None), "CLI (connected)");
        assert_eq!(key_name(Some("   ")), "CLI (connected)");
        assert_eq!(key_name(Some("a\u{7}b\nc")), "abc (connected)");
        assert_eq!(key_name(Some(&"x".repeat(500))).chars().count(), 80 + 12);
    }
}
