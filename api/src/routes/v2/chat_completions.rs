//! `POST /api/v2/chat/completions` (and `/api/v2/completions`): OpenAI's wire format in and out,
//! with failover across credentials (prefixed model) or providers (unprefixed), every attempt
//! recorded. Streams peek the first upstream event before answering 200, so an upstream error
//! is still a real HTTP error and can fail over; after the first byte, never.

use super::call::{self, CallContext};
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::providers::types::{ChatRequest, StreamEvent, Usage};
use crate::providers::wire::openai::{self as wire, ChatCompletionRequest, ChunkWriter};
use crate::providers::{EventStream, Target, UpstreamError};
use crate::routing::{Attempt, Plan, model_name};
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use std::time::Instant;

pub async fn handle(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    ApiJson(body): ApiJson<ChatCompletionRequest>,
) -> ApiResult<HttpResponse> {
    let requested = body
        .model
        .clone()
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| model_name::DEFAULT_CHAT_MODEL.to_owned());
    let model = model_name::parse(&requested);
    let stream = body.wants_stream();
    let include_usage = body.include_usage();
    let chat = body.into_internal(model.model.clone())?;
    let mut plan = state.router.plan(&model)?;
    let ctx = CallContext::new(&req, &me, requested, stream);
    if stream {
        stream_answer(state, ctx, chat, &mut plan, include_usage).await
    } else {
        json_answer(state, ctx, chat, &mut plan).await
    }
}

fn target<'a>(attempt: &'a Attempt) -> Target<'a> {
    Target {
        base_url: &attempt.provider.base_url,
        api_key: attempt
            .credential
            .as_ref()
            .map_or("", |c| c.secret.expose_secret()),
    }
}

fn server_timing(ctx: &CallContext, upstream_ms: f64) -> String {
    let total = ctx.started.elapsed().as_secs_f64() * 1000.0;
    format!("upstream;dur={upstream_ms:.1}, total;dur={total:.1}")
}

async fn json_answer(
    state: web::Data<AppState>,
    ctx: CallContext,
    chat: ChatRequest,
    plan: &mut Plan,
) -> ApiResult<HttpResponse> {
    let mut last: Option<UpstreamError> = None;
    while let Some(attempt) = state.router.next(plan) {
        let id = uuid::Uuid::now_v7().to_string();
        state
            .recorder
            .start_call(ctx.start_row(&id, &attempt, &chat.model));
        let sent = Instant::now();
        match attempt
            .implementation
            .infer(&state.http, &target(&attempt), &chat, &state.timeouts)
            .await
        {
            Ok(res) => {
                let upstream_ms = sent.elapsed().as_secs_f64() * 1000.0;
                state.router.succeeded(&attempt);
                if let Some(c) = attempt.credential.as_ref().filter(|c| c.from_db) {
                    state.recorder.credential_used(c.id.clone());
                }
                let body = wire::completion_json(&res, &ctx.requested_model).to_string();
                let end = call::finish(
                    "success",
                    &res.usage,
                    false,
                    &ctx,
                    Some(ctx.elapsed_ms()),
                    Some(upstream_ms as i64),
                );
                // The row is committed before the answer leaves.
                state.recorder.finish_call_committed(id, end).await;
                return Ok(HttpResponse::Ok()
                    .content_type("application/json")
                    .insert_header(("server-timing", server_timing(&ctx, upstream_ms)))
                    .body(body));
            }
            Err(err) => {
                state
                    .recorder
                    .finish_call(id, call::failed(&err, &ctx, None));
                state.router.failed(&attempt, err.class(), &err.to_string());
                let retry = err.retryable();
                last = Some(err);
                if !retry {
                    break;
                }
            }
        }
    }
    Err(last.map_or_else(no_attempt, |e| call::client_error(&e)))
}

fn no_attempt() -> ApiError {
    ApiError::Unavailable("no usable credential is left for this model".into())
}

/// What a stream has seen so far, for its row.
#[derive(Default)]
struct Seen {
    usage: Option<Usage>,
    deltas: u64,
}

impl Seen {
    fn observe(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Usage(u) => self.usage = Some(*u),
            StreamEvent::Text(_) | StreamEvent::Reasoning(_) | StreamEvent::ToolCall { .. } => {
                self.deltas += 1
            }
            _ => {}
        }
    }

    /// Reported usage, or an estimate (one token per delta) when the stream ended early.
    fn usage(&self) -> (Usage, bool) {
        match self.usage {
            Some(u) => (u, false),
            None => (
                Usage {
                    completion_tokens: self.deltas,
                    ..Usage::default()
                },
                true,
            ),
        }
    }
}

