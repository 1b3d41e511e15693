//! `/api/ai-providers/{id}/credentials`: upstream API keys, encrypted at rest and only ever
//! answered masked.

use super::providers::not_found as provider_not_found;
use crate::auth::Admin;
use crate::db::credentials::{self as repo, CredentialChanges, CredentialRow};
use crate::db::providers as provider_repo;
use crate::error::{ApiError, ApiResult, unique_or};
use crate::http::{ApiJson, Params};
use crate::routes::ListBody;
use crate::routes::time::{iso, iso_opt};
use crate::secrets::{Cipher, mask};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Key tests call providers with the operator's money and are an oracle for guessed keys: a
/// few per admin per minute.
mod test_limit {
    use crate::error::{ApiError, ApiResult};
    use std::collections::{HashMap, VecDeque};
    use std::sync::{LazyLock, Mutex};
    use std::time::{Duration, Instant};

    pub const PER_MINUTE: usize = 5;
    const WINDOW: Duration = Duration::from_secs(60);
    static RECENT: LazyLock<Mutex<HashMap<String, VecDeque<Instant>>>> =
        LazyLock::new(Default::default);

    /// Counts a test by `who`, or says when the next one may run.
    pub fn take(who: &str) -> ApiResult<()> {
        let now = Instant::now();
        let mut recent = RECENT.lock().unwrap_or_else(|p| p.into_inner());
        recent.retain(|_, times| times.back().is_some_and(|t| now - *t < WINDOW));
        let times = recent.entry(who.to_owned()).or_default();
        while times.front().is_some_and(|t| now - *t >= WINDOW) {
            times.pop_front();
        }
        if times.len() >= PER_MINUTE {
            let wait = times
                .front()
                .map_or(WINDOW, |t| WINDOW.saturating_sub(now - *t));
            return Err(ApiError::RateLimited {
                message: format!(
                    "at most {PER_MINUTE} key tests a minute; try again in {} s",
                    wait.as_secs().max(1)
                ),
                retry_after: wait.as_secs().max(1),
            });
        }
        times.push_back(now);
        Ok(())
    }
}

const TYPES: [&str; 3] = ["api_key", "access_key_pair", "custom"];
const PAIR_FIELDS: [&str; 2] = ["access_key_id", "secret_access_key"];

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CredentialView {
    id: String,
    provider_id: String,
    name: String,
    credential_type: String,
    /// `null` when the stored value cannot be decrypted (then `error` says why).
    masked_value: Option<Value>,
    active: bool,
    error: Option<String>,
    weight: i64,
    usage_count: i64,
    last_used_at: Option<String>,
    created_at: String,
    updated_at: String,
}

/// The answer for a stored credential: decrypts only to mask, never returns plaintext.
pub fn credential_view(cipher: &Cipher, row: CredentialRow) -> CredentialView {
    let (masked_value, error) = match cipher.decrypt(&row.credential_value, &row.id) {
        Ok(plain) => (Some(masked(&row.credential_type, &plain)), row.error),
        Err(e) => (None, Some(e.to_string())),
    };
    CredentialView {
        id: row.id,
        provider_id: row.provider_id,
        name: row.name,
        credential_type: row.credential_type,
        masked_value,
        active: row.active,
        error,
        weight: row.weight,
        usage_count: row.usage_count,
        last_used_at: iso_opt(row.last_used_at),
        created_at: iso(row.created_at),
        updated_at: iso(row.updated_at),
    }
}

