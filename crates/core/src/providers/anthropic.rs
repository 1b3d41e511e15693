//! Anthropic: `POST {base}/messages` with `x-api-key` and `anthropic-version`.

use super::error::UpstreamError;
use super::http::{send_json, send_sse};
use super::types::{ChatRequest, ChatResponse};
use super::wire::anthropic::{MessageResponse, StreamState, VERSION, request_body};
use super::{EventStream, Target, Timeouts};
use futures_util::StreamExt;

const PROVIDER: &str = "anthropic";

#[derive(Clone)]
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

    /// Anthropic's own count of a request's input tokens (`POST {base}/messages/count_tokens`),
    /// which takes the request without its generation settings.
    pub async fn count_tokens(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<u64, UpstreamError> {
        #[derive(serde::Deserialize)]
        struct Count {
            input_tokens: u64,
        }
        let mut body = request_body(req, false);
        if let Some(fields) = body.as_object_mut() {
            for generation in [
                "max_tokens",
                "stream",
                "temperature",
                "top_p",
                "stop_sequences",
                "metadata",
            ] {
                fields.remove(generation);
            }
        }
        let builder = http
            .post(format!(
                "{}/messages/count_tokens",
                target.base_url.trim_end_matches('/')
            ))
            .header("x-api-key", target.api_key)
            .header("anthropic-version", VERSION)
            .json(&body);
        let count: Count = send_json(PROVIDER, builder, timeouts).await?;
        Ok(count.input_tokens)
    }

    pub async fn infer(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<ChatResponse, UpstreamError> {
        let parsed: MessageResponse =
            send_json(PROVIDER, Self::request(http, target, req, false), timeouts).await?;
        Ok(parsed.into_internal())
    }

    pub async fn infer_stream(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<EventStream, UpstreamError> {
        let mut values =
            Box::pin(send_sse(PROVIDER, Self::request(http, target, req, true), timeouts).await?);
        Ok(Box::pin(async_stream::stream! {
            let mut state = StreamState::default();
            let mut out = Vec::new();
            while let Some(item) = values.next().await {
                let data = match item {
                    Ok(v) => v,
                    Err(e) => { yield Err(e); return; }
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
