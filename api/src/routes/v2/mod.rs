//! `/api/v2/*`: the gateway routes for user tokens.

mod aigne_chat;
pub(crate) mod call;
mod chat_completions;
pub(crate) mod engine;
pub(crate) mod payer;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v2/chat/completions",
        web::post().to(chat_completions::handle),
    )
    .route("/v2/completions", web::post().to(chat_completions::handle))
    .route("/v2/chat", web::post().to(aigne_chat::handle));
}
