//! Anthropic's Messages API at its own paths (`ANTHROPIC_BASE_URL=http://HUB`): messages through
//! the engine, and `count_tokens`.

use crate::auth::Authenticated;
use crate::dialects::anthropic::{AnthropicMessages, MessagesRequest};
use crate::error::ApiError;
use crate::http::ApiJson;
use crate::routes::chat;
use crate::routing::model_name;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use hub_core::providers::token_count;
use serde_json::json;

/// The header that says how `count_tokens` counted.
pub const COUNT_HEADER: &str = "x-aigne-hub-token-count";

/// `POST /v1/messages/count_tokens`: the prompt's input tokens, estimated with OpenAI's
/// `o200k_base` tokenizer (said in [`COUNT_HEADER`]); nothing is sent upstream or billed.
pub async fn count_tokens(
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
    body: Result<ApiJson<MessagesRequest>, ApiError>,
) -> HttpResponse {
    match count(auth, &state, body) {
        Ok(n) => HttpResponse::Ok()
            .insert_header((COUNT_HEADER, "estimated; tokenizer=o200k_base"))
            .json(json!({"input_tokens": n})),
        Err(e) => chat::error::<AnthropicMessages>(&e),
    }
}

fn count(
    auth: Result<Authenticated, ApiError>,
    state: &AppState,
    body: Result<ApiJson<MessagesRequest>, ApiError>,
) -> Result<u64, ApiError> {
    auth?;
    let ApiJson(mut body) = body?;
    let requested = model_name::requested_or_default(body.model.as_deref());
    let model = state.router.resolve(&requested)?;
    // A count has no answer, so no `max_tokens` is needed to make one.
    body.max_tokens.get_or_insert(1);
    let chat = body.into_internal(model.model)?;
    Ok(token_count::prompt_tokens(&chat))
}
