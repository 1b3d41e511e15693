//! One implementation for every OpenAI-style vendor: openai, deepseek, xai, openrouter, doubao,
//! poe and ollama's OpenAI endpoint. They differ only in base URL (and, for some, headers).

use super::error::UpstreamError;
use super::http::{send_json, send_sse};
use super::types::{ChatRequest, ChatResponse, Native, StreamEvent};
use super::wire::openai_answer::UpstreamResponse;
use super::wire::openai_body::upstream_body;
use super::{EventStream, Target, Timeouts};
use futures_util::StreamExt;

#[derive(Clone)]
pub struct OpenAiCompat {
    pub provider: &'static str,
}

/// `<base>/chat/completions`.
pub fn chat_endpoint(base_url: &str) -> String {
    format!("{}/chat/completions", base_url.trim_end_matches('/'))
}

impl OpenAiCompat {
    /// A Responses request goes to OpenAI as one; other vendors' Responses endpoints differ in
    /// what they support, so they get the Chat Completions translation.
    fn speaks_responses(&self, req: &ChatRequest) -> bool {
        self.provider == "openai" && matches!(req.native, Some(Native::OpenAiResponses { .. }))
    }

    fn request(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        stream: bool,
    ) -> reqwest::RequestBuilder {
        let builder = match target.chat_url {
            Some(url) => http.post(url.clone()),
            None => http.post(chat_endpoint(target.base_url)),
        };
        let mut builder = builder.json(&upstream_body(req, stream));
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
        if self.speaks_responses(req) {
            return super::openai_responses::infer(http, target, req, timeouts).await;
        }
        let parsed: UpstreamResponse = send_json(
            self.provider,
            self.request(http, target, req, false),
            timeouts,
        )
        .await?;
        Ok(parsed.into_internal())
    }

    pub async fn infer_stream(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<EventStream, UpstreamError> {
        if self.speaks_responses(req) {
            return super::openai_responses::infer_stream(http, target, req, timeouts).await;
        }
        let provider = self.provider;
        let mut values =
            Box::pin(send_sse(provider, self.request(http, target, req, true), timeouts).await?);
        Ok(Box::pin(async_stream::stream! {
            let mut started = false;
            let mut batch = Vec::new();
            while let Some(item) = values.next().await {
                let value = match item {
                    Ok(v) => v,
                    Err(e) => { yield Err(e); return; }
                };
                match serde_json::from_value::<UpstreamResponse>(value) {
                    Ok(chunk) => chunk.into_events(&mut started, &mut batch),
                    Err(e) => { yield Err(UpstreamError::Protocol(provider, format!("unreadable chunk: {e}"))); return; }
                }
                for event in batch.drain(..) {
                    yield Ok::<StreamEvent, UpstreamError>(event);
                }
            }
        }))
    }
}
