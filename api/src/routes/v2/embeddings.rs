//! `POST /api/v2/embeddings` (and v1's): OpenAI's body answered with OpenAI's list, or the real
//! Hub's envelope `{input:{input, modelOptions}}` answered in the AIGNE shape.

use super::gateway as unary;
use super::gateway::CallContext;
use crate::auth::Authenticated;
use crate::dialects::media::EmbeddingsBody;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::providers::Modality;
use crate::providers::media::Measure;
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_decimal::Decimal;

pub const DEFAULT_MODEL: &str = "openai/text-embedding-3-small";

pub async fn handle(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<EmbeddingsBody>,
) -> ApiResult<HttpResponse> {
    let call = body.into_call()?;
    let requested = model_name::requested_or(call.model.as_deref(), DEFAULT_MODEL);
    let ctx = super::gateway::context(&req, &me, requested, false, &state.instance_id)
        .of(Modality::Embedding);
    answer(&state, &http.0, ctx, call).await
}

/// Runs an embeddings call for `ctx` (v2 and v1 share it).
pub async fn answer(
    state: &AppState,
    http: &reqwest::Client,
    ctx: CallContext,
    call: crate::dialects::media::EmbeddingsCall,
) -> ApiResult<HttpResponse> {
    let model = state.router.resolve(&ctx.requested_model)?;
    let mut plan = state.router.plan_for(&model, Modality::Embedding)?;
    let mut request = call.request;
    request.model = model.model.clone();
    let bytes: u64 = request.input.iter().map(|s| s.len() as u64).sum();
    let estimate = |r: &crate::billing::Rate| Decimal::from(bytes.div_ceil(3)) * r.input;
    let request = &request;
    let done = unary::run(
        state,
        &ctx,
        Modality::Embedding,
        &model.model,
        &mut plan,
        estimate,
        |up| async move {
            let out = up
                .provider
                .embed(http, &up.target(), request, &state.timeouts)
                .await?;
            let measure = Measure::tokens(out.usage);
            Ok((out, measure))
        },
    )
    .await?;
    let body = crate::dialects::media::embeddings_answer(
        &done,
        call.envelope,
        call.encoding,
        &ctx.requested_model,
    )
    .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((
            "server-timing",
            super::gateway::server_timing(&ctx, done.upstream_ms),
        ))
        .content_type("application/json")
        .body(body))
}

pub use crate::dialects::media::credits_number;
