//! User APIs (SPEC §5.6), for any authenticated caller: their own data, or everyone's for admins
//! who ask (`allUsers=true`).

mod calls;
pub(crate) mod credits;
mod stats;

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
        );
}
