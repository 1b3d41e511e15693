//! A stream's body: every upstream event handed to the client's encoder as it arrives, a
//! keep-alive comment while the upstream is silent, and the row ended (committed before the last
//! frame goes out) when the stream ends, fails, is cut by the Hub's stop, or is dropped because
//! the client went away.

use super::chat::Opened;
use super::context::CallContext;
use super::payer::Payer;
use super::record::Ending;
use super::{Engine, OpenRow};
use crate::billing::Rate;
use crate::providers::Modality;
use crate::providers::UpstreamError;
use crate::providers::media::Measure;
use crate::providers::types::{StreamEvent, Usage};
use crate::usage::CallStatus;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::time::{Duration, Instant};

/// How a client dialect writes a stream.
pub trait Encoder: Send + 'static {
    /// Frames sent before the first event.
    fn start(&mut self) -> Vec<String>;
    /// The frame of one event, if it has one now.
    fn event(&mut self, event: &StreamEvent) -> Option<String>;
    /// Frames after a complete stream (usage, credits, end marker).
    fn finish(&mut self, end: &StreamEnd<'_>) -> Vec<String>;
    /// The frame for a failure after the stream began.
    fn error(&mut self, err: &UpstreamError) -> String;
}

/// How a complete stream ended: what its answer reports.
pub struct StreamEnd<'a> {
    pub usage: &'a Usage,
    /// The call's id (its `model_calls` row).
    pub call_id: &'a str,
    /// What the call cost (0 without a rate).
    pub credits: rust_decimal::Decimal,
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
            None => (estimate(self.deltas), true),
        }
    }
}

fn estimate(deltas: u64) -> Usage {
    Usage {
        completion_tokens: deltas,
        ..Usage::default()
    }
}

/// Writes a `failed` row if the client goes away before the stream ends.
struct DisconnectGuard {
    engine: Engine,
    id: Option<String>,
    started: Instant,
    deltas: u64,
    rate: Option<Rate>,
    payer: Payer,
}

impl Drop for DisconnectGuard {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let measure = Measure::tokens(estimate(self.deltas));
            let end = Ending {
                status: CallStatus::Failed,
                modality: Modality::Chat,
                measure: &measure,
                estimated: true,
                ttfb_ms: None,
                provider_ttfb_ms: None,
            }
            .row(self.started, self.rate.as_ref())
            .with_error("client disconnected before the stream ended");
            let bill = self.payer.bill_final();
            self.engine.recorder.finish_call(id, end, bill);
        }
    }
}

/// How long a stream may be silent before a keep-alive comment goes out.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The client's body: every upstream event forwarded as it arrives.
pub fn relay<E: Encoder>(
    engine: Engine,
    ctx: CallContext,
    opened: Opened,
    mut encoder: E,
) -> impl Stream<Item = Bytes> {
    async_stream::stream! {
        let Opened { call_id, first, mut events, provider_ttfb_ms, row, .. } = opened;
        let OpenRow { rate, payer } = row;
        let mut seen = Seen::default();
        let mut guard = DisconnectGuard { engine: engine.clone(), id: Some(call_id.clone()), started: ctx.started, deltas: 0, rate: rate.clone(), payer };
        for frame in encoder.start() {
            yield Bytes::from(frame);
        }
        seen.observe(&first);
        if let Some(frame) = encoder.event(&first) {
            yield Bytes::from(frame);
        }
        let ttfb = ctx.elapsed_ms();
        let mut failure: Option<UpstreamError> = None;
        // The Hub's stop ends the stream like an upstream failure: error frame, `failed` row.
        let cut = engine.cut.clone();
        let cut = cut.cancelled();
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
                    yield Bytes::from_static(b": keep-alive\n\n");
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
                        yield Bytes::from(frame);
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
        let measure = Measure::tokens(usage);
        let end = Ending {
            status: if failure.is_none() { CallStatus::Success } else { CallStatus::Failed },
            modality: Modality::Chat,
            measure: &measure,
            estimated,
            ttfb_ms: Some(ttfb),
            provider_ttfb_ms: Some(provider_ttfb_ms),
        }
        .row(ctx.started, rate.as_ref());
        let bill = guard.payer.bill_final();
        match failure {
            None => {
                if ctx.row_committed_by_route {
                    engine.recorder.finish_call(call_id.clone(), end, bill);
                } else {
                    engine.recorder.finish_call_committed(call_id.clone(), end, bill).await;
                }
                let credits = super::record::cost(Modality::Chat, &measure, rate.as_ref());
                for frame in encoder.finish(&StreamEnd { usage: &usage, call_id: &call_id, credits }) {
                    yield Bytes::from(frame);
                }
            }
            Some(err) => {
                let end = end.with_error(&err.to_string());
                engine.recorder.finish_call_committed(call_id, end, bill).await;
                yield Bytes::from(encoder.error(&err));
            }
        }
    }
}
