//! Chat through the engine: one answer, or a stream opened at its first event.

use super::context::CallContext;
use super::{Answer, Done, Engine, OpenRow, Operation};
use crate::billing::credits;
use crate::error::CoreError;
use crate::providers::media::Measure;
use crate::providers::types::{ChatRequest, ChatResponse, StreamEvent};
use crate::providers::{EventStream, Modality, Timeouts, UpstreamError};
use crate::routing::Plan;
use futures_util::StreamExt;

/// A stream whose first upstream event has arrived (nothing has reached the client yet).
pub struct Opened {
    pub call_id: String,
    pub first: StreamEvent,
    pub events: EventStream,
    pub provider_ttfb_ms: i64,
    pub model_with_provider: String,
    pub row: OpenRow,
}

/// Runs the chat's attempts until one answers; its row is committed before this returns.
///
/// The attempt loop's state is ~5 KB (the provider's request future alone ~1.8 KB) and lives in
/// a box: a future is copied whole each time it moves (into its caller's state, into the HTTP
/// server's boxed handler future), and unboxed it made every handler future that awaits it as
/// large (docs/performance.md).
pub async fn complete(
    engine: &Engine,
    http: &reqwest::Client,
    timeouts: &Timeouts,
    ctx: &CallContext,
    chat: &ChatRequest,
    plan: &mut Plan,
) -> Result<Done<ChatResponse>, CoreError> {
    let op = Operation {
        modality: Modality::Chat,
        model: &chat.model,
        estimate: |r: &_, d| credits::estimate(chat, r, d),
        send: |up: super::Upstream| async move {
            let response = up
                .provider
                .infer(http, &up.target(), chat, timeouts)
                .await?;
            let measure = Measure::tokens(response.usage);
            Ok(Answer::Finished(response, measure))
        },
    };
    Box::pin(engine.run(ctx, plan, op)).await
}

/// Runs the chat's attempts until one stream yields its first event (boxed, as [`complete`]).
pub async fn open_stream(
    engine: &Engine,
    http: &reqwest::Client,
    timeouts: &Timeouts,
    ctx: &CallContext,
    chat: &ChatRequest,
    plan: &mut Plan,
) -> Result<Opened, CoreError> {
    let op = Operation {
        modality: Modality::Chat,
        model: &chat.model,
        estimate: |r: &_, d| credits::estimate(chat, r, d),
        send: |up: super::Upstream| async move {
            let mut events = up
                .provider
                .infer_stream(http, &up.target(), chat, timeouts)
                .await?;
            match events.next().await {
                Some(Ok(first)) => Ok(Answer::Streaming((first, events))),
                Some(Err(e)) => Err(e),
                None => Err(UpstreamError::Protocol(
                    up.kind().name(),
                    "empty stream".into(),
                )),
            }
        },
    };
    let done = Box::pin(engine.run(ctx, plan, op)).await?;
    let (first, events) = done.output;
    let row = done.open.ok_or_else(|| {
        CoreError::Unavailable("the stream's row was closed before it began".into())
    })?;
    Ok(Opened {
        call_id: done.call_id,
        first,
        events,
        provider_ttfb_ms: done.upstream_ms as i64,
        model_with_provider: done.model_with_provider,
        row,
    })
}
