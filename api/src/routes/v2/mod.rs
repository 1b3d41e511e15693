//! `/api/v2/*`: the gateway routes for user tokens.

mod aigne_chat;
pub(crate) mod audio;
mod chat_completions;
mod early;
pub(crate) mod embeddings;
pub(crate) mod gateway;
pub(crate) mod images;
pub(crate) mod media_out;
mod video;

use actix_web::web;

/// The OpenAI paths also served at the conventional `/v1` (`OPENAI_BASE_URL=http://HUB/v1`).
pub fn configure_openai(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/chat/completions",
        web::post().to(chat_completions::handle),
    )
    .route("/embeddings", web::post().to(embeddings::handle));
}

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
