//! Admin APIs (SPEC §5.6): providers, credentials, model rates, model aliases, access keys, users.

mod access_keys;
mod aliases;
mod bulk_rates;
mod credentials;
mod decimal;
pub(crate) mod double_option;
mod grants;
mod model_statuses;
mod pricing;
mod providers;
mod rates;
mod users;

use crate::state::AppState;
use actix_web::web;

/// Rebuilds the routing snapshot after a provider or credential change on this instance
/// (others pick it up within their refresh interval).
async fn routing_changed(state: &AppState) {
    if let Err(e) = state.router.reload().await {
        tracing::warn!("routing snapshot reload failed: {e}");
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `/ai-providers/model-rates` before `/ai-providers/{id}` so it is not taken for an id.
    cfg.route("/credits/grants", web::post().to(grants::create))
        .route("/ai-providers/model-rates", web::get().to(rates::list_all))
        .route(
            "/ai-providers/bulk-rate-update",
            web::post().to(bulk_rates::bulk_update),
        )
        .route("/ai-providers/health", web::get().to(providers::health))
        .route("/ai-providers/pricing", web::get().to(pricing::get))
        .route("/ai-providers/pricing", web::put().to(pricing::put))
        .route(
            "/ai-providers/pricing/refresh",
            web::post().to(pricing::refresh),
        )
        .route(
            "/ai-providers/rate-check",
            web::get().to(pricing::rate_check),
        )
        .route(
            "/ai-providers/rate-history",
            web::get().to(pricing::history),
        )
        .route(
            "/ai-providers/model-statuses/check",
            web::post().to(model_statuses::check),
        )
        .route(
            "/ai-providers/test-models",
            web::get().to(credentials::test_models),
        )
        .route("/ai-providers", web::get().to(providers::list))
        .route("/ai-providers", web::post().to(providers::create))
        .route("/ai-providers/{id}", web::get().to(providers::get))
        .route("/ai-providers/{id}", web::put().to(providers::update))
        .route("/ai-providers/{id}", web::delete().to(providers::delete))
        .route(
            "/ai-providers/{id}/credentials",
            web::get().to(credentials::list),
        )
        .route(
            "/ai-providers/{id}/credentials",
            web::post().to(credentials::create),
        )
        .route(
            "/ai-providers/{id}/credentials/{cid}",
            web::put().to(credentials::update),
        )
        .route(
            "/ai-providers/{id}/credentials/{cid}",
            web::delete().to(credentials::delete),
        )
        .route(
            "/ai-providers/{id}/credentials/test",
            web::post().to(credentials::test_unsaved),
        )
        .route(
            "/ai-providers/{id}/credentials/{cid}/test",
            web::post().to(credentials::test),
        )
        .route("/ai-providers/{id}/model-rates", web::get().to(rates::list))
        .route(
            "/ai-providers/{id}/model-rates",
            web::post().to(rates::create),
        )
        .route(
            "/ai-providers/{id}/model-rates/{rid}",
            web::put().to(rates::update),
        )
        .route(
            "/ai-providers/{id}/model-rates/{rid}",
            web::delete().to(rates::delete),
        )
        .route("/model-aliases", web::get().to(aliases::list))
        .route("/model-aliases", web::post().to(aliases::create))
        .route("/model-aliases/{id}", web::put().to(aliases::update))
        .route("/model-aliases/{id}", web::delete().to(aliases::delete))
        .route("/access-keys", web::get().to(access_keys::list))
        .route("/access-keys", web::post().to(access_keys::create))
        .route("/access-keys/{id}", web::delete().to(access_keys::revoke))
        .route("/users", web::get().to(users::list));
}
