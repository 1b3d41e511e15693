//! What every gateway call records: its context (who, which app, which request) and the
//! `model_calls` row of each attempt.

use crate::auth::Identity;
use crate::billing::{Rate, credits};
use crate::http::{Arrived, RequestId};
use crate::providers::UpstreamError;
use crate::providers::types::Usage;
use crate::routing::Attempt;
use crate::usage::{CallFinish, CallStart};
use actix_web::{HttpMessage, HttpRequest};
use chrono::Utc;
use serde::Serialize;
use std::time::Instant;

pub const APP_DID_HEADER: &str = "x-aigne-hub-client-did";

pub struct CallContext {
    /// When the request arrived.
    pub started: Instant,
    /// Authentication and body parsing, before the handler ran.
    pub auth_ms: f64,
    pub user_did: String,
    /// The caller's role (for the `users` row a first billed call creates).
    pub role: &'static str,
    pub app_did: Option<String>,
    pub request_id: String,
    pub trace_id: Option<String>,
    pub endpoint: String,
    /// The model name as the client sent it.
    pub requested_model: String,
    pub stream: bool,
    pub instance_id: String,
    /// `model_calls.type` of this call's rows.
    pub kind: &'static str,
    /// Where the app mounts the Hub (`http::mount`), for links the answer carries.
    pub mount: String,
}

impl CallContext {
    pub fn new(
        req: &HttpRequest,
        me: &Identity,
        requested_model: String,
        stream: bool,
        instance_id: &str,
    ) -> Self {
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
            started,
            auth_ms: started.elapsed().as_secs_f64() * 1000.0,
            user_did: me.user_did.clone(),
            role: me.role.as_str(),
            app_did: header(APP_DID_HEADER),
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
            mount: crate::http::mount::prefix(req).to_owned(),
        }
    }

    /// The same context for a call of another type (embedding, image, video, audio).
    pub fn of(mut self, modality: crate::providers::Modality) -> Self {
        self.kind = modality.call_type();
        self
    }

    pub fn elapsed_ms(&self) -> i64 {
        self.started.elapsed().as_millis() as i64
    }

    /// The `processing` row of an attempt.
    pub fn start_row(&self, id: &str, attempt: &Attempt, upstream_model: &str) -> CallStart {
        let now = Utc::now().naive_utc();
        CallStart {
            id: id.to_owned(),
            provider_id: Some(attempt.provider.id.clone()),
            model: format!("{}/{}", attempt.provider.kind.name(), upstream_model),
            credential_id: attempt.credential.as_ref().map(|c| c.id.clone()),
            kind: self.kind.into(),
            status: "processing".into(),
            total_usage: 0,
            usage_metrics: None,
            credits: "0".into(),
            duration_ms: None,
            ttfb_ms: None,
            provider_ttfb_ms: None,
            error_reason: None,
            app_did: self.app_did.clone(),
            user_did: Some(self.user_did.clone()),
            request_id: Some(self.request_id.clone()),
            trace_id: self.trace_id.clone(),
            metadata: Some(json_text(&CallMetadata {
                endpoint: &self.endpoint,
                original_model: &self.requested_model,
                attempt: attempt.number,
                stream: self.stream,
            })),
            call_time: now.into(),
            created_at: now.into(),
            instance_id: Some(self.instance_id.clone()),
        }
    }
}

/// `model_calls.metadata`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallMetadata<'a> {
    endpoint: &'a str,
    original_model: &'a str,
    attempt: u32,
    stream: bool,
}

/// `model_calls.usage_metrics`.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetrics {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
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

/// JSON text of a plain struct (cannot fail: string keys, no maps of other keys).
pub fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `model_calls.type` (and the rate type) of chat and completion calls.
pub const CHAT_KIND: &str = "chatCompletion";

/// The credits of `usage` at `rate` (0 for a model without a rate, which only happens with
/// billing off), as stored.
pub fn credits(usage: &Usage, rate: Option<&Rate>) -> String {
    rate.map_or_else(
        || "0".to_owned(),
        |r| credits::text(credits::chat(usage, r)),
    )
}

