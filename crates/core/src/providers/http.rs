//! The HTTP steps every provider shares: send with the time-to-first-byte deadline, read a JSON
//! answer under the idle deadline, and turn an SSE body into JSON values.

use super::error::UpstreamError;
use super::{Timeouts, sse, upstream_error};
use futures_util::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::Value;

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

/// Sends and reads the whole JSON answer.
pub async fn send_json<T: DeserializeOwned>(
    provider: &'static str,
    builder: reqwest::RequestBuilder,
    timeouts: &Timeouts,
) -> Result<T, UpstreamError> {
    let response = send(provider, builder, timeouts).await?;
    let bytes = tokio::time::timeout(timeouts.idle, response.bytes())
        .await
        .map_err(|_| UpstreamError::Timeout(provider, timeouts.idle))?
        .map_err(|e| UpstreamError::Protocol(provider, format!("answer broke off: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| UpstreamError::Protocol(provider, format!("unreadable answer: {e}")))
}

/// Sends and yields the JSON value of every SSE data event; ends at `[DONE]` or the end of the
/// body. An `{"error":{…}}` event becomes an error item.
pub async fn send_sse(
    provider: &'static str,
    builder: reqwest::RequestBuilder,
    timeouts: &Timeouts,
) -> Result<impl Stream<Item = Result<Value, UpstreamError>> + Send + 'static, UpstreamError> {
    let events = send_sse_frames(provider, builder, timeouts).await?;
    Ok(events.map(|item| item.map(|(_, value)| value)))
}

/// [`send_sse`] with each event's `data` text as it arrived, beside its parsed value (for a
/// dialect that forwards the provider's own frames).
pub async fn send_sse_frames(
    provider: &'static str,
    builder: reqwest::RequestBuilder,
    timeouts: &Timeouts,
) -> Result<
    impl Stream<Item = Result<(String, Value), UpstreamError>> + Send + 'static,
    UpstreamError,
> {
    let response = send(provider, builder, timeouts).await?;
    let mut events = Box::pin(sse::events(provider, response, timeouts.idle));
    Ok(async_stream::stream! {
        while let Some(item) = events.next().await {
            let event = match item {
                Ok(e) => e,
                Err(e) => { yield Err(e); return; }
            };
            let data = event.data.trim();
            if data.is_empty() {
                continue;
            }
            if data == "[DONE]" {
                return;
            }
            match serde_json::from_str::<Value>(data) {
                Ok(value) => {
                    if let Some(err) = value.get("error").filter(|e| e.is_object() || e.is_string()) {
                        let message = err.get("message").and_then(Value::as_str).or(err.as_str()).unwrap_or("error in stream");
                        yield Err(UpstreamError::Protocol(provider, message.to_owned()));
                        return;
                    }
                    yield Ok((data.to_owned(), value));
                }
                Err(e) => {
                    yield Err(UpstreamError::Protocol(provider, format!("unreadable event: {e}")));
                    return;
                }
            }
        }
    })
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
