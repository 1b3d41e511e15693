//! The gateway engine shared by every client format: run the plan's attempts with failover,
//! record each attempt, and relay streams through a format-specific encoder. The final row is
//! committed before the last byte of an answer goes out.

use super::call::{self, CallContext};
use super::payer::Payer;
use crate::billing::Rate;
use crate::error::{ApiError, ApiResult};
use crate::providers::types::{ChatRequest, ChatResponse, StreamEvent, Usage};
use crate::providers::{EventStream, Target, UpstreamError};
use crate::routing::{Attempt, Plan};
use crate::state::AppState;
use crate::usage::CallFinish;
use crate::usage::ledger_work::Bill;
use actix_web::web;
use bytes::Bytes;
use futures_util::StreamExt;
use secrecy::ExposeSecret;
use std::time::Instant;

fn target(attempt: &Attempt) -> Target<'_> {
    Target {
        base_url: &attempt.provider.base_url,
        api_key: attempt
            .credential
            .as_ref()
            .map_or("", |c| c.secret.expose_secret()),
        region: attempt.provider.region.as_deref(),
        chat_url: attempt.provider.chat_url.as_ref(),
    }
}

fn no_attempt() -> ApiError {
    ApiError::Unavailable("no usable credential is left for this model".into())
}

/// A finished non-streaming call.
pub struct Completed {
    pub response: ChatResponse,
    pub call_id: String,
    pub upstream_ms: f64,
    /// `provider/model` of the attempt that answered.
    pub model_with_provider: String,
}

pub(crate) fn on_failure(
    state: &AppState,
    ctx: &CallContext,
    attempt: &Attempt,
    id: String,
    err: &UpstreamError,
    bill: Option<Bill>,
) {
    let reason = call::reason(err, attempt);
    state
        .recorder
        .finish_call(id, call::failed(&reason, ctx, None), bill);
    // A call the Hub cut off while stopping says nothing about the route.
    if !matches!(err, UpstreamError::Stopped) {
        state.router.failed(attempt, err.class(), &reason);
    }
}

/// Runs an upstream call unless the Hub's stop cuts it off first.
pub(crate) async fn unless_cut<T>(
    state: &AppState,
    call: impl std::future::Future<Output = Result<T, UpstreamError>>,
) -> Result<T, UpstreamError> {
    tokio::select! {
        biased;
        result = call => result,
        () = state.lifecycle.cut() => Err(UpstreamError::Stopped),
    }
}

/// The attempt's rate. With billing on, an attempt whose model has no rate on its provider is
/// not sent: it would be billed as 0.
pub(crate) fn rate_of(
    state: &AppState,
    attempt: &Attempt,
    model: &str,
    kind: &str,
) -> Result<Option<Rate>, ApiError> {
    let rate = attempt.provider.rate(model, kind).cloned();
    if rate.is_none() && state.settings.billing.enabled {
        return Err(ApiError::invalid(
            "model",
            format!(
                "'{}/{model}' has no rate, and billing is on: an administrator must set its \
                 {} rate (POST /api/ai-providers/{}/model-rates) before it can be used",
                attempt.provider.kind.name(),
                kind,
                attempt.provider.id
            ),
        ));
    }
    Ok(rate)
}

pub(crate) fn on_success(state: &AppState, attempt: &Attempt) {
    state.router.succeeded(attempt);
    if let Some(c) = attempt.credential.as_ref().filter(|c| c.from_db) {
        state.recorder.credential_used(c.id.clone());
    }
}

/// Runs attempts until one answers; its row is committed before this returns.
///
/// The attempt loop's state is ~5 KB (the provider's request future alone ~1.8 KB) and lives in
/// a box: a future is copied whole each time it moves (into its caller's state, into actix's
/// boxed handler future), and unboxed it made every handler future that awaits it as large.
/// Measured: 2–5% more requests per second (A/B, 64 connections; docs/performance.md).
pub async fn complete(
    state: &AppState,
    http: &reqwest::Client,
    ctx: &CallContext,
    chat: &ChatRequest,
    plan: &mut Plan,
) -> ApiResult<Completed> {
    Box::pin(attempts(state, http, ctx, chat, plan)).await
}

