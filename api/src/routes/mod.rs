//! HTTP routes: thin handlers (extract → call → map). Paths follow SPEC §5.

pub mod admin;
mod anthropic;
pub mod chat;
mod connect;
mod gemini;
mod health;
mod list;
mod public;
mod responses;
pub(crate) mod time;
mod token_count;
mod usage;
pub(crate) mod user;
mod v1;
pub(crate) mod v2;

pub use list::ListBody;

use actix_web::web;

/// Routes outside `/api` (no CORS). `standalone`: the connect sessions of `aigne hub connect`
/// are the Hub's; on Blocklet Server they are Blocklet Server's, and the Hub must not shadow them.
pub fn configure_root(cfg: &mut web::ServiceConfig, standalone: bool) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/__blocklet__.js", web::get().to(public::blocklet_js));
    if standalone {
        const SESSION: &str = "/.well-known/service/api/access-key/session";
        cfg.route(SESSION, web::post().to(connect::open))
            .route(SESSION, web::get().to(connect::poll))
            .route(SESSION, web::delete().to(connect::close));
    }
}

/// The conventional paths under `/v1`, so SDKs work with only their base URL set:
/// `OPENAI_BASE_URL=http://HUB/v1` and `ANTHROPIC_BASE_URL=http://HUB` (and Gemini's `v1`
/// method path).
pub fn configure_conventional(cfg: &mut web::ServiceConfig) {
    use crate::dialects::anthropic::AnthropicMessages;
    cfg.route(
        "/messages",
        web::post().to(chat::handle::<AnthropicMessages>),
    )
    .route(
        "/messages/count_tokens",
        web::post().to(anthropic::count_tokens),
    )
    .route("/models", web::get().to(public::v1_models))
    .route(GEMINI_METHOD, web::post().to(gemini::model_method));
    responses_routes(cfg, "");
    v2::configure_openai(cfg);
}

/// The Responses API under `prefix` (`` at the conventional paths, `/v2` under `/api`).
fn responses_routes(cfg: &mut web::ServiceConfig, prefix: &str) {
    cfg.route(
        &format!("{prefix}/responses"),
        web::post().to(responses::create),
    )
    .route(
        &format!("{prefix}/responses/{{id}}"),
        web::get().to(responses::get),
    )
    .route(
        &format!("{prefix}/responses/{{id}}"),
        web::delete().to(responses::delete),
    )
    .route(
        &format!("{prefix}/responses/{{id}}/input_items"),
        web::get().to(responses::input_items),
    );
}

/// The method path of Gemini's models (`{model}:{method}`; the model may hold `/`).
const GEMINI_METHOD: &str = "/models/{target:.+:[A-Za-z]+}";

/// Gemini's `v1beta` paths (`GOOGLE_GEMINI_BASE_URL=http://HUB`); its `v1` method path is among
/// [`configure_conventional`]'s.
pub fn configure_gemini(cfg: &mut web::ServiceConfig) {
    cfg.route(GEMINI_METHOD, web::post().to(gemini::model_method))
        .route("/models", web::get().to(public::gemini_models))
        .route("/models/{model:.+}", web::get().to(public::gemini_model));
}

/// Routes under `/api`.
pub fn configure_api(cfg: &mut web::ServiceConfig) {
    // The gateway first: the router tries routes in order, and the admin routes' `{id}` patterns
    // are regular expressions that would otherwise run on every gateway call.
    v2::configure(cfg);
    cfg.service(web::scope("/v2/v1").configure(configure_conventional));
    {
        use crate::dialects::anthropic::AnthropicMessages;
        cfg.route(
            "/v2/messages",
            web::post().to(chat::handle::<AnthropicMessages>),
        )
        .route(
            "/v2/messages/count_tokens",
            web::post().to(anthropic::count_tokens),
        );
    }
    responses_routes(cfg, "/v2");
    cfg.service(web::scope("/v2/v1beta").configure(configure_gemini));
    v1::configure(cfg);
    // Before the admin routes: `/ai-providers/models` is not a provider id.
    cfg.route("/ai/models", web::get().to(public::ai_models))
        .route("/ai-providers/models", web::get().to(public::ai_models))
        .route("/v2/models", web::get().to(public::v2_models))
        .route("/v2/status", web::get().to(public::v2_status))
        .route("/enums", web::get().to(public::enums));
    cfg.route("/usage/quota", web::get().to(usage::quota))
        .route("/usage/projects", web::get().to(usage::list))
        .route("/usage/projects/trends", web::get().to(usage::trends_of))
        .route(
            "/usage/projects/group-trends",
            web::get().to(usage::group_trends),
        )
        .route("/usage/projects/calls", web::get().to(usage::calls))
        .route("/usage/trends", web::get().to(usage::trends));
    cfg.route("/connect-sessions/{id}", web::get().to(connect::show))
        .route(
            "/connect-sessions/{id}/approve",
            web::post().to(connect::approve),
        )
        .route(
            "/connect-sessions/{id}/refuse",
            web::post().to(connect::refuse),
        );
    admin::configure(cfg);
    user::configure(cfg);
}
