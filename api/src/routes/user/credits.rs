//! The caller's credits (SPEC §5.6): `GET /api/user/info`, `/api/user/credit/balance`,
//! `/api/user/credit/transactions` (built-in ledger, or Payment Kit's when billing goes through
//! it).

use crate::auth::Authenticated;
use crate::billing::credits;
use crate::billing::ledger::{self, Position};
use crate::db::ledger::{self as store, TransactionRow};
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::http::{Params, mount};
use crate::routes::ListBody;
use crate::routes::time::iso;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
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

/// What the user has, in the real Hub's terms (`balance`, `total`, `grantCount`,
/// `pendingCredit`: what calls cost beyond the grants) and the Hub's own (`granted`, `debt`,
/// `held` by running calls, `available` to a new call).
pub(crate) struct Summary {
    position: Position,
    /// What the user's active grants were granted.
    total: rust_decimal::Decimal,
    grant_count: i64,
}

pub(crate) async fn summary(state: &AppState, user: String, role: &str) -> ApiResult<Summary> {
    let position = position(state, user.clone(), role).await?;
    let (total, grant_count) = match &state.payment_kit {
        Some(pk) => pk.grant_totals(&user).await?,
        None => {
            state
                .db
                .run(move |conn| {
                    let (total, count) =
                        store::live_grant_totals(conn, &user, Utc::now().naive_utc())?;
                    Ok::<_, ApiError>((total.decimal(), count))
                })
                .await?
        }
    };
    Ok(Summary {
        position,
        total,
        grant_count,
    })
}

impl Summary {
    /// The real Hub's `total`, `balance` and `pendingCredit`: no total while calls are owed
    /// beyond the grants. The balance stays signed, as the Hub has always answered it (a debt
    /// shows as a negative balance as well as in `pendingCredit`).
    pub(crate) fn real_terms(
        &self,
    ) -> (
        rust_decimal::Decimal,
        rust_decimal::Decimal,
        rust_decimal::Decimal,
    ) {
        let p = &self.position;
        let zero = rust_decimal::Decimal::ZERO;
        let total = if p.debt > zero { zero } else { self.total };
        (total, p.balance(), p.debt)
    }
}

fn balance_json(s: &Summary) -> Value {
    let p = &s.position;
    let (total, balance, pending) = s.real_terms();
    json!({
        "balance": credits::text(balance),
        "total": credits::text(total),
        "grantCount": s.grant_count,
        "pendingCredit": credits::text(pending),
        "granted": credits::text(p.granted),
        "debt": credits::text(p.debt),
        "held": credits::text(p.held),
        "available": credits::text(p.available()),
    })
}

pub async fn balance(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let s = summary(&state, me.user_did.clone(), me.role.as_str()).await?;
    let mut body = balance_json(&s);
    body["userDid"] = json!(me.user_did);
    body["enableCredit"] = json!(state.settings.billing.enabled);
    Ok(HttpResponse::Ok().json(body))
}

/// Payment Kit's `{count, list}` as the Hub's list answer.
fn payment_kit_list(found: Value, page: crate::db::Page) -> HttpResponse {
    let list = found["list"].as_array().cloned().unwrap_or_default();
    let count = found["count"].as_i64().unwrap_or(list.len() as i64);
    HttpResponse::Ok().json(ListBody::new(count, list, page))
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
        return Ok(payment_kit_list(found, page));
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

/// The purchase link as an absolute URL (clients print it).
fn payment_link(req: &HttpRequest, state: &AppState) -> String {
    mount::absolute(req, &state.settings.billing.payment_link)
}

/// `GET /api/user/info`, in the real Hub's shape (what `aigne hub status` prints) with the
/// Hub's own fields beside it (`user.role`, `user.name`, the balance's own terms).
pub async fn info(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
) -> ApiResult<HttpResponse> {
    let did = me.user_did.clone();
    let stored = state
        .db
        .run(move |conn| Ok::<_, ApiError>(users::get(conn, &did)?))
        .await?;
    let (name, email, avatar) = stored
        .map(|u| (u.name, u.email, u.avatar))
        .unwrap_or_default();
    // On Blocklet Server its user record wins, then the login's name, then the Hub's own.
    let server = state
        .blocklet_users
        .profile(&me.user_did)
        .await
        .unwrap_or_default();
    let full_name = server.full_name.or(me.full_name.clone()).or(name);
    let email = server.email.or(email);
    // Blocklet Server's avatar paths are the app's (its root), the Hub's own under its mount.
    let avatar = match server.avatar {
        Some(a) if a.starts_with('/') && !a.starts_with("//") => {
            let info = req.connection_info();
            Some(format!("{}://{}{a}", info.scheme(), info.host()))
        }
        Some(a) => Some(a),
        None => avatar.map(|a| mount::absolute(&req, &a)),
    };
    let billing = &state.settings.billing;
    let credit_balance = if billing.enabled {
        balance_json(&summary(&state, me.user_did.clone(), me.role.as_str()).await?)
    } else {
        Value::Null
    };
    Ok(HttpResponse::Ok().json(json!({
        "user": {
            "did": me.user_did,
            "fullName": full_name,
            "email": email,
            "avatar": avatar,
            "role": me.role.as_str(),
            "name": full_name,
        },
        "creditBalance": credit_balance,
        "enableCredit": billing.enabled,
        "currency": {"name": "Credits", "symbol": "credits", "decimal": credits::SCALE},
        "paymentLink": payment_link(&req, &state),
        "profileLink": mount::absolute(&req, "/credit-usage"),
        "creditPrefix": billing.credit_prefix,
    })))
}

/// `GET /api/user/credit/payment-link`: the purchase link, a JSON string (as the real Hub).
pub async fn payment_link_route(
    req: HttpRequest,
    _: Authenticated,
    state: web::Data<AppState>,
) -> HttpResponse {
    HttpResponse::Ok().json(payment_link(&req, &state))
}

fn grant_view(g: store::GrantRow) -> Value {
    json!({
        "id": g.id,
        "amount": credits::text(g.amount.decimal()),
        "remainingAmount": credits::text(g.remaining.decimal()),
        "category": g.category,
        "status": if g.remaining.decimal().is_zero() { "depleted" } else { "granted" },
        "expiresAt": g.expires_at.map(iso),
        "createdAt": iso(g.created_at),
        "createdBy": g.created_by,
    })
}

/// `GET /api/user/credit/grants`: the caller's grants, newest first (Payment Kit's, when
/// billing goes through it).
pub async fn grants(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    if let Some(pk) = &state.payment_kit {
        let found = pk.grants(&me.user_did, page.page, page.page_size).await?;
        return Ok(payment_kit_list(found, page));
    }
    let user = me.user_did.clone();
    let (count, rows) = state
        .db
        .run(move |conn| Ok::<_, ApiError>(store::grants(conn, &user, page)?))
        .await?;
    Ok(HttpResponse::Ok().json(ListBody::new(
        count,
        rows.into_iter().map(grant_view).collect(),
        page,
    )))
}
