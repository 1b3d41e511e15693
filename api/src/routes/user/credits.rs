//! The caller's credits (SPEC §5.6): `GET /api/user/info`, `/api/user/credit/balance`,
//! `/api/user/credit/transactions` (built-in ledger, or Payment Kit's when billing goes through
//! it).

use crate::auth::Authenticated;
use crate::billing::credits;
use crate::billing::ledger::{self, Position};
use crate::db::ledger::{self as store, TransactionRow};
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use crate::routes::ListBody;
use crate::routes::time::iso;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde_json::{Value, json};

/// The user's position; on SQLite running calls' holds are in memory, not rows. Billing
/// through Payment Kit: its balance less what is not reported yet, read now.
pub(crate) async fn position(state: &AppState, user: String, role: &str) -> ApiResult<Position> {
    if let Some(pk) = &state.payment_kit {
        let balance = pk.balance(&user, role).await?;
        return Ok(Position {
            granted: balance,
            debt: rust_decimal::Decimal::ZERO,
            held: state.ledger.funds().held(&user),
        });
    }
    let in_memory = state.ledger.held_in_memory(&user);
    let mut p = state
        .db
        .run(move |conn| {
            Ok::<_, ApiError>(ledger::position(conn, &user, None, Utc::now().naive_utc())?)
        })
        .await?;
    if let Some(held) = in_memory {
        p.held = held;
    }
    Ok(p)
}

fn balance_json(p: &Position) -> Value {
    json!({
        "balance": credits::text(p.balance()),
        "granted": credits::text(p.granted),
        "debt": credits::text(p.debt),
        "pendingCredit": credits::text(p.held),
        "available": credits::text(p.available()),
    })
}

pub async fn balance(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let p = position(&state, me.user_did.clone(), me.role.as_str()).await?;
    let mut body = balance_json(&p);
    body["userDid"] = json!(me.user_did);
    body["enableCredit"] = json!(state.settings.billing.enabled);
    Ok(HttpResponse::Ok().json(body))
}

fn transaction_view(t: TransactionRow) -> Value {
    json!({
        "id": t.id,
        "kind": t.kind,
        "amount": t.amount,
        "grantId": t.grant_id,
        "modelCallId": t.model_call_id,
        "calls": t.call_count,
        "description": t.description,
        "createdAt": iso(t.created_at),
    })
}

pub async fn transactions(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    if let Some(pk) = &state.payment_kit {
        let found = pk
            .transactions(&me.user_did, page.page, page.page_size)
            .await?;
        let list = found["list"].as_array().cloned().unwrap_or_default();
        let count = found["count"].as_i64().unwrap_or(list.len() as i64);
        return Ok(HttpResponse::Ok().json(ListBody::new(count, list, page)));
    }
    let user = me.user_did.clone();
    let (count, rows) = state
        .db
        .run(move |conn| Ok::<_, ApiError>(store::transactions(conn, &user, page)?))
        .await?;
    Ok(HttpResponse::Ok().json(ListBody::new(
        count,
        rows.into_iter().map(transaction_view).collect(),
        page,
    )))
}

pub async fn info(
    req: actix_web::HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let did = me.user_did.clone();
    let name = state
        .db
        .run(move |conn| Ok::<_, ApiError>(users::get(conn, &did)?))
        .await?
        .and_then(|u| u.name);
    let billing = &state.settings.billing;
    let credit_balance = if billing.enabled {
        balance_json(&position(&state, me.user_did.clone(), me.role.as_str()).await?)
    } else {
        Value::Null
    };
    Ok(HttpResponse::Ok().json(json!({
        "user": {"did": me.user_did, "role": me.role.as_str(), "name": name},
        "creditBalance": credit_balance,
        "enableCredit": billing.enabled,
        "currency": {"name": "Credits", "symbol": "credits", "decimal": credits::SCALE},
        "paymentLink": crate::http::mount::under(crate::http::mount::prefix(&req), &billing.payment_link),
        "creditPrefix": "",
    })))
}
