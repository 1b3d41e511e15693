//! Client dialects: the request bodies clients send, and the answers, stream frames and errors
//! they get back, for each API the Hub speaks. A chat dialect is one type implementing
//! [`ChatDialect`]; `routes::chat::serve` runs any of them through the core engine, so adding a
//! dialect is one module here plus its route. None of them calls a provider.

pub mod aigne;
pub mod anthropic;
pub mod gemini;
pub mod legacy;
pub mod media;
pub mod openai;
pub mod responses;

#[cfg(test)]
mod snapshots;

/// Tests: the field a 400 names (any other error fails the test).
#[cfg(test)]
pub(crate) fn field_of(err: ApiError) -> String {
    match err {
        ApiError::Invalid { field, .. } => field.unwrap_or_default(),
        other => panic!("not a 400: {other:?}"),
    }
}

/// Tests: a tool-using stream in the Hub's events — reasoning, two text deltas, one call in two
/// fragments, the finish.
#[cfg(test)]
pub(crate) fn tool_stream() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Reasoning("hmm".into()),
        StreamEvent::Text("Hel".into()),
        StreamEvent::Text("lo".into()),
        StreamEvent::ToolCall {
            index: 0,
            id: Some("call_1".into()),
            name: Some("f".into()),
            arguments: "{\"a\"".into(),
        },
        StreamEvent::ToolCall {
            index: 0,
            id: None,
            name: None,
            arguments: ":1}".into(),
        },
        StreamEvent::Finish {
            reason: "tool_calls".into(),
        },
    ]
}

use crate::error::{ApiError, ApiResult};
use actix_web::HttpRequest;
use hub_core::engine::Done;
use hub_core::engine::context::CallContext;
use hub_core::engine::relay::Encoder;
use hub_core::providers::types::{ChatRequest, ChatResponse, StreamEvent};
use hub_core::routing::ModelRef;

/// `err` in the shape of the dialect `path` belongs to (Anthropic's Messages, Gemini's models,
/// else the one OpenAI-style shape), for errors raised before a route runs (a body too large).
pub fn error_body_for_path(path: &str, err: &ApiError) -> String {
    if path.ends_with("/messages") || path.ends_with("/messages/count_tokens") {
        anthropic::error_body(err)
    } else if path.contains("/v1beta/") || (path.contains("/models/") && path.contains(':')) {
        gemini::error_body(err)
    } else {
        err.body()
    }
}

/// What the engine needs to know of a body before it becomes the internal request.
pub struct Heading<O> {
    /// The model the client named (`None`: the Hub's default chat model).
    pub model: Option<String>,
    /// The client wants the answer as a stream.
    pub stream: bool,
    /// What the answer's encoders need from the body (kept after it is consumed).
    pub options: O,
}

/// One client chat API.
pub trait ChatDialect: 'static {
    /// The dialect's name in the call log (`model_calls.dialect`).
    const NAME: &'static str;
    /// The body clients send (deserialised by the route's extractor).
    type Body;
    /// What the answer needs from the body, e.g. whether to send usage.
    type Options: Send + 'static;
    /// The stream encoder of one call.
    type Stream: Encoder;

    /// Reads the body's model, streaming flag and answer options (`req`: for headers such as
    /// `Accept`).
    fn heading(body: &Self::Body, req: &HttpRequest) -> Heading<Self::Options>;

    /// The internal request for `model` (its provider, when the client named one, and the model
    /// id without the prefix); a bad body is a 400 naming the field. `req`: for what a dialect
    /// forwards from the request itself (a native body, its provider's headers).
    fn into_chat(body: Self::Body, model: &ModelRef, req: &HttpRequest) -> ApiResult<ChatRequest>;

    /// The JSON body of a call with one answer.
    fn answer(
        done: &Done<ChatResponse>,
        chat: &ChatRequest,
        ctx: &CallContext,
        options: &Self::Options,
    ) -> Vec<u8>;

    /// The content type of a stream's body (some clients ask for something other than SSE).
    fn stream_content_type(_options: &Self::Options) -> &'static str {
        "text/event-stream"
    }

    /// The encoder of a stream whose `first` upstream event has arrived from
    /// `model_with_provider` (`provider/model` of the attempt that answered).
    fn stream(
        first: &StreamEvent,
        model_with_provider: &str,
        ctx: &CallContext,
        options: Self::Options,
    ) -> Self::Stream;

    /// The body of an error answered before a stream begins (its status is the error's). Every
    /// dialect today reads the one `{"error": {…}}` shape; a dialect whose clients expect another
    /// overrides this.
    fn error(err: &ApiError) -> String {
        err.body()
    }
}
