//! `POST /api/v2/chat/completions` (and `/api/v2/completions`): OpenAI's Chat Completions
//! (`dialects::openai`).

use crate::auth::Authenticated;
use crate::dialects::openai::{ChatCompletionRequest, OpenAiChat};
use crate::http::ApiJson;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};

pub async fn handle(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<ChatCompletionRequest>,
) -> HttpResponse {
    crate::routes::chat::serve::<OpenAiChat>(&req, &me, None, &state, &http.0, body).await
}
