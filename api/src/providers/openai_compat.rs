//! One implementation for every OpenAI-style vendor: openai, deepseek, xai, openrouter, doubao,
//! poe and ollama's OpenAI endpoint. They differ only in base URL (and, for some, headers).

use super::error::UpstreamError;
use super::sse;
use super::types::{ChatRequest, ChatResponse, StreamEvent};
use super::wire::openai::{UpstreamResponse, upstream_body};
use super::{EventStream, Target, Timeouts, upstream_error};
use futures_util::StreamExt;

pub struct OpenAiCompat {
    pub provider: &'static str,
}

impl OpenAiCompat {
    fn request(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        stream: bool,
    ) -> reqwest::RequestBuilder {
        let url = format!("{}/chat/completions", target.base_url.trim_end_matches('/'));
        let mut builder = http.post(url).json(&upstream_body(req, stream));
        if !target.api_key.is_empty() {
            builder = builder.bearer_auth(target.api_key);
        }
        if self.provider == "openrouter" {
            builder = builder.header("X-Title", "AIGNE Hub");
        }
        builder
    }

    pub async fn infer(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<ChatResponse, UpstreamError> {
        let response = send(
            self.provider,
            self.request(http, target, req, false),
            timeouts,
        )
        .await?;
        let bytes = tokio::time::timeout(timeouts.idle, response.bytes())
            .await
            .map_err(|_| UpstreamError::Timeout(self.provider, timeouts.idle))?
            .map_err(|e| {
                UpstreamError::Protocol(self.provider, format!("answer broke off: {e}"))
            })?;
        let parsed: UpstreamResponse = serde_json::from_slice(&bytes).map_err(|e| {
            UpstreamError::Protocol(self.provider, format!("unreadable answer: {e}"))
        })?;
        Ok(parsed.into_internal())
    }

    pub async fn infer_stream(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<EventStream, UpstreamError> {
        let provider = self.provider;
        let response = send(provider, self.request(http, target, req, true), timeouts).await?;
        let mut events = Box::pin(sse::events(provider, response, timeouts.idle));
        let stream = async_stream::stream! {
            let mut started = false;
            let mut batch = Vec::new();
            while let Some(item) = events.next().await {
                let event = match item {
                    Ok(event) => event,
                    Err(e) => { yield Err(e); return; }
                };
                let data = event.data.trim();
                if data.is_empty() {
                    continue;
                }
                if data == "[DONE]" {
                    return;
                }
                let value: serde_json::Value = match serde_json::from_str(data) {
                    Ok(v) => v,
                    Err(e) => { yield Err(UpstreamError::Protocol(provider, format!("unreadable chunk: {e}"))); return; }
                };
                if let Some(err) = value.get("error") {
                    let message = err.get("message").and_then(|m| m.as_str()).unwrap_or("error in stream").to_owned();
                    yield Err(UpstreamError::Protocol(provider, message));
                    return;
                }
                let chunk: UpstreamResponse = match serde_json::from_value(value) {
                    Ok(c) => c,
                    Err(e) => { yield Err(UpstreamError::Protocol(provider, format!("unreadable chunk: {e}"))); return; }
                };
                chunk.into_events(&mut started, &mut batch);
                for event in batch.drain(..) {
                    yield Ok::<StreamEvent, UpstreamError>(event);
                }
            }
        };
        Ok(Box::pin(stream))
    }
}

/// Sends with the time-to-first-byte deadline; a non-2xx answer becomes `UpstreamError::Status`.
pub async fn send(
    provider: &'static str,
    builder: reqwest::RequestBuilder,
    timeouts: &Timeouts,
) -> Result<reqwest::Response, UpstreamError> {
    let response = tokio::time::timeout(timeouts.ttfb, builder.send())
        .await
        .map_err(|_| UpstreamError::Timeout(provider, timeouts.ttfb))?
        .map_err(|e| {
            if e.is_timeout() {
                UpstreamError::Timeout(provider, timeouts.ttfb)
            } else {
                UpstreamError::Connect(provider, without_url(&e))
            }
        })?;
    if response.status().is_success() {
        return Ok(response);
    }
    Err(upstream_error(provider, response, timeouts).await)
}

/// reqwest's innermost cause, without the URL (which may carry a key in a query string).
fn without_url(e: &reqwest::Error) -> String {
    let mut message = if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
    .to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message = s.to_string();
        source = s.source();
    }
    message
}
