//! `/api/v1/*`: the legacy AI-Kit API that other blocklets call over component calls (SPEC §5.4),
//! also under `/api/v1/sdk/*`, and the remote-app registration of `/api/app/*`.

mod apps;
mod chat;
mod media;

use crate::auth::V1Caller;
use crate::routing::model_name;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    for base in ["/v1", "/v1/sdk"] {
        cfg.route(&format!("{base}/status"), web::get().to(status))
            .route(
                &format!("{base}/chat/completions"),
                web::post().to(chat::handle),
            )
            .route(&format!("{base}/completions"), web::post().to(chat::handle))
            .route(
                &format!("{base}/embeddings"),
                web::post().to(media::embeddings),
            )
            .route(
                &format!("{base}/image/generations"),
                web::post().to(media::images),
            )
            .route(
                &format!("{base}/audio/speech"),
                web::post().to(media::speech),
            )
            .route(
                &format!("{base}/audio/transcriptions"),
                web::post().to(media::transcriptions),
            );
    }
    cfg.route("/app/register", web::post().to(apps::register))
        .route("/app/status", web::get().to(apps::status))
        .route("/app/usage", web::get().to(apps::usage));
}

/// The Payment Kit subscription (`active` or `trialing`) of an app calling with its own
/// signature; `None` when it has none, or when billing does not go through Payment Kit.
pub(crate) async fn subscription(
    state: &AppState,
    caller: &V1Caller,
) -> crate::error::ApiResult<Option<serde_json::Value>> {
    let (Some(pk), crate::auth::v1::Via::RemoteApp { app_id }) = (&state.payment_kit, &caller.via)
    else {
        return Ok(None);
    };
    pk.subscription(app_id).await.map_err(|e| {
        crate::error::ApiError::Unavailable(format!(
            "the app's subscription cannot be checked now: {e}"
        ))
    })
}

/// SPEC §9: with billing through Payment Kit, an app calling with its own signature needs a
/// subscription, else 402 `UNSUBSCRIBED`.
pub(crate) async fn require_subscription(
    req: &actix_web::HttpRequest,
    state: &AppState,
    caller: &V1Caller,
) -> crate::error::ApiResult<()> {
    let (Some(_), crate::auth::v1::Via::RemoteApp { app_id }) = (&state.payment_kit, &caller.via)
    else {
        return Ok(());
    };
    if subscription(state, caller).await?.is_some() {
        return Ok(());
    }
    let link = &crate::http::mount::under(
        crate::http::mount::prefix(req),
        &state.settings.billing.payment_link,
    );
    Err(crate::error::ApiError::PaymentRequired {
        kind: "UNSUBSCRIBED",
        message: format!("app {app_id} has no active AIGNE Hub subscription: subscribe at {link}"),
        link: link.clone(),
    })
}

/// `GET /api/v1/status` → `{available}`: whether any provider can answer the default model.
async fn status(_caller: V1Caller, state: web::Data<AppState>) -> HttpResponse {
    let available = model_name::parse(model_name::DEFAULT_CHAT_MODEL)
        .is_ok_and(|default| state.router.plan(&default).is_ok())
        || state.router.catalog().providers.iter().any(|p| p.usable());
    HttpResponse::Ok().json(json!({ "available": available }))
}
