//! Image generation and edits: `POST /api/v2/images/generations` and `/api/v2/image/generations`
//! (OpenAI's body → `{created, data, model, usage}` plus the real Hub's `images` alias) and the
//! AIGNE-native `POST /api/v2/image` (`{input:{prompt, image?, modelOptions, outputFileType}}` →
//! `{images:[{type:"url"|"file",…}], usage, model}`).

use super::embeddings::credits_number;
use super::gateway::CallContext;
use super::gateway::{self as unary, Done};
use super::media_out::{self, Delivered};
use crate::auth::Authenticated;
use crate::dialects::media::{AigneEnvelope, ImagesBody};
use crate::error::ApiResult;
use crate::http::ApiJson;
use crate::providers::Modality;
use crate::providers::media::{ImageRequest, ImageResponse, Measure};
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Runs an image call for `ctx`.
pub async fn generate(
    state: &AppState,
    http: &reqwest::Client,
    ctx: &CallContext,
    mut request: ImageRequest,
) -> ApiResult<Done<ImageResponse>> {
    let model = state.router.resolve(&ctx.requested_model)?;
    let mut plan = state.router.plan_for(&model, Modality::Image)?;
    request.model = model.model.clone();
    let n = u64::from(request.n);
    let prompt_tokens = (request.prompt.len() as u64).div_ceil(3);
    let estimate = |r: &crate::billing::Rate| {
        Decimal::from(n) * r.output + Decimal::from(prompt_tokens) * r.input
    };
    let request = &request;
    unary::run(
        state,
        ctx,
        Modality::Image,
        &model.model,
        &mut plan,
        estimate,
        |up| async move {
            let out = up
                .provider
                .images(http, &up.target(), request, &state.timeouts)
                .await?;
            let measure = Measure {
                usage: out.usage,
                images: out.images.len() as u64,
                ..Measure::default()
            };
            Ok((out, measure))
        },
    )
    .await
}

/// `POST /api/v2/images/generations`, `/api/v2/image/generations`.
pub async fn openai(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<ImagesBody>,
) -> ApiResult<HttpResponse> {
    let (model, request) = body.into_request()?;
    let requested = model_name::requested_or(model.as_deref(), model_name::DEFAULT_IMAGE_MODEL);
    let ctx = super::gateway::context(&req, &me, requested, false, &state.instance_id)
        .of(Modality::Image);
    openai_answer(&state, &http.0, &req, ctx, request).await
}

/// The OpenAI-shaped answer (v2 and v1 share it).
pub async fn openai_answer(
    state: &AppState,
    http: &reqwest::Client,
    req: &HttpRequest,
    ctx: CallContext,
    request: ImageRequest,
) -> ApiResult<HttpResponse> {
    let delivery = request.delivery;
    let done = generate(state, http, &ctx, request).await?;
    let out = done.output;
    let files = media_out::deliver(state, http, req, out.images, delivery).await?;
    let data: Vec<Value> = files
        .iter()
        .enumerate()
        .map(|(i, f)| f.openai_json(out.revised_prompts.get(i).and_then(|p| p.as_deref())))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((
            "server-timing",
            super::gateway::server_timing(&ctx, done.upstream_ms),
        ))
        .json(json!({
            "created": chrono::Utc::now().timestamp(),
            "data": data,
            "images": data,
            "model": ctx.requested_model,
            "usage": {
                "input_tokens": out.usage.prompt_tokens,
                "output_tokens": out.usage.completion_tokens,
                "total_tokens": out.usage.total(),
                "aigneHubCredits": credits_number(done.credits),
                "modelCallId": done.call_id,
            },
        })))
}

/// AIGNE usage of a media call.
pub fn aigne_usage<T>(done: &Done<T>) -> Value {
    json!({
        "inputTokens": done.measure.usage.prompt_tokens,
        "outputTokens": done.measure.usage.completion_tokens,
        "aigneHubCredits": credits_number(done.credits),
        "modelCallId": done.call_id,
    })
}

/// `POST /api/v2/image` (headers early when the image takes long, see [`super::early`]).
pub async fn aigne(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<AigneEnvelope>,
) -> ApiResult<HttpResponse> {
    let request = body.image_request()?;
    let requested =
        model_name::requested_or(body.model().as_deref(), model_name::DEFAULT_IMAGE_MODEL);
    let ctx = super::gateway::context(&req, &me, requested, false, &state.instance_id)
        .of(Modality::Image);
    let http = http.0.clone();
    let headers_after = state.settings.upstream.early_headers;
    let work = async move {
        let delivery = request.delivery;
        let done = generate(&state, &http, &ctx, request).await?;
        let usage = aigne_usage(&done);
        let files: Vec<Delivered> =
            media_out::deliver(&state, &http, &req, done.output.images, delivery).await?;
        let images: Vec<Value> = files.iter().map(Delivered::aigne_json).collect();
        let body = json!({
            "images": images,
            "usage": usage,
            "model": done.model_with_provider,
        });
        Ok((body, super::gateway::server_timing(&ctx, done.upstream_ms)))
    };
    super::early::respond(work, headers_after).await
}