async fn attempts(
    state: &AppState,
    http: &reqwest::Client,
    ctx: &CallContext,
    chat: &ChatRequest,
    plan: &mut Plan,
) -> ApiResult<Completed> {
    let mut last: Option<UpstreamError> = None;
    let mut unpriced: Option<ApiError> = None;
    let mut payer = Payer::new(state, ctx);
    while let Some(attempt) = state.router.next(plan) {
        let rate = match rate_of(state, &attempt, &chat.model, call::CHAT_KIND) {
            Ok(rate) => rate,
            Err(e) => {
                unpriced = Some(e);
                continue;
            }
        };
        payer
            .admit(state, rate.as_ref(), |r, d| {
                crate::billing::credits::estimate(chat, r, d)
            })
            .await?;
        let id = uuid::Uuid::now_v7().to_string();
        state
            .recorder
            .start_call(ctx.start_row(&id, &attempt, &chat.model));
        let sent = Instant::now();
        let target = target(&attempt);
        let infer = Box::pin(
            attempt
                .implementation
                .infer(http, &target, chat, &state.timeouts),
        );
        match unless_cut(state, infer).await {
            Ok(response) => {
                let upstream_ms = sent.elapsed().as_secs_f64() * 1000.0;
                on_success(state, &attempt);
                let end = call::finish(
                    "success",
                    &response.usage,
                    false,
                    ctx,
                    Some(ctx.elapsed_ms()),
                    Some(upstream_ms as i64),
                    rate.as_ref(),
                );
                state
                    .recorder
                    .finish_call_committed(id.clone(), end, payer.bill(true))
                    .await;
                return Ok(Completed {
                    response,
                    call_id: id,
                    upstream_ms,
                    model_with_provider: format!("{}/{}", attempt.provider.kind.name(), chat.model),
                });
            }
            Err(err) => {
                on_failure(state, ctx, &attempt, id, &err, payer.bill(false));
                let retry = err.retryable();
                last = Some(err);
                if !retry {
                    break;
                }
            }
        }
    }
    Err(not_answered(last, unpriced))
}

/// Why no attempt answered: the last upstream failure, else a missing rate, else no credential.
pub(crate) fn not_answered(last: Option<UpstreamError>, unpriced: Option<ApiError>) -> ApiError {
    match (last, unpriced) {
        (Some(e), _) => call::client_error(&e),
        (None, Some(e)) => e,
        (None, None) => no_attempt(),
    }
}

/// A stream whose first upstream event has arrived (nothing has reached the client yet).
pub struct Opened {
    pub call_id: String,
    pub first: StreamEvent,
    pub events: EventStream,
    pub provider_ttfb_ms: i64,
    pub model_with_provider: String,
    pub rate: Option<Rate>,
    pub payer: Payer,
}

/// Runs attempts until one stream yields its first event (boxed, as [`complete`]).
pub async fn open_stream(
    state: &AppState,
    http: &reqwest::Client,
    ctx: &CallContext,
    chat: &ChatRequest,
    plan: &mut Plan,
) -> ApiResult<Opened> {
    Box::pin(stream_attempts(state, http, ctx, chat, plan)).await
}

async fn stream_attempts(
    state: &AppState,
    http: &reqwest::Client,
    ctx: &CallContext,
    chat: &ChatRequest,
    plan: &mut Plan,
) -> ApiResult<Opened> {
    let mut last: Option<UpstreamError> = None;
    let mut unpriced: Option<ApiError> = None;
    let mut payer = Payer::new(state, ctx);
    while let Some(attempt) = state.router.next(plan) {
        let rate = match rate_of(state, &attempt, &chat.model, call::CHAT_KIND) {
            Ok(rate) => rate,
            Err(e) => {
                unpriced = Some(e);
                continue;
            }
        };
        payer
            .admit(state, rate.as_ref(), |r, d| {
                crate::billing::credits::estimate(chat, r, d)
            })
            .await?;
        let id = uuid::Uuid::now_v7().to_string();
        state
            .recorder
            .start_call(ctx.start_row(&id, &attempt, &chat.model));
        let sent = Instant::now();
        let target = target(&attempt);
        let opened = Box::pin(attempt.implementation.infer_stream(
            http,
            &target,
            chat,
            &state.timeouts,
        ));
        let first = unless_cut(state, async {
            let mut events = opened.await?;
            match events.next().await {
                Some(Ok(event)) => Ok((event, events)),
                Some(Err(e)) => Err(e),
                None => Err(UpstreamError::Protocol(
                    attempt.provider.kind.name(),
                    "empty stream".into(),
                )),
            }
        })
        .await;
        match first {
            Ok((first, events)) => {
                on_success(state, &attempt);
                return Ok(Opened {
                    call_id: id,
                    first,
                    events,
                    provider_ttfb_ms: sent.elapsed().as_millis() as i64,
                    model_with_provider: format!("{}/{}", attempt.provider.kind.name(), chat.model),
                    rate,
                    payer,
                });
            }
            Err(err) => {
                on_failure(state, ctx, &attempt, id, &err, payer.bill(false));
                let retry = err.retryable();
                last = Some(err);
                if !retry {
                    break;
                }
            }
        }
    }
    Err(not_answered(last, unpriced))
}

