//! `POST /api/credits/grants`: an admin grants credits to a user (built-in ledger, SPEC §5.6):
//! `{userDid, amount, expiresAt?, category?, description?}`.

use super::decimal::WireDecimal;
use crate::auth::Admin;
use crate::billing::credits::{self, Credits};
use crate::billing::ledger::NewGrant;
use crate::db::ledger::GrantRow;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::routes::time::{iso, iso_opt};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

const CATEGORIES: [&str; 3] = ["paid", "promotional", "manual"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantBody {
    user_did: String,
    amount: WireDecimal,
    expires_at: Option<String>,
    category: Option<String>,
    description: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantView {
    id: String,
    user_did: String,
    amount: Credits,
    remaining: Credits,
    category: String,
    expires_at: Option<String>,
    created_by: Option<String>,
    created_at: String,
}

pub fn view(row: GrantRow) -> GrantView {
    GrantView {
        id: row.id,
        user_did: row.user_did,
        amount: row.amount,
        remaining: row.remaining,
        category: row.category,
        expires_at: iso_opt(row.expires_at),
        created_by: row.created_by,
        created_at: iso(row.created_at),
    }
}

fn validate(body: GrantBody, admin: &str) -> ApiResult<NewGrant> {
    use hub_blocklet::did::{DidRole, normalize};
    let user_did = normalize(&body.user_did, DidRole::Account)
        .map_err(|e| ApiError::invalid("userDid", format!("is not a user DID: {e}")))?;
    let amount = body.amount.0;
    if amount.is_zero() {
        return Err(ApiError::invalid("amount", "must be more than 0"));
    }
    if amount.scale() > credits::SCALE {
        return Err(ApiError::invalid(
            "amount",
            format!("has more than {} decimal places", credits::SCALE),
        ));
    }
    let expires_at = match body.expires_at.as_deref() {
        None => None,
        Some(raw) => {
            let at = DateTime::parse_from_rfc3339(raw)
                .map_err(|_| ApiError::invalid("expiresAt", format!("'{raw}' is not RFC 3339")))?
                .with_timezone(&Utc);
            if at <= Utc::now() {
                return Err(ApiError::invalid("expiresAt", "must be in the future"));
            }
            Some(at.naive_utc())
        }
    };
    let category = body.category.unwrap_or_else(|| "paid".into());
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(ApiError::invalid(
            "category",
            format!("'{category}' is not one of {}", CATEGORIES.join(", ")),
        ));
    }
    if body.description.as_ref().is_some_and(|d| d.len() > 500) {
        return Err(ApiError::invalid("description", "is longer than 500 bytes"));
    }
    Ok(NewGrant {
        user_did,
        amount,
        category,
        expires_at,
        created_by: Some(admin.to_owned()),
        description: body.description,
    })
}

pub async fn create(
    Admin(me): Admin,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<GrantBody>,
) -> ApiResult<HttpResponse> {
    let grant = validate(body, &me.user_did)?;
    let row = state.ledger.grant(grant).await?;
    crate::notify::credits_granted(&state, &row.user_did, &row.amount.to_string(), &row.id).await;
    Ok(HttpResponse::Created().json(view(row)))
}
