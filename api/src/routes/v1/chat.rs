//! `POST /api/v1/chat/completions` and `/api/v1/completions`: the legacy AI-Kit chat
//! (`dialects::legacy`) for signed component calls, behind the app's subscription check.

use crate::auth::V1Caller;
use crate::dialects::legacy::{LegacyChat, to_openai};
use crate::error::ApiResult;
use crate::http::ApiJson;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

pub async fn handle(
    req: HttpRequest,
    caller: V1Caller,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    let body = to_openai(body)?;
    super::require_subscription(&req, &state, &caller).await?;
    Ok(crate::routes::chat::serve::<LegacyChat>(
        &req,
        &caller.identity,
        caller.app_did(),
        &state,
        &http.0,
        body,
    )
    .await)
}
