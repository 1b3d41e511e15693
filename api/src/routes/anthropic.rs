//! Anthropic's Messages API at its own paths (`ANTHROPIC_BASE_URL=http://HUB`): messages through
//! the engine, and `count_tokens`.

use crate::auth::Authenticated;
use crate::dialects::anthropic::{AnthropicMessages, MessagesRequest};
use crate::error::ApiError;
use crate::http::ApiJson;
use crate::routes::{chat, token_count};
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// `POST /v1/messages/count_tokens`: the prompt's input tokens, counted by Anthropic when it
/// serves the model, else estimated ([`token_count`]).
pub async fn count_tokens(
    req: HttpRequest,
    auth: Result<Authenticated, ApiError>,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    body: Result<ApiJson<MessagesRequest>, ApiError>,
) -> HttpResponse {
    match count(&req, auth, &state, &http.0, body).await {
        Ok((n, how)) => HttpResponse::Ok()
            .insert_header((token_count::COUNT_HEADER, how))
            .json(json!({"input_tokens": n})),
        Err(e) => chat::error::<AnthropicMessages>(&e),
    }
}

async fn count(
    req: &HttpRequest,
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
    let native = model.provider == Some(crate::config::ProviderKind::Anthropic);
    let mut chat = body.into_internal_for(model.model.clone(), native)?;
    chat.native = crate::dialects::anthropic::native(req);
    Ok(token_count::count(state, http, &model, &chat).await)
}
