//! The HTTP side of the core engine for handlers: a call's context read from the request, the
//! engine's chat and media entry points with their errors in `ApiError`, and the headers every
//! gateway answer carries.

use crate::auth::Identity;
use crate::error::{ApiError, ApiResult};
use crate::http::{Arrived, RequestId};
use crate::providers::media::Measure;
use crate::providers::types::{ChatRequest, ChatResponse};
use crate::providers::{Modality, UpstreamError};
use crate::routing::Plan;
use crate::state::AppState;
use actix_web::{HttpMessage, HttpRequest};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use hub_core::billing::Rate;
use hub_core::engine::chat::{self, Opened};
use hub_core::engine::{Answer, Operation};
use rust_decimal::Decimal;
use std::future::Future;
use std::time::Instant;

pub use hub_core::engine::context::{CHAT_KIND, CallContext};
pub use hub_core::engine::relay::Encoder;
pub use hub_core::engine::{Done, Upstream};

pub const APP_DID_HEADER: &str = "x-aigne-hub-client-did";

/// The context of a call made by `me` through `req`.
pub fn context(
    req: &HttpRequest,
    me: &Identity,
    requested_model: String,
    stream: bool,
    instance_id: &str,
) -> CallContext {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 200)
            .map(str::to_owned)
    };
    let started = req
        .extensions()
        .get::<Arrived>()
        .map_or_else(Instant::now, |a| a.0);
    CallContext {
        row_committed_by_route: false,
        started,
        auth_ms: started.elapsed().as_secs_f64() * 1000.0,
        user_did: me.user_did.clone(),
        role: me.role.as_str(),
        // The app the caller names, else the key's own (or, on Blocklet Server, the Hub's).
        app_did: header(APP_DID_HEADER).or_else(|| me.app_did.clone()),
        request_id: req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        trace_id: header("traceparent"),
        endpoint: req.path().to_owned(),
        requested_model,
        stream,
        instance_id: instance_id.to_owned(),
        kind: CHAT_KIND,
        // The OpenAI shapes are the default; chat dialects and v1 name themselves.
        dialect: "openai",
        mount: crate::http::mount::prefix(req).to_owned(),
    }
}

/// A chat with one answer.
pub async fn complete(
    state: &AppState,
    http: &reqwest::Client,
    ctx: &CallContext,
    request: &ChatRequest,
    plan: &mut Plan,
) -> ApiResult<Done<ChatResponse>> {
    Ok(chat::complete(&state.engine, http, &state.timeouts, ctx, request, plan).await?)
}

/// A chat stream, opened at its first upstream event.
pub async fn open_stream(
    state: &AppState,
    http: &reqwest::Client,
    ctx: &CallContext,
    request: &ChatRequest,
    plan: &mut Plan,
) -> ApiResult<Opened> {
    Ok(chat::open_stream(&state.engine, http, &state.timeouts, ctx, request, plan).await?)
}

/// The body of a stream's answer, written by `encoder`.
pub fn relay<E: Encoder>(
    state: &AppState,
    ctx: CallContext,
    opened: Opened,
    encoder: E,
) -> impl Stream<Item = Result<Bytes, ApiError>> + 'static {
    hub_core::engine::relay::relay(state.engine.clone(), ctx, opened, encoder).map(Ok)
}

/// A call with one answer that is not a chat (embeddings, images, video, audio): `send` makes
/// one attempt's provider call and says what it is billed on; `estimate` is held at admission.
pub async fn run<T, F, Fut>(
    state: &AppState,
    ctx: &CallContext,
    modality: Modality,
    model: &str,
    plan: &mut Plan,
    estimate: impl Fn(&Rate) -> Decimal,
    mut send: F,
) -> ApiResult<Done<T>>
where
    F: FnMut(Upstream) -> Fut,
    Fut: Future<Output = Result<(T, Measure), UpstreamError>>,
{
    let op = Operation {
        modality,
        model,
        estimate: |r: &Rate, _| estimate(r),
        send: |up| {
            let call = send(up);
            async move { call.await.map(|(out, m)| Answer::Finished(out, m)) }
        },
    };
    Ok(state.engine.run(ctx, plan, op).await?)
}

/// Headers of every SSE answer.
pub fn sse_response() -> actix_web::HttpResponseBuilder {
    let mut builder = actix_web::HttpResponse::Ok();
    builder
        .insert_header((actix_web::http::header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"));
    builder
}

pub fn server_timing(ctx: &CallContext, upstream_ms: f64) -> String {
    let total = ctx.started.elapsed().as_secs_f64() * 1000.0;
    format!(
        "auth;dur={:.1}, upstream;dur={upstream_ms:.1}, total;dur={total:.1}",
        ctx.auth_ms
    )
}
