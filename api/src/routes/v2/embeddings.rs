//! `POST /api/v2/embeddings` (and v1's): OpenAI's body answered with OpenAI's list, or the real
//! Hub's envelope `{input:{input, modelOptions}}` answered in the AIGNE shape.

use super::call::CallContext;
use super::unary;
use crate::auth::Authenticated;
use crate::billing::credits;
use crate::error::ApiResult;
use crate::http::ApiJson;
use crate::providers::Modality;
use crate::providers::media::Measure;
use crate::providers::wire::media::{EmbeddingsBody, Encoding, vector_base64};
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_web::{HttpRequest, HttpResponse, web};
use rust_decimal::Decimal;
use serde_json::{Value, json};

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
    let ctx =
        CallContext::new(&req, &me, requested, false, &state.instance_id).of(Modality::Embedding);
    answer(&state, &http.0, ctx, call).await
}

/// Runs an embeddings call for `ctx` (v2 and v1 share it).
pub async fn answer(
    state: &AppState,
    http: &reqwest::Client,
    ctx: CallContext,
    call: crate::providers::wire::media::EmbeddingsCall,
) -> ApiResult<HttpResponse> {
    let model = model_name::parse(&ctx.requested_model);
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
    let usage = done.output.usage;
    let body = if call.envelope {
        json!({
            "embeddings": done.output.vectors,
            "model": done.model_with_provider,
            "usage": {
                "inputTokens": usage.prompt_tokens,
                "outputTokens": 0,
                "aigneHubCredits": credits_number(done.credits),
                "modelCallId": done.call_id,
            },
        })
    } else {
        let data: Vec<Value> = done
            .output
            .vectors
            .iter()
            .enumerate()
            .map(|(index, v)| {
                let embedding = match call.encoding {
                    Encoding::Float => json!(v),
                    Encoding::Base64 => json!(vector_base64(v)),
                };
                json!({"object": "embedding", "index": index, "embedding": embedding})
            })
            .collect();
        json!({
            "object": "list",
            "data": data,
            "model": ctx.requested_model,
            "usage": {"prompt_tokens": usage.prompt_tokens, "total_tokens": usage.total()},
        })
    };
    Ok(HttpResponse::Ok()
        .insert_header((
            "server-timing",
            super::engine::server_timing(&ctx, done.upstream_ms),
        ))
        .json(body))
}

/// Credits as a JSON number (the AIGNE client adds them up).
pub fn credits_number(c: Decimal) -> f64 {
    credits::text(c).parse().unwrap_or(0.0)
}
