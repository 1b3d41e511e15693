//! The v1 legacy media routes (SPEC §5.4) for other blocklets: `POST /api/v1/embeddings` and
//! `/api/v1/image/generations` (OpenAI bodies and answers), `/api/v1/audio/speech` and
//! `/api/v1/audio/transcriptions`, on the same engine as v2 with the v1 caller's identity.

use crate::auth::V1Caller;
use crate::dialects::media::{EmbeddingsBody, ImagesBody};
use crate::error::ApiResult;
use crate::http::ApiJson;
use crate::providers::Modality;
use crate::routes::v2::gateway::CallContext;
use crate::routes::v2::{audio, embeddings, images};
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

/// The call's context for a v1 caller (a remote app's id is its app DID).
async fn context(
    req: &HttpRequest,
    caller: &V1Caller,
    state: &AppState,
    requested: String,
    modality: Modality,
) -> ApiResult<CallContext> {
    super::require_subscription(req, state, caller).await?;
    let mut ctx = crate::routes::v2::gateway::context(
        req,
        &caller.identity,
        requested,
        false,
        &state.instance_id,
    )
    .of(modality);
    ctx.dialect = "v1";
    if let Some(app) = caller.app_did() {
        ctx.app_did.get_or_insert_with(|| app.to_owned());
    }
    Ok(ctx)
}

pub async fn embeddings(
    req: HttpRequest,
    caller: V1Caller,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<EmbeddingsBody>,
) -> ApiResult<HttpResponse> {
    let call = body.into_call()?;
    let requested = model_name::requested_or(call.model.as_deref(), embeddings::DEFAULT_MODEL);
    let ctx = context(&req, &caller, &state, requested, Modality::Embedding).await?;
    embeddings::answer(&state, &http.0, ctx, call).await
}

pub async fn images(
    req: HttpRequest,
    caller: V1Caller,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<ImagesBody>,
) -> ApiResult<HttpResponse> {
    let (model, request) = body.into_request()?;
    let requested = model_name::requested_or(model.as_deref(), model_name::DEFAULT_IMAGE_MODEL);
    let ctx = context(&req, &caller, &state, requested, Modality::Image).await?;
    images::openai_answer(&state, &http.0, &req, ctx, request).await
}

pub async fn speech(
    req: HttpRequest,
    caller: V1Caller,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(mut body): ApiJson<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    body.remove("access_token");
    let model = body.get("model").and_then(Value::as_str).map(str::to_owned);
    let requested = model_name::requested_or(model.as_deref(), audio::DEFAULT_SPEECH_MODEL);
    let ctx = context(&req, &caller, &state, requested, Modality::Speech).await?;
    audio::speech_answer(&state, &http.0, ctx, body).await
}

pub async fn transcriptions(
    req: HttpRequest,
    caller: V1Caller,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    form: Multipart,
) -> ApiResult<HttpResponse> {
    let (file, fields) = audio::read_upload(form, state.settings.request_entity_size_limit).await?;
    let model = fields
        .iter()
        .find(|(k, _)| k == "model")
        .map(|(_, v)| v.clone());
    let requested = model_name::requested_or(model.as_deref(), audio::DEFAULT_TRANSCRIPTION_MODEL);
    let ctx = context(&req, &caller, &state, requested, Modality::Transcription).await?;
    audio::transcription_answer(&state, &http.0, ctx, file, fields).await
}