/// A client wire format for streams.
pub trait Encoder: Send + 'static {
    /// Frames sent before the first event.
    fn start(&mut self) -> Vec<String>;
    /// The frame of one event, if it has one now.
    fn event(&mut self, event: &StreamEvent) -> Option<String>;
    /// Frames after a complete stream (usage, end marker).
    fn finish(&mut self, usage: &Usage, call_id: &str) -> Vec<String>;
    /// The frame for a failure after the stream began.
    fn error(&mut self, err: &UpstreamError) -> String;
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
struct DisconnectGuard {
    state: web::Data<AppState>,
    id: Option<String>,
    started: Instant,
    deltas: u64,
    rate: Option<Rate>,
    payer: Payer,
}

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let usage = Usage {
                completion_tokens: self.deltas,
                ..Usage::default()
            };
            let end = CallFinish {
                status: "failed".into(),
                total_usage: usage.total() as i64,
                usage_metrics: Some(call::json_text(&call::UsageMetrics {
                    completion_tokens: usage.completion_tokens,
                    estimated: Some(true),
                    ..call::UsageMetrics::default()
                })),
                credits: call::credits(&usage, self.rate.as_ref()),
                duration_ms: Some(self.started.elapsed().as_millis() as i64),
                ttfb_ms: None,
                provider_ttfb_ms: None,
                error_reason: None,
            }
            .with_error("client disconnected before the stream ended");
            let bill = self.payer.bill(true);
            self.state.recorder.finish_call(id, end, bill);
        }
    }
}

/// How long a stream may be silent before a keep-alive comment goes out.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// The client's body: every upstream event forwarded as it arrives.
pub fn relay<E: Encoder>(
    state: web::Data<AppState>,
    ctx: CallContext,
    opened: Opened,
    mut encoder: E,
) -> impl futures_util::Stream<Item = Result<Bytes, ApiError>> {
    async_stream::stream! {
        let Opened { call_id, first, mut events, provider_ttfb_ms, rate, payer, .. } = opened;
        let mut seen = Seen::default();
        let mut guard = DisconnectGuard { state: state.clone(), id: Some(call_id.clone()), started: ctx.started, deltas: 0, rate: rate.clone(), payer };
        for frame in encoder.start() {
            yield Ok(Bytes::from(frame));
        }
        seen.observe(&first);
        if let Some(frame) = encoder.event(&first) {
            yield Ok(Bytes::from(frame));
        }
        let ttfb = ctx.elapsed_ms();
        let mut failure: Option<UpstreamError> = None;
        // The Hub's stop ends the stream like an upstream failure: error frame, `failed` row.
        let lifecycle = state.lifecycle.clone();
        let cut = lifecycle.cut();
        tokio::pin!(cut);
        loop {
            // A comment keeps proxies and clients from timing out while the upstream is silent
            // (the provider's own idle deadline still applies).
            let next = tokio::select! {
                biased;
                next = tokio::time::timeout(KEEP_ALIVE, events.next()) => next,
                () = &mut cut => Ok(Some(Err(UpstreamError::Stopped))),
            };
            let item = match next {
                Err(_) => {
                    yield Ok(Bytes::from_static(b": keep-alive\n\n"));
                    continue;
                }
                Ok(None) => break,
                Ok(Some(item)) => item,
            };
            match item {
                Ok(event) => {
                    seen.observe(&event);
                    guard.deltas = seen.deltas;
                    if let Some(frame) = encoder.event(&event) {
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
                let end = call::finish("success", &usage, estimated, &ctx, Some(ttfb), Some(provider_ttfb_ms), rate.as_ref());
                let bill = guard.payer.bill(true);
                state.recorder.finish_call_committed(call_id.clone(), end, bill).await;
                for frame in encoder.finish(&usage, &call_id) {
                    yield Ok(Bytes::from(frame));
                }
            }
            Some(err) => {
                let end = call::finish("failed", &usage, estimated, &ctx, Some(ttfb), Some(provider_ttfb_ms), rate.as_ref()).with_error(&err.to_string());
                let bill = guard.payer.bill(true);
                state.recorder.finish_call_committed(call_id, end, bill).await;
                yield Ok(Bytes::from(encoder.error(&err)));
            }
        }
    }
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