/// `api_key`: the masked string; objects: every string field masked.
fn masked(kind: &str, plain: &str) -> Value {
    if kind == "api_key" {
        return Value::String(mask(plain));
    }
    match serde_json::from_str::<Value>(plain) {
        Ok(Value::Object(map)) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let m = match v {
                        Value::String(s) => mask(&s),
                        _ => "***".to_owned(),
                    };
                    (k, Value::String(m))
                })
                .collect(),
        ),
        _ => Value::String(mask(plain)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateCredential {
    name: String,
    value: Value,
    credential_type: Option<String>,
    weight: Option<i64>,
    active: Option<bool>,
    /// Try the key with a one-token call to this model first, and refuse it if the provider
    /// rejects it.
    test_model: Option<String>,
    /// Save even though the test says the provider rejects the key.
    force: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateCredential {
    name: Option<String>,
    value: Option<Value>,
    credential_type: Option<String>,
    weight: Option<i64>,
    active: Option<bool>,
}

fn check_name(v: &str) -> ApiResult<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 100 {
        return Err(ApiError::invalid("name", "must be 1 to 100 characters"));
    }
    Ok(v.to_owned())
}

fn check_type(v: &str) -> ApiResult<String> {
    if !TYPES.contains(&v) {
        return Err(ApiError::invalid(
            "credentialType",
            format!("'{v}' is not one of {}", TYPES.join(", ")),
        ));
    }
    Ok(v.to_owned())
}

fn check_weight(v: i64) -> ApiResult<i64> {
    if !(1..=1000).contains(&v) {
        return Err(ApiError::invalid("weight", "must be between 1 and 1000"));
    }
    Ok(v)
}

/// The plaintext to encrypt for a value of `kind`.
fn plaintext(kind: &str, value: &Value) -> ApiResult<String> {
    match (kind, value) {
        ("api_key", Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() || s.len() > 4096 || s.chars().any(char::is_control) {
                return Err(ApiError::invalid(
                    "value",
                    "must be a non-empty key of at most 4096 printable characters",
                ));
            }
            Ok(s.to_owned())
        }
        ("api_key", _) => Err(ApiError::invalid(
            "value",
            "an api_key credential's value must be a string",
        )),
        ("access_key_pair", Value::Object(map)) => {
            for field in PAIR_FIELDS {
                match map.get(field) {
                    Some(Value::String(s)) if !s.trim().is_empty() => {}
                    _ => {
                        return Err(ApiError::invalid(
                            format!("value.{field}"),
                            "is required (a non-empty string)",
                        ));
                    }
                }
            }
            Ok(value.to_string())
        }
        ("access_key_pair", _) => Err(ApiError::invalid(
            "value",
            "an access_key_pair credential's value must be an object {access_key_id, secret_access_key}",
        )),
        (_, Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        (_, Value::Object(map)) if !map.is_empty() => Ok(value.to_string()),
        _ => Err(ApiError::invalid(
            "value",
            "must be a non-empty string or object",
        )),
    }
}

fn duplicate(name: &str) -> ApiError {
    ApiError::Conflict(format!(
        "this provider already has a credential named '{name}'"
    ))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "credential '{id}' does not exist for this provider"
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
    let (count, rows) = state
        .db
        .run(move |conn| {
            provider_repo::get(conn, &provider_id)?
                .ok_or_else(|| provider_not_found(&provider_id))?;
            Ok::<_, ApiError>(repo::list(conn, &provider_id, page)?)
        })
        .await?;
    let list = rows
        .into_iter()
        .map(|r| credential_view(&state.cipher, r))
        .collect();
    Ok(HttpResponse::Ok().json(ListBody::new(count, list, page)))
}

pub async fn create(
    _: Admin,
    state: web::Data<AppState>,
    provider_id: web::Path<String>,
    ApiJson(body): ApiJson<CreateCredential>,
) -> ApiResult<HttpResponse> {
    let provider_id = provider_id.into_inner();
    let name = check_name(&body.name)?;
    let kind = check_type(body.credential_type.as_deref().unwrap_or("api_key"))?;
    let plain = plaintext(&kind, &body.value)?;
    let weight = check_weight(body.weight.unwrap_or(100))?;
    let tested = match body.test_model.as_deref() {
        Some(model) => {
            let model = check_test_model(model)?;
            let outcome = state
                .router
                .test_value(
                    &provider_id,
                    &SecretString::from(plain.clone()),
                    Some(model),
                )
                .await?;
            if outcome.rejected && body.force != Some(true) {
                return Err(ApiError::invalid(
                    "value",
                    format!(
                        "the provider rejected this key: {}; send force: true to save it anyway",
                        outcome.message.as_deref().unwrap_or("no reason given")
                    ),
                ));
            }
            Some(outcome)
        }
        None => None,
    };
    let now = Utc::now().naive_utc();
    let id = uuid::Uuid::now_v7().to_string();
    let row = CredentialRow {
        credential_value: state.cipher.encrypt(&plain, &id),
        id,
        provider_id: provider_id.clone(),
        name: name.clone(),
        credential_type: kind,
        active: body.active.unwrap_or(true),
        last_used_at: None,
        usage_count: 0,
        error: None,
        weight,
        created_at: now,
        updated_at: now,
    };
    let stored = row.clone();
    state
        .db
        .run(move |conn| {
            provider_repo::get(conn, &provider_id)?
                .ok_or_else(|| provider_not_found(&provider_id))?;
            repo::insert(conn, &stored).map_err(unique_or(|| duplicate(&name)))
        })
        .await?;
    super::routing_changed(&state).await;
    let mut view = serde_json::to_value(credential_view(&state.cipher, row))
        .map_err(|e| ApiError::internal(anyhow::anyhow!("credential view: {e}")))?;
    if let Some(outcome) = tested {
        view["test"] = serde_json::to_value(outcome)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("credential test: {e}")))?;
    }
    Ok(HttpResponse::Created().json(view))
}

