//! Google Gemini: `POST {base}/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`, key in `x-goog-api-key`.

use super::error::UpstreamError;
use super::http::{send_json, send_sse};
use super::types::{ChatRequest, ChatResponse, StreamEvent};
use super::wire::gemini::{GenerateResponse, StreamState, request_body};
use super::{EventStream, Target, Timeouts};
use futures_util::StreamExt;

const PROVIDER: &str = "google";

#[derive(Clone)]
pub struct Gemini;

impl Gemini {
    fn request(
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        stream: bool,
    ) -> reqwest::RequestBuilder {
        let base = target.base_url.trim_end_matches('/');
        let model = super::url_path::segment(req.model.trim_start_matches("models/"));
        let url = if stream {
            format!("{base}/models/{model}:streamGenerateContent?alt=sse")
        } else {
            format!("{base}/models/{model}:generateContent")
        };
        http.post(url)
            .header("x-goog-api-key", target.api_key)
            .json(&request_body(req))
    }

    /// Gemini's own count of a request's input tokens (`POST {base}/models/{model}:countTokens`
    /// with the whole request as `generateContentRequest`, so the system instruction and tools
    /// are counted too).
    pub async fn count_tokens(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<u64, UpstreamError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Count {
            total_tokens: u64,
        }
        let base = target.base_url.trim_end_matches('/');
        let model = req.model.trim_start_matches("models/");
        let mut inner = request_body(req);
        if let Some(fields) = inner.as_object_mut() {
            fields.remove("generationConfig");
            fields.insert("model".into(), format!("models/{model}").into());
        }
        let builder = http
            .post(format!(
                "{base}/models/{}:countTokens",
                super::url_path::segment(model)
            ))
            .header("x-goog-api-key", target.api_key)
            .json(&serde_json::json!({ "generateContentRequest": inner }));
        let count: Count = send_json(PROVIDER, builder, timeouts).await?;
        Ok(count.total_tokens)
    }

    pub async fn infer(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<ChatResponse, UpstreamError> {
        let parsed: GenerateResponse =
            send_json(PROVIDER, Self::request(http, target, req, false), timeouts).await?;
        Ok(parsed.into_internal(&req.model))
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
        let model = req.model.clone();
        Ok(Box::pin(async_stream::stream! {
            let mut state = StreamState::default();
            let mut out = Vec::new();
            while let Some(item) = values.next().await {
                let value = match item {
                    Ok(v) => v,
                    Err(e) => { yield Err(e); return; }
                };
                match serde_json::from_value::<GenerateResponse>(value) {
                    Ok(chunk) => state.on_chunk(chunk, &model, &mut out),
                    Err(e) => { yield Err(UpstreamError::Protocol(PROVIDER, format!("unreadable chunk: {e}"))); return; }
                }
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
