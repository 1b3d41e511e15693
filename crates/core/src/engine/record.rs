//! The `model_calls` row of each attempt as it ends: usage, credits, timings, the reason of a
//! failure (with the attempt's key masked).

use super::context::CallContext;
use crate::billing::{Rate, credits};
use crate::providers::media::Measure;
use crate::providers::{Modality, UpstreamError};
use crate::routing::Attempt;
use crate::usage::{CallFinish, CallStatus};
use rust_decimal::Decimal;
use serde::Serialize;
use std::time::Instant;

/// `model_calls.usage_metrics`. Counts that are zero (cache tokens, reasoning tokens) are left
/// out to keep rows small; readers take a missing count as 0.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetrics {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_read_tokens: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_write_tokens: u64,
    /// Of the completion tokens, the reasoning ones (left out when the provider gave none).
    #[serde(skip_serializing_if = "is_zero")]
    pub reasoning_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<u64>,
    /// Seconds of video made or audio transcribed (exact decimal text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub characters: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// JSON text of a plain struct (cannot fail: string keys, no maps of other keys).
pub fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// How an attempt ended, for its row.
pub struct Ending<'a> {
    pub status: CallStatus,
    /// What the call is billed on (its modality says how).
    pub modality: Modality,
    pub measure: &'a Measure,
    /// The usage was counted from the stream (one token per delta), not reported.
    pub estimated: bool,
    pub ttfb_ms: Option<i64>,
    pub provider_ttfb_ms: Option<i64>,
}

impl Ending<'_> {
    /// The row's end for a call that began at `started`, billed at `rate` (none: 0 credits,
    /// which only happens with billing off).
    pub fn row(&self, started: Instant, rate: Option<&Rate>) -> CallFinish {
        let m = self.measure;
        let metrics = UsageMetrics {
            prompt_tokens: m.usage.prompt_tokens,
            completion_tokens: m.usage.completion_tokens,
            cache_read_tokens: m.usage.cache_read_tokens,
            cache_write_tokens: m.usage.cache_write_tokens,
            reasoning_tokens: m.usage.reasoning_tokens,
            estimated: self.estimated.then_some(true),
            images: (m.images > 0).then_some(m.images),
            seconds: m.seconds.map(|s| s.normalize().to_string()),
            characters: (m.characters > 0).then_some(m.characters),
        };
        CallFinish {
            status: self.status.as_str().into(),
            total_usage: (m.usage.total() + m.images + m.characters) as i64,
            usage_metrics: Some(json_text(&metrics)),
            credits: cost(self.modality, m, rate).into(),
            duration_ms: Some(started.elapsed().as_millis() as i64),
            ttfb_ms: self.ttfb_ms,
            provider_ttfb_ms: self.provider_ttfb_ms,
            error_reason: None,
        }
    }
}

/// What `m` costs at `rate` (0 without one).
pub fn cost(modality: Modality, m: &Measure, rate: Option<&Rate>) -> Decimal {
    rate.map_or(Decimal::ZERO, |r| credits::measured(modality, m, r))
}

/// The end of a failed attempt; `reason` is the upstream error as [`reason`] writes it.
pub fn failed(reason: &str, ctx: &CallContext) -> CallFinish {
    Ending {
        status: CallStatus::Failed,
        modality: Modality::Chat,
        measure: &Measure::default(),
        estimated: false,
        ttfb_ms: None,
        provider_ttfb_ms: None,
    }
    .row(ctx.started, None)
    .with_error(reason)
}

/// An upstream error as the call's row and the credential's recorded error keep it: with the
/// attempt's key masked wherever the provider quoted it.
pub fn reason(err: &UpstreamError, attempt: &Attempt) -> String {
    let text = err.to_string();
    match &attempt.credential {
        Some(c) => crate::secrets::scrub(&text, secrecy::ExposeSecret::expose_secret(&c.secret)),
        None => text,
    }
}
