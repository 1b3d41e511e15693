//! Google Gemini: `POST {base}/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`, key in `x-goog-api-key`.

use super::error::UpstreamError;
use super::http::{send_json, send_sse_frames};
use super::types::{ChatRequest, ChatResponse, Native, StreamEvent};
use super::wire::gemini::{GenerateResponse, StreamState, request_body};
use super::{EventStream, Target, Timeouts};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};

const PROVIDER: &str = "google";

#[derive(Clone)]
pub struct Gemini;

impl Gemini {
    fn request(
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        stream: bool,
    ) -> Result<reqwest::RequestBuilder, UpstreamError> {
        let base = target.base_url.trim_end_matches('/');
        let model = super::url_path::segment(req.model.trim_start_matches("models/"));
        let url = if stream {
            format!("{base}/models/{model}:streamGenerateContent?alt=sse")
        } else {
            format!("{base}/models/{model}:generateContent")
        };
        let builder = http.post(url).header("x-goog-api-key", target.api_key);
        Ok(match &req.native {
            Some(Native::Gemini { body }) => builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(native_body(body)?),
            _ => builder.json(&request_body(req)),
        })
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
        // A client's own body is counted as it wrote it (cached content, built-in tools and
        // thought signatures included); either of countTokens' forms is read as the request.
        let mut inner = match &req.native {
            Some(Native::Gemini { body }) => {
                let mut client: Value = serde_json::from_slice(&native_body(body)?)
                    .map_err(|e| UpstreamError::Protocol(PROVIDER, e.to_string()))?;
                match client.get_mut("generateContentRequest").map(Value::take) {
                    Some(wrapped) if client.get("contents").is_none() => wrapped,
                    _ => client,
                }
            }
            _ => request_body(req),
        };
        if let Some(fields) = inner.as_object_mut() {
            fields.remove("generateContentRequest");
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
        let builder = Self::request(http, target, req, false)?;
        if !matches!(req.native, Some(Native::Gemini { .. })) {
            let parsed: GenerateResponse = send_json(PROVIDER, builder, timeouts).await?;
            return Ok(parsed.into_internal(&req.model));
        }
        // Native: the answer goes back as Gemini wrote it (thought signatures and all); the Hub
        // reads its usage.
        let raw: Value = send_json(PROVIDER, builder, timeouts).await?;
        let parsed = GenerateResponse::deserialize(&raw)
            .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("unreadable answer: {e}")))?;
        let mut out = parsed.into_internal(&req.model);
        out.raw = Some(raw);
        Ok(out)
    }

    pub async fn infer_stream(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<EventStream, UpstreamError> {
        let builder = Self::request(http, target, req, true)?;
        let mut values = Box::pin(send_sse_frames(PROVIDER, builder, timeouts).await?);
        let model = req.model.clone();
        let native = matches!(req.native, Some(Native::Gemini { .. }));
        Ok(Box::pin(async_stream::stream! {
            let mut state = StreamState::default();
            let mut out = Vec::new();
            while let Some(item) = values.next().await {
                let (text, value) = match item {
                    Ok(v) => v,
                    Err(e) => { yield Err(e); return; }
                };
                if native {
                    yield Ok(StreamEvent::Raw(text));
                }
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

/// A client's `generateContent` body as Gemini is sent it: as the client wrote it, but for the
/// Hub's own credential field.
fn native_body(body: &[u8]) -> Result<Vec<u8>, UpstreamError> {
    let mut fields: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("unreadable request: {e}")))?;
    fields.remove("access_token");
    serde_json::to_vec(&fields)
        .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("request: {e}")))
}
