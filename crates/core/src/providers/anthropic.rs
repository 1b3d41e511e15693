//! Anthropic: `POST {base}/messages` with `x-api-key` and `anthropic-version`.

use super::error::UpstreamError;
use super::http::{send_json, send_sse_frames};
use super::types::{ChatRequest, ChatResponse, Native, StreamEvent};
use super::wire::anthropic::{MessageResponse, StreamState, VERSION, request_body};
use super::{EventStream, Target, Timeouts};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};

const PROVIDER: &str = "anthropic";

#[derive(Clone)]
pub struct Anthropic;

impl Anthropic {
    fn request(
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        stream: bool,
    ) -> Result<reqwest::RequestBuilder, UpstreamError> {
        let builder = http
            .post(format!(
                "{}/messages",
                target.base_url.trim_end_matches('/')
            ))
            .header("x-api-key", target.api_key);
        Ok(match &req.native {
            Some(Native::Anthropic { body, headers }) => {
                let mut builder = builder;
                if !headers.iter().any(|(k, _)| k == "anthropic-version") {
                    builder = builder.header("anthropic-version", VERSION);
                }
                for (name, value) in headers {
                    builder = builder.header(name, value);
                }
                builder
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(native_body(body, &req.model, Some(stream))?)
            }
            _ => builder
                .header("anthropic-version", VERSION)
                .json(&request_body(req, stream)),
        })
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
        let (mut body, headers) = match &req.native {
            Some(Native::Anthropic { body, headers }) => (
                serde_json::from_slice::<Value>(&native_body(body, &req.model, None)?)
                    .map_err(|e| UpstreamError::Protocol(PROVIDER, e.to_string()))?,
                headers.as_slice(),
            ),
            _ => (request_body(req, false), &[][..]),
        };
        if let Some(fields) = body.as_object_mut() {
            for generation in [
                "max_tokens",
                "stream",
                "temperature",
                "top_p",
                "top_k",
                "stop_sequences",
                "metadata",
                "service_tier",
            ] {
                fields.remove(generation);
            }
        }
        let mut builder = http
            .post(format!(
                "{}/messages/count_tokens",
                target.base_url.trim_end_matches('/')
            ))
            .header("x-api-key", target.api_key);
        if !headers.iter().any(|(k, _)| k == "anthropic-version") {
            builder = builder.header("anthropic-version", VERSION);
        }
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let builder = builder.json(&body);
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
        let builder = Self::request(http, target, req, false)?;
        if !matches!(req.native, Some(Native::Anthropic { .. })) {
            let parsed: MessageResponse = send_json(PROVIDER, builder, timeouts).await?;
            return Ok(parsed.into_internal());
        }
        // Native: the answer goes back as Anthropic wrote it; the Hub reads its usage.
        let raw: Value = send_json(PROVIDER, builder, timeouts).await?;
        let parsed = MessageResponse::deserialize(&raw)
            .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("unreadable message: {e}")))?;
        let mut out = parsed.into_internal();
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
        let native = matches!(req.native, Some(Native::Anthropic { .. }));
        Ok(Box::pin(async_stream::stream! {
            let mut state = StreamState::default();
            let mut out = Vec::new();
            while let Some(item) = values.next().await {
                let (text, data) = match item {
                    Ok(v) => v,
                    Err(e) => { yield Err(e); return; }
                };
                if native {
                    // Anthropic names each event by its data's `type`.
                    let kind = data.get("type").and_then(Value::as_str).unwrap_or("message");
                    yield Ok(StreamEvent::Raw(format!("event: {kind}\ndata: {text}\n\n")));
                }
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

/// A client's Messages body as Anthropic is sent it: the upstream model id in `model`, the
/// stream flag the Hub chose (`None`: left out, for counting), and the Hub's own credential
/// fields removed; everything else as the client wrote it.
fn native_body(body: &[u8], model: &str, stream: Option<bool>) -> Result<Vec<u8>, UpstreamError> {
    let mut fields: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("unreadable request: {e}")))?;
    fields.insert("model".into(), Value::String(model.to_owned()));
    fields.remove("access_token");
    match stream {
        Some(stream) => {
            fields.insert("stream".into(), Value::Bool(stream));
        }
        None => {
            fields.remove("stream");
        }
    }
    serde_json::to_vec(&fields)
        .map_err(|e| UpstreamError::Protocol(PROVIDER, format!("request: {e}")))
}
