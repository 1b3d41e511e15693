//! Google Gemini: `POST {base}/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`, key in `x-goog-api-key`.

use super::error::UpstreamError;
use super::openai_compat::send;
use super::sse;
use super::types::{ChatRequest, ChatResponse, StreamEvent};
use super::wire::gemini::{GenerateResponse, StreamState, request_body};
use super::{EventStream, Target, Timeouts};
use futures_util::StreamExt;

const PROVIDER: &str = "google";

pub struct Gemini;

impl Gemini {
    fn request(
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        stream: bool,
    ) -> reqwest::RequestBuilder {
        let base = target.base_url.trim_end_matches('/');
        let model = req.model.trim_start_matches("models/");
        let url = if stream {
            format!("{base}/models/{model}:streamGenerateContent?alt=sse")
        } else {
            format!("{base}/models/{model}:generateContent")
        };
        http.post(url)
            .header("x-goog-api-key", target.api_key)
            .json(&request_body(req))
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
        let parsed: GenerateResponse = serde_json::from_slice(&bytes)
            .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("unreadable answer: {e}")))?;
        Ok(parsed.into_internal(&req.model))
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
        let model = req.model.clone();
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
                let value: serde_json::Value = match serde_json::from_str(&event.data) {
                    Ok(v) => v,
                    Err(e) => { yield Err(UpstreamError::Protocol(PROVIDER, format!("unreadable chunk: {e}"))); return; }
                };
                if let Some(message) = value.pointer("/error/message").and_then(|m| m.as_str()) {
                    yield Err(UpstreamError::Protocol(PROVIDER, message.to_owned()));
                    return;
                }
                let chunk: GenerateResponse = match serde_json::from_value(value) {
                    Ok(c) => c,
                    Err(e) => { yield Err(UpstreamError::Protocol(PROVIDER, format!("unreadable chunk: {e}"))); return; }
                };
                state.on_chunk(chunk, &model, &mut out);
                for e in out.drain(..) {
                    yield Ok(e);
                }
            }
            if let Some(u) = state.usage {
                yield Ok(StreamEvent::Usage(u.into()));
            }
        }))
    }
}
