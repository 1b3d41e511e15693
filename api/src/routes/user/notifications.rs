//! `GET /api/notifications`: what the Hub told its operators and users, newest first, with each
//! webhook delivery's state. Admins see every notification (`mine=true`: only theirs); others
//! see the ones about them (credits granted, a low balance), without the webhook URLs (they
//! may carry the receiver's token).

use crate::auth::Authenticated;
use crate::db::notifications as repo;
use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use crate::routes::ListBody;
use crate::routes::time::{iso, iso_opt};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

pub async fn list(
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = params.page()?;
    let admin = me.role.is_admin();
    let everyone = admin && params.get("mine") != Some("true");
    let user = (!everyone).then(|| me.user_did.clone());
    let (count, rows) = state
        .db
        .run(move |conn| Ok::<_, ApiError>(repo::list(conn, user.as_deref(), page)?))
        .await?;
    let list = rows
        .into_iter()
        .map(|(n, deliveries)| {
            let mut v = crate::notify::payload(&n);
            v["deliveries"] = deliveries
                .iter()
                .map(|d| {
                    json!({
                        "channel": if admin { d.channel.as_str() } else if d.channel.starts_with("blocklet:") { "blocklet" } else { "webhook" },
                        "attempts": d.attempts,
                        "deliveredAt": iso_opt(d.delivered_at),
                        "nextAttemptAt": d.delivered_at.is_none().then(|| iso(d.next_attempt_at)),
                        "lastError": d.last_error,
                    })
                })
                .collect();
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(ListBody::new(count, list, page)))
}
