//! User APIs (SPEC §5.6), for any authenticated caller: their own data, or everyone's for admins
//! who ask (`allUsers=true`).

pub(crate) mod calls;
pub(crate) mod credits;
mod notifications;
mod profile;
pub(crate) mod stats;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/user/model-calls", web::get().to(calls::list))
        .route("/user/model-calls/export", web::get().to(calls::export))
        .route("/user/usage-stats", web::get().to(stats::usage_stats))
        .route("/user/info", web::get().to(credits::info))
        .route("/user/credit/balance", web::get().to(credits::balance))
        .route(
            "/user/credit/transactions",
            web::get().to(credits::transactions),
        )
        .route("/user/credit/grants", web::get().to(credits::grants))
        .route(
            "/user/credit/payment-link",
            web::get().to(credits::payment_link_route),
        )
        .route("/notifications", web::get().to(notifications::list))
        .route("/user/profile", web::put().to(profile::set_own))
        .route("/users/{did}/profile", web::put().to(profile::set_any));
}
