//! `/api/v2/*`: the gateway routes for user tokens.

mod aigne_chat;
pub(crate) mod audio;
pub(crate) mod call;
mod chat_completions;
mod early;
pub(crate) mod embeddings;
pub(crate) mod engine;
pub(crate) mod images;
pub(crate) mod media_out;
pub(crate) mod payer;
mod unary;
mod video;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v2/chat/completions",
        web::post().to(chat_completions::handle),
    )
    .route("/v2/completions", web::post().to(chat_completions::handle))
    .route("/v2/chat", web::post().to(aigne_chat::handle))
    .route("/v2/embeddings", web::post().to(embeddings::handle))
    .route("/v2/images/generations", web::post().to(images::openai))
    .route("/v2/image/generations", web::post().to(images::openai))
    .route("/v2/image", web::post().to(images::aigne))
    .route("/v2/video", web::post().to(video::handle))
    .route("/v2/audio/speech", web::post().to(audio::speech))
    .route(
        "/v2/audio/transcriptions",
        web::post().to(audio::transcriptions),
    )
    .route("/files/{name}", web::get().to(media_out::serve_file));
}
