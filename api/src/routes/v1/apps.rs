//! `POST /api/app/register {publicKey}` → `{id}` (the key's application DID), and
//! `GET /api/app/status` (signed by the app) → `{id, subscription}` (SPEC §5.4, §7.2).

use crate::auth::V1Caller;
use crate::auth::v1::{Via, parse_public_key};
use crate::db::apps::{self, AppRow};
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use hub_blocklet::did::{self, DidRole};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Register {
    public_key: String,
}

/// Registers an app's public key. Open to anyone (the key only lets its holder sign as that app;
/// what the app may spend is decided per call), and idempotent.
pub async fn register(
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<Register>,
) -> ApiResult<HttpResponse> {
    let pk = parse_public_key(&body.public_key).map_err(|m| ApiError::invalid("publicKey", m))?;
    let id = did::address(&pk, DidRole::Application);
    let now = chrono::Utc::now().naive_utc();
    let row = AppRow {
        id: id.clone(),
        public_key: format!("0x{}", hex::encode(pk)),
        created_at: now,
        updated_at: now,
    };
    state
        .db
        .run(move |conn| apps::register(conn, &row).map_err(crate::db::DbError::from))
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "id": id })))
}

/// The calling app's registration and its Payment Kit subscription (`null` when it has none,
/// or when billing does not go through Payment Kit).
pub async fn status(caller: V1Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let subscription = super::subscription(&state, &caller).await?;
    match caller.via {
        Via::RemoteApp { app_id } => {
            Ok(HttpResponse::Ok().json(json!({ "id": app_id, "subscription": subscription })))
        }
        _ => Err(ApiError::bad_request(
            "missing_signature",
            "GET /api/app/status needs a remote-app signature (x-app-id, x-timestamp, x-component-sig)",
        )),
    }
}