pub async fn update(
    _: Admin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateCredential>,
) -> ApiResult<HttpResponse> {
    let (provider_id, id) = path.into_inner();
    let name = body.name.as_deref().map(check_name).transpose()?;
    let new_type = body
        .credential_type
        .as_deref()
        .map(check_type)
        .transpose()?;
    let weight = body.weight.map(check_weight).transpose()?;
    let cipher = state.cipher.clone();
    let row = state
        .db
        .run(move |conn| {
            let current = repo::get(conn, &provider_id, &id)?.ok_or_else(|| not_found(&id))?;
            let kind = new_type.clone().unwrap_or(current.credential_type.clone());
            let credential_value = match &body.value {
                Some(value) => Some(cipher.encrypt(&plaintext(&kind, value)?, &id)),
                // A type change must come with a value of the new type.
                None if kind != current.credential_type => {
                    return Err(ApiError::invalid(
                        "value",
                        "is required when credentialType changes",
                    ));
                }
                None => None,
            };
            let replaced = credential_value.is_some();
            let changes = CredentialChanges {
                name: name.clone(),
                // A new value or a re-enable clears the recorded upstream error.
                error: (credential_value.is_some() || body.active == Some(true)).then_some(None),
                credential_value,
                credential_type: new_type,
                // A replaced value is live again unless the caller says otherwise.
                active: body.active.or(replaced.then_some(true)),
                weight,
                updated_at: Some(Utc::now().naive_utc()),
            };
            repo::update(conn, &provider_id, &id, &changes).map_err(unique_or(|| {
                duplicate(name.as_deref().unwrap_or(&current.name))
            }))?;
            repo::get(conn, &provider_id, &id)?.ok_or_else(|| not_found(&id))
        })
        .await?;
    super::routing_changed(&state).await;
    Ok(HttpResponse::Ok().json(credential_view(&state.cipher, row)))
}

fn check_test_model(model: &str) -> ApiResult<&str> {
    let model = model.trim();
    if model.is_empty() || model.len() > 100 || model.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "testModel",
            "must be a model name of 1 to 100 characters",
        ));
    }
    Ok(model)
}

/// A key test's model, checked, and the test counted against `who`'s limit.
pub(super) fn admit_test<'a>(who: &str, model: Option<&'a str>) -> ApiResult<Option<&'a str>> {
    let model = model.map(check_test_model).transpose()?;
    test_limit::take(who)?;
    Ok(model)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TestStored {
    test_model: Option<String>,
}

/// `POST /api/ai-providers/{id}/credentials/{cid}/test[?testModel=]`: `{ok, rejected,
/// latencyMs, cause?, model?, message?}`. Without a model, the provider's free key check.
pub async fn test(
    Admin(me): Admin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<TestStored>,
) -> ApiResult<HttpResponse> {
    let (provider_id, id) = path.into_inner();
    let model = admit_test(&me.user_did, query.test_model.as_deref())?;
    let outcome = state
        .router
        .test_credential(&provider_id, &id, model)
        .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TestValue {
    value: Value,
    credential_type: Option<String>,
    test_model: Option<String>,
}

/// `POST /api/ai-providers/{id}/credentials/test`: a key that is not saved, tried with a
/// one-token call to `testModel` (or the provider's default test model); nothing is stored.
pub async fn test_unsaved(
    Admin(me): Admin,
    state: web::Data<AppState>,
    provider_id: web::Path<String>,
    ApiJson(body): ApiJson<TestValue>,
) -> ApiResult<HttpResponse> {
    let kind = check_type(body.credential_type.as_deref().unwrap_or("api_key"))?;
    let plain = plaintext(&kind, &body.value)?;
    let model = admit_test(&me.user_did, body.test_model.as_deref())?;
    let outcome = state
        .router
        .test_value(&provider_id, &SecretString::from(plain), model)
        .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

/// `GET /api/ai-providers/test-models`: each provider's default test model, by name.
pub async fn test_models(_: Admin) -> HttpResponse {
    let map: serde_json::Map<String, Value> = crate::routing::test_models::defaults()
        .into_iter()
        .map(|(p, m)| (p.to_owned(), Value::String(m.to_owned())))
        .collect();
    HttpResponse::Ok().json(map)
}

pub async fn delete(
    _: Admin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (provider_id, id) = path.into_inner();
    state
        .db
        .run(move |conn| match repo::delete(conn, &provider_id, &id)? {
            0 => Err(not_found(&id)),
            _ => Ok(()),
        })
        .await?;
    super::routing_changed(&state).await;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_by_type() {
        assert_eq!(
            masked("api_key", "sk-abcdefghijklmnop"),
            json!("sk-a****mnop")
        );
        assert_eq!(
            masked(
                "access_key_pair",
                r#"{"access_key_id":"AKIAABCDEFGHIJKL","secret_access_key":"x"}"#
            ),
            json!({"access_key_id":"AKIA****IJKL","secret_access_key":"***"})
        );
    }

    #[test]
    fn validates_values() {
        assert!(plaintext("api_key", &json!("sk-1")).is_ok());
        assert!(plaintext("api_key", &json!(5)).is_err());
        assert!(plaintext("api_key", &json!("  ")).is_err());
        assert!(plaintext("access_key_pair", &json!({"access_key_id":"a"})).is_err());
        assert!(
            plaintext(
                "access_key_pair",
                &json!({"access_key_id":"a","secret_access_key":"b"})
            )
            .is_ok()
        );
        assert!(plaintext("custom", &json!({})).is_err());
    }
}
