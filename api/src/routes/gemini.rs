//! Gemini's API at its own paths (`GOOGLE_GEMINI_BASE_URL=http://HUB`):
//! `POST /v1beta/models/{model}:{method}` for `generateContent`, `streamGenerateContent` (through
//! the engine) and `countTokens`; every error in Gemini's shape.

use crate::auth::Authenticated;
use crate::dialects::gemini::{GeminiGenerate, GenerateRequest, TARGET, split_target};
use crate::error::ApiError;
use crate::http::ApiJson;
use crate::routes::{chat, token_count};
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// `POST …/models/{model}:{method}`.
pub async fn model_method(
    req: HttpRequest,
    auth: Result<Authenticated, ApiError>,
    body: Result<ApiJson<GenerateRequest>, ApiError>,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
) -> HttpResponse {
    let target = req.match_info().get(TARGET).unwrap_or_default().to_owned();
    match split_target(&target) {
        Some((_, "generateContent" | "streamGenerateContent")) => {
            chat::handle::<GeminiGenerate>(req, auth, body, state, http).await
        }
        Some((model, "countTokens")) => match count(&req, auth, &state, &http.0, model, body).await
        {
            Ok((n, how)) => HttpResponse::Ok()
                .insert_header((token_count::COUNT_HEADER, how))
                .json(json!({"totalTokens": n})),
            Err(e) => chat::error::<GeminiGenerate>(&e),
        },
        Some((_, method)) => chat::error::<GeminiGenerate>(&ApiError::NotFound(format!(
            "{method} is not a method the Hub serves; use generateContent, \
             streamGenerateContent or countTokens"
        ))),
        None => chat::error::<GeminiGenerate>(&ApiError::NotFound(format!(
            "models/{target}: the path must end in {{model}}:{{method}}"
        ))),
    }
}

async fn count(
    req: &HttpRequest,
    auth: Result<Authenticated, ApiError>,
    state: &AppState,
    http: &reqwest::Client,
    model: &str,
    body: Result<ApiJson<GenerateRequest>, ApiError>,
) -> Result<(u64, &'static str), ApiError> {
    auth?;
    let ApiJson(body) = body?;
    let requested = model_name::requested_or_default(Some(model));
    let model = state.router.resolve(&requested)?;
    let native = model.provider == Some(crate::config::ProviderKind::Google);
    let mut chat = body
        .counted()
        .into_internal_for(model.model.clone(), native)?;
    chat.native = crate::dialects::gemini::native(req);
    Ok(token_count::count(state, http, &model, &chat).await)
}
