//! `/api/v1/*`: the legacy AI-Kit API that other blocklets call over component calls (SPEC §5.4),
//! also under `/api/v1/sdk/*`, and the remote-app registration of `/api/app/*`.

mod apps;
mod chat;

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
            .route(&format!("{base}/completions"), web::post().to(chat::handle));
    }
    cfg.route("/app/register", web::post().to(apps::register))
        .route("/app/status", web::get().to(apps::status));
}

/// `GET /api/v1/status` → `{available}`: whether any provider can answer the default model.
async fn status(_caller: V1Caller, state: web::Data<AppState>) -> HttpResponse {
    let default = model_name::parse(model_name::DEFAULT_CHAT_MODEL);
    let available = state.router.plan(&default).is_ok()
        || state.router.catalog().providers.iter().any(|p| p.usable());
    HttpResponse::Ok().json(json!({ "available": available }))
}
