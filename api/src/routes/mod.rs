//! HTTP routes: thin handlers (extract → call → map). Paths follow SPEC §5.

pub mod admin;
mod health;
mod list;
mod public;
mod time;
mod user;
mod v1;
mod v2;

pub use list::ListBody;

use actix_web::web;

/// Routes outside `/api` (no CORS).
pub fn configure_root(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/__blocklet__.js", web::get().to(public::blocklet_js));
}

/// Routes under `/api`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    // The gateway first: the router tries routes in order, and the admin routes' `{id}` patterns
    // are regular expressions that would otherwise run on every gateway call.
    v2::configure(cfg);
    v1::configure(cfg);
    // Before the admin routes: `/ai-providers/models` is not a provider id.
    cfg.route("/ai/models", web::get().to(public::ai_models))
        .route("/ai-providers/models", web::get().to(public::ai_models))
        .route("/v2/models", web::get().to(public::v2_models))
        .route("/v2/status", web::get().to(public::v2_status));
    admin::configure(cfg);
    user::configure(cfg);
}