/// Writes a `failed` row if the client goes away before the stream ends.
struct Guard {
    state: web::Data<AppState>,
    id: Option<String>,
    ctx_started: Instant,
    seen_deltas: u64,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let usage = Usage {
                completion_tokens: self.seen_deltas,
                ..Usage::default()
            };
            let end = crate::usage::CallFinish {
                status: "failed".into(),
                total_usage: usage.total() as i64,
                usage_metrics: Some(serde_json::json!({"completionTokens": usage.completion_tokens, "estimated": true}).to_string()),
                credits: "0".into(),
                duration_ms: Some(self.ctx_started.elapsed().as_millis() as i64),
                ttfb_ms: None,
                provider_ttfb_ms: None,
                error_reason: None,
            }
            .with_error("client disconnected before the stream ended");
            self.state.recorder.finish_call(id, end);
        }
    }
}

async fn stream_answer(
    state: web::Data<AppState>,
    ctx: CallContext,
    chat: ChatRequest,
    plan: &mut Plan,
    include_usage: bool,
) -> ApiResult<HttpResponse> {
    let mut last: Option<UpstreamError> = None;
    while let Some(attempt) = state.router.next(plan) {
        let id = uuid::Uuid::now_v7().to_string();
        state
            .recorder
            .start_call(ctx.start_row(&id, &attempt, &chat.model));
        let sent = Instant::now();
        let opened = attempt
            .implementation
            .infer_stream(&state.http, &target(&attempt), &chat, &state.timeouts)
            .await;
        // Peek the first event: until it arrives nothing has reached the client.
        let first = match opened {
            Ok(mut events) => match events.next().await {
                Some(Ok(event)) => Ok((event, events)),
                Some(Err(e)) => Err(e),
                None => Err(UpstreamError::Protocol(
                    attempt.provider.kind.name(),
                    "empty stream".into(),
                )),
            },
            Err(e) => Err(e),
        };
        match first {
            Ok((event, events)) => {
                let provider_ttfb = sent.elapsed().as_millis() as i64;
                state.router.succeeded(&attempt);
                if let Some(c) = attempt.credential.as_ref().filter(|c| c.from_db) {
                    state.recorder.credential_used(c.id.clone());
                }
                let body = relay(
                    state.clone(),
                    ctx,
                    id,
                    event,
                    events,
                    include_usage,
                    provider_ttfb,
                );
                return Ok(HttpResponse::Ok()
                    .insert_header((CONTENT_TYPE, "text/event-stream"))
                    .insert_header((CACHE_CONTROL, "no-cache"))
                    .insert_header(("x-accel-buffering", "no"))
                    .streaming(body));
            }
            Err(err) => {
                state
                    .recorder
                    .finish_call(id, call::failed(&err, &ctx, None));
                state.router.failed(&attempt, err.class(), &err.to_string());
                let retry = err.retryable();
                last = Some(err);
                if !retry {
                    break;
                }
            }
        }
    }
    Err(last.map_or_else(no_attempt, |e| call::client_error(&e)))
}

/// The client's SSE body: every upstream event forwarded as it arrives; the final row is committed
/// before the last frame.
fn relay(
    state: web::Data<AppState>,
    ctx: CallContext,
    id: String,
    first: StreamEvent,
    mut events: EventStream,
    include_usage: bool,
    provider_ttfb: i64,
) -> impl futures_util::Stream<Item = Result<Bytes, ApiError>> {
    async_stream::stream! {
        let (upstream_id, created) = match &first {
            StreamEvent::Start { id, created, .. } => (id.clone(), *created),
            _ => (format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()), chrono::Utc::now().timestamp()),
        };
        let writer = ChunkWriter { id: upstream_id, model: ctx.requested_model.clone(), created };
        let mut seen = Seen::default();
        let mut guard = Guard { state: state.clone(), id: Some(id.clone()), ctx_started: ctx.started, seen_deltas: 0 };
        seen.observe(&first);
        if !matches!(first, StreamEvent::Start { .. }) {
            yield Ok(Bytes::from(writer.event(&StreamEvent::Start { id: String::new(), model: String::new(), created }).unwrap_or_default()));
        }
        if let Some(frame) = writer.event(&first) {
            yield Ok(Bytes::from(frame));
        }
        let ttfb = ctx.elapsed_ms();
        let mut failure: Option<UpstreamError> = None;
        while let Some(item) = events.next().await {
            match item {
                Ok(event) => {
                    seen.observe(&event);
                    guard.seen_deltas = seen.deltas;
                    if let Some(frame) = writer.event(&event) {
                        yield Ok(Bytes::from(frame));
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let (usage, estimated) = seen.usage();
        guard.id = None;
        match failure {
            None => {
                let end = call::finish("success", &usage, estimated, &ctx, Some(ttfb), Some(provider_ttfb));
                state.recorder.finish_call_committed(id, end).await;
                if include_usage {
                    yield Ok(Bytes::from(writer.usage(&usage)));
                }
                yield Ok(Bytes::from_static(wire::DONE.as_bytes()));
            }
            Some(err) => {
                let end = call::finish("failed", &usage, estimated, &ctx, Some(ttfb), Some(provider_ttfb)).with_error(&err.to_string());
                state.recorder.finish_call_committed(id, end).await;
                let kind = if err.client_status() == 429 { "rate_limit_error" } else { "api_error" };
                yield Ok(Bytes::from(wire::stream_error(&err.to_string(), kind)));
            }
        }
    }
}