/// The end of a successful (or partially successful) attempt.
pub fn finish(
    status: &str,
    usage: &Usage,
    estimated: bool,
    ctx: &CallContext,
    ttfb_ms: Option<i64>,
    provider_ttfb_ms: Option<i64>,
    rate: Option<&Rate>,
) -> CallFinish {
    let metrics = UsageMetrics {
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        cache_read_tokens: usage.cache_read_tokens,
        cache_write_tokens: usage.cache_write_tokens,
        estimated: estimated.then_some(true),
        ..UsageMetrics::default()
    };
    CallFinish {
        status: status.into(),
        total_usage: usage.total() as i64,
        usage_metrics: Some(json_text(&metrics)),
        credits: credits(usage, rate),
        duration_ms: Some(ctx.elapsed_ms()),
        ttfb_ms,
        provider_ttfb_ms,
        error_reason: None,
    }
}

/// The credits of a non-chat call (SPEC §9): embeddings like chat; images n × output + prompt ×
/// input; video seconds × output; audio: tokens like chat, plus characters of speech and seconds
/// of transcribed audio at the input rate.
pub fn measured_credits(
    modality: crate::providers::Modality,
    m: &crate::providers::media::Measure,
    rate: &Rate,
) -> rust_decimal::Decimal {
    use crate::providers::Modality;
    let zero = rust_decimal::Decimal::ZERO;
    match modality {
        Modality::Chat | Modality::Embedding => credits::chat(&m.usage, rate),
        Modality::Image => credits::images(m.images, m.usage.prompt_tokens, rate),
        Modality::Video => credits::video(m.seconds.unwrap_or(zero), rate),
        Modality::Speech | Modality::Transcription => {
            credits::audio(&m.usage, m.characters, m.seconds.unwrap_or(zero), rate)
        }
    }
}

/// The end of a successful non-chat attempt.
pub fn finish_measured(
    modality: crate::providers::Modality,
    m: &crate::providers::media::Measure,
    ctx: &CallContext,
    upstream_ms: i64,
    rate: Option<&Rate>,
) -> CallFinish {
    let metrics = UsageMetrics {
        prompt_tokens: m.usage.prompt_tokens,
        completion_tokens: m.usage.completion_tokens,
        cache_read_tokens: m.usage.cache_read_tokens,
        cache_write_tokens: m.usage.cache_write_tokens,
        estimated: None,
        images: (m.images > 0).then_some(m.images),
        seconds: m.seconds.map(|s| s.normalize().to_string()),
        characters: (m.characters > 0).then_some(m.characters),
    };
    let total = m.usage.total() + m.images + m.characters;
    CallFinish {
        status: "success".into(),
        total_usage: total as i64,
        usage_metrics: Some(json_text(&metrics)),
        credits: rate.map_or_else(
            || "0".to_owned(),
            |r| credits::text(measured_credits(modality, m, r)),
        ),
        duration_ms: Some(ctx.elapsed_ms()),
        ttfb_ms: Some(ctx.elapsed_ms()),
        provider_ttfb_ms: Some(upstream_ms),
        error_reason: None,
    }
}

/// The end of a failed attempt; `reason` is the upstream error as [`reason`] writes it.
pub fn failed(reason: &str, ctx: &CallContext, provider_ttfb_ms: Option<i64>) -> CallFinish {
    finish(
        "failed",
        &Usage::default(),
        false,
        ctx,
        None,
        provider_ttfb_ms,
        None,
    )
    .with_error(reason)
}

/// An upstream error as the call's row and the credential's recorded error keep it: with the
/// attempt's key masked wherever the provider quoted it.
pub fn reason(err: &UpstreamError, attempt: &crate::routing::Attempt) -> String {
    let text = err.to_string();
    match &attempt.credential {
        Some(c) => crate::secrets::scrub(&text, secrecy::ExposeSecret::expose_secret(&c.secret)),
        None => text,
    }
}

/// What the client sees for an upstream failure: the provider's message, except for rejected
/// keys, whose messages may quote part of the key.
pub fn client_error(err: &UpstreamError) -> crate::error::ApiError {
    use crate::providers::FailureClass;
    if matches!(err, UpstreamError::Stopped) {
        return crate::error::ApiError::Unavailable(err.to_string());
    }
    let message = match (err, err.class()) {
        (
            UpstreamError::Status {
                provider, status, ..
            },
            FailureClass::Credential,
        ) => {
            format!(
                "{provider} rejected the hub's credential ({status}); an administrator must check it"
            )
        }
        _ => err.to_string(),
    };
    crate::error::ApiError::Upstream {
        status: err.client_status(),
        message,
    }
}
