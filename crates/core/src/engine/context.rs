//! Who is calling and how, for the rows every attempt writes: built by the HTTP layer from the
//! request, read by the engine.

use crate::db::credits::Credits;
use crate::providers::Modality;
use crate::routing::Attempt;
use crate::usage::{CallStart, CallType};
use chrono::Utc;
use serde::Serialize;
use std::time::Instant;

/// `model_calls.type` (and the rate type) of chat and completion calls.
pub const CHAT_KIND: CallType = CallType::ChatCompletion;

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
    pub kind: CallType,
    /// The path prefix the caller reached the Hub under: links an answer carries start with it.
    pub mount: String,
    /// The client dialect the call came in on (`model_calls.dialect`).
    pub dialect: &'static str,
    /// The route commits a successful call's row itself, with a write of its own that it awaits
    /// before answering (a stored Responses turn): the engine queues the row without waiting, and
    /// the writer commits it in that write's batch or an earlier one — one commit, not two.
    pub row_committed_by_route: bool,
}

impl CallContext {
    /// The same context for a call of another type (embedding, image, video, audio).
    pub fn of(mut self, modality: Modality) -> Self {
        self.kind = modality.call_type();
        self
    }

    pub fn elapsed_ms(&self) -> i64 {
        self.started.elapsed().as_millis() as i64
    }

    /// The `processing` row of an attempt.
    pub fn start_row(&self, id: &str, attempt: &Attempt, upstream_model: &str) -> CallStart {
        let now = Utc::now().naive_utc();
        let model = format!("{}/{}", attempt.provider.kind.name(), upstream_model);
        let metadata = super::record::json_text(&CallMetadata {
            endpoint: &self.endpoint,
            original_model: Some(self.requested_model.as_str()).filter(|m| *m != model),
            attempt: attempt.number,
            stream: self.stream,
        });
        CallStart {
            id: id.to_owned(),
            provider_id: Some(attempt.provider.id.clone()),
            model,
            credential_id: attempt.credential.as_ref().map(|c| c.id.clone()),
            kind: self.kind.as_str().into(),
            status: crate::usage::CallStatus::Processing.as_str().into(),
            total_usage: 0,
            usage_metrics: None,
            credits: Credits::ZERO,
            duration_ms: None,
            ttfb_ms: None,
            provider_ttfb_ms: None,
            error_reason: None,
            app_did: self.app_did.clone(),
            user_did: Some(self.user_did.clone()),
            request_id: Some(self.request_id.clone()),
            trace_id: self.trace_id.clone(),
            metadata: Some(metadata),
            call_time: now.into(),
            created_at: now.into(),
            instance_id: Some(self.instance_id.clone()),
            dialect: Some(self.dialect.to_owned()),
        }
    }
}

/// `model_calls.metadata`. What is usual is left out to keep rows small (the call log's view
/// puts it back): `originalModel` when the caller asked for the row's model, `attempt` 1,
/// `stream` false.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallMetadata<'a> {
    endpoint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_model: Option<&'a str>,
    #[serde(skip_serializing_if = "is_first")]
    attempt: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

fn is_first(n: &u32) -> bool {
    *n == 1
}
