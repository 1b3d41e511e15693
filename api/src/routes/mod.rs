//! HTTP routes: thin handlers (extract → call → map). Paths follow SPEC §5.

pub mod admin;
mod health;
mod list;
mod time;
mod v2;

pub use list::ListBody;

use actix_web::web;

/// Routes outside `/api` (no CORS).
pub fn configure_root(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz));
}

/// Routes under `/api`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    admin::configure(cfg);
    v2::configure(cfg);
}
