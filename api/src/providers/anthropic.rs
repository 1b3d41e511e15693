//! Anthropic: `POST {base}/messages` with `x-api-key` and `anthropic-version`.

use super::error::UpstreamError;
use super::openai_compat::send;
use super::sse;
use super::types::{ChatRequest, ChatResponse};
use super::wire::anthropic::{MessageResponse, StreamState, VERSION, request_body};
use super::{EventStream, Target, Timeouts};
use futures_util::StreamExt;

const PROVIDER: &str = "anthropic";

pub struct Anthropic;

impl Anthropic {
    fn request(
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        stream: bool,
    ) -> reqwest::RequestBuilder {
        http.post(format!(
            "{}/messages",
            target.base_url.trim_end_matches('/')
        ))
        .header("x-api-key", target.api_key)
        .header("anthropic-version", VERSION)
        .json(&request_body(req, stream))
    }

    pub async fn infer(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<ChatResponse, UpstreamError> {
        let response = send(PROVIDER, Self::request(http, target, req, false), timeouts).await?;
        let bytes = tokio::time::timeout(timeouts.idle, response.bytes())
            .await
            .map_err(|_| UpstreamError::Timeout(PROVIDER, timeouts.idle))?
            .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("answer broke off: {e}")))?;
        let parsed: MessageResponse = serde_json::from_slice(&bytes)
            .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("unreadable answer: {e}")))?;
        Ok(parsed.into_internal())
    }

    pub async fn infer_stream(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<EventStream, UpstreamError> {
        let response = send(PROVIDER, Self::request(http, target, req, true), timeouts).await?;
        let mut events = Box::pin(sse::events(PROVIDER, response, timeouts.idle));
        Ok(Box::pin(async_stream::stream! {
            let mut state = StreamState::default();
            let mut out = Vec::new();
            while let Some(item) = events.next().await {
                let event = match item {
                    Ok(e) => e,
                    Err(e) => { yield Err(e); return; }
                };
                if event.data.trim().is_empty() {
                    continue;
                }
                let data: serde_json::Value = match serde_json::from_str(&event.data) {
                    Ok(v) => v,
                    Err(e) => { yield Err(UpstreamError::Protocol(PROVIDER, format!("unreadable event: {e}"))); return; }
                };
                if let Err(message) = state.on_event(&data, &mut out) {
                    yield Err(UpstreamError::Protocol(PROVIDER, message));
                    return;
                }
                let done = data.get("type").and_then(|t| t.as_str()) == Some("message_stop");
                for e in out.drain(..) {
                    yield Ok(e);
                }
                if done {
                    return;
                }
            }
            yield Err(UpstreamError::Protocol(PROVIDER, "stream ended before message_stop".into()));
        }))
    }
}
