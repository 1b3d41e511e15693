//! Anthropic's Messages API at its own paths (`ANTHROPIC_BASE_URL=http://HUB`): messages through
//! the engine, and `count_tokens`.

use crate::auth::Authenticated;
use crate::dialects::anthropic::{AnthropicMessages, MessagesRequest};
use crate::error::ApiError;
use crate::http::ApiJson;
use crate::routes::chat;
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpResponse, web};
use hub_core::providers::{Provider, Target, token_count};
use secrecy::ExposeSecret;
use serde_json::json;

/// The header that says how `count_tokens` counted.
pub const COUNT_HEADER: &str = "x-aigne-hub-token-count";

/// `POST /v1/messages/count_tokens`: the prompt's input tokens. When the model is served by
/// Anthropic, Anthropic counts them (with one of its keys; nothing is billed); otherwise, or when
/// Anthropic cannot answer, the Hub estimates with OpenAI's `o200k_base` tokenizer. [`COUNT_HEADER`]
/// says which.
pub async fn count_tokens(
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    body: Result<ApiJson<MessagesRequest>, ApiError>,
) -> HttpResponse {
    match count(auth, &state, &http.0, body).await {
        Ok((n, how)) => HttpResponse::Ok()
            .insert_header((COUNT_HEADER, how))
            .json(json!({"input_tokens": n})),
        Err(e) => chat::error::<AnthropicMessages>(&e),
    }
}

async fn count(
    auth: Result<Authenticated, ApiError>,
    state: &AppState,
    http: &reqwest::Client,
    body: Result<ApiJson<MessagesRequest>, ApiError>,
) -> Result<(u64, &'static str), ApiError> {
    auth?;
    let ApiJson(mut body) = body?;
    let requested = model_name::requested_or_default(body.model.as_deref());
    let model = state.router.resolve(&requested)?;
    // A count has no answer, so no `max_tokens` is needed to make one.
    body.max_tokens.get_or_insert(1);
    let chat = body.into_internal(model.model.clone())?;
    if let Ok(mut plan) = state.router.plan(&model)
        && let Some(attempt) = state.router.next(&mut plan)
        && let Provider::Anthropic(anthropic) = &attempt.implementation
        && let Some(credential) = &attempt.credential
    {
        let target = Target {
            base_url: &attempt.provider.base_url,
            api_key: credential.secret.expose_secret(),
            region: None,
            chat_url: None,
        };
        match anthropic
            .count_tokens(http, &target, &chat, &state.timeouts)
            .await
        {
            Ok(n) => return Ok((n, "provider=anthropic")),
            Err(e) => tracing::warn!("Anthropic could not count tokens; estimating: {e}"),
        }
    }
    Ok((token_count::prompt_tokens(&chat), ESTIMATED))
}

/// [`COUNT_HEADER`] of a count the Hub made itself.
pub const ESTIMATED: &str = "estimated; tokenizer=o200k_base";
