//! Server-sent events from upstreams: parsing with `eventsource-stream`, plus the idle deadline.

use super::error::UpstreamError;
use eventsource_stream::{Event, Eventsource};
use futures_util::{Stream, StreamExt};
use std::time::Duration;

/// The data events of an upstream SSE body; each `next` must arrive within `idle`.
pub fn events(
    provider: &'static str,
    response: reqwest::Response,
    idle: Duration,
) -> impl Stream<Item = Result<Event, UpstreamError>> + Send {
    let mut inner = response.bytes_stream().eventsource();
    async_stream::stream! {
        loop {
            match tokio::time::timeout(idle, inner.next()).await {
                Err(_) => {
                    yield Err(UpstreamError::Timeout(provider, idle));
                    break;
                }
                Ok(None) => break,
                Ok(Some(Ok(event))) => yield Ok(event),
                Ok(Some(Err(e))) => {
                    yield Err(UpstreamError::Protocol(provider, format!("stream broke: {e}")));
                    break;
                }
            }
        }
    }
}
