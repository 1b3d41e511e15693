//! The OpenAI Chat Completions dialect: what clients send to `/api/v2/chat/completions` and the
//! answers, stream chunks and errors they get back.

mod answer;
mod request;
mod stream;

pub use answer::{Completion, completion_json};
pub use request::{ChatCompletionRequest, StreamOptions, WireMessage, split_data_url};
pub use stream::{ChunkWriter, DONE, stream_error};

use crate::error::ApiError;
use crate::providers::types::{ChatRequest, ChatResponse, StreamEvent};

/// `POST /api/v2/chat/completions`: OpenAI Chat Completions.
pub struct OpenAiChat;

impl super::ChatDialect for OpenAiChat {
    const NAME: &'static str = "openai";
    type Body = ChatCompletionRequest;
    /// `stream_options.include_usage`.
    type Options = bool;
    type Stream = OpenAiEncoder;

    fn heading(
        body: &ChatCompletionRequest,
        _req: &actix_web::HttpRequest,
    ) -> super::Heading<bool> {
        super::Heading {
            model: body.model.clone(),
            stream: body.wants_stream(),
            options: body.include_usage(),
        }
    }

    fn into_chat(
        body: ChatCompletionRequest,
        model: &hub_core::routing::ModelRef,
        _req: &actix_web::HttpRequest,
    ) -> Result<ChatRequest, ApiError> {
        body.into_internal(model.model.clone())
    }

    fn answer(
        done: &hub_core::engine::Done<ChatResponse>,
        _chat: &ChatRequest,
        ctx: &hub_core::engine::context::CallContext,
        _include_usage: &bool,
    ) -> Vec<u8> {
        crate::http::json_body(&completion_json(&done.output, &ctx.requested_model)).to_vec()
    }

    fn stream(
        first: &StreamEvent,
        _model_with_provider: &str,
        ctx: &hub_core::engine::context::CallContext,
        include_usage: bool,
    ) -> OpenAiEncoder {
        let (id, created) = match first {
            StreamEvent::Start { id, created, .. } if !id.is_empty() => (id.clone(), *created),
            _ => (
                format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
                chrono::Utc::now().timestamp(),
            ),
        };
        OpenAiEncoder {
            writer: ChunkWriter {
                id,
                model: ctx.requested_model.clone(),
                created,
            },
            include_usage,
            started: matches!(first, StreamEvent::Start { .. }),
        }
    }
}

pub struct OpenAiEncoder {
    writer: ChunkWriter,
    include_usage: bool,
    /// Whether the stream opens with a `Start` event (which gives the role frame).
    started: bool,
}

impl hub_core::engine::relay::Encoder for OpenAiEncoder {
    fn start(&mut self) -> Vec<String> {
        if self.started {
            return Vec::new();
        }
        let start = StreamEvent::Start {
            id: String::new(),
            model: String::new(),
            created: 0,
        };
        self.writer.event(&start).into_iter().collect()
    }

    fn event(&mut self, event: &StreamEvent) -> Option<String> {
        self.writer.event(event)
    }

    fn finish(&mut self, end: &hub_core::engine::relay::StreamEnd<'_>) -> Vec<String> {
        let mut frames = Vec::new();
        if self.include_usage {
            frames.push(self.writer.usage(end.usage));
        }
        frames.push(DONE.to_owned());
        frames
    }

    fn error(&mut self, err: &crate::providers::UpstreamError) -> String {
        let kind = if err.client_status() == 429 {
            "rate_limit_error"
        } else {
            "api_error"
        };
        stream_error(&err.to_string(), kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::*;
    use crate::providers::wire::openai_answer::UpstreamResponse;
    use crate::providers::wire::openai_body::upstream_body;
    use serde_json::{Value, json};

    fn request(body: Value) -> Result<ChatRequest, ApiError> {
        let wire: ChatCompletionRequest = serde_json::from_value(body).expect("wire");
        wire.into_internal("gpt-5-mini".into())
    }

    #[test]
    fn converts_messages_tools_and_aliases() {
        let req = request(json!({
            "model": "openai/gpt-5-mini",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "42"}
            ],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "toolChoice": "auto",
            "maxTokens": 100,
            "topP": 0.5,
            "logit_bias": {"1": 2}
        }))
        .expect("valid");
        assert_eq!(req.messages.len(), 4);
        assert_eq!(req.messages[2].tool_calls[0].arguments, r#"{"a":1}"#);
        assert_eq!(req.sampling.max_tokens, Some(100));
        assert_eq!(req.sampling.top_p, Some(0.5));
        assert_eq!(req.tool_choice, Some(ToolChoice::Auto));
        let body = serde_json::to_value(upstream_body(&req, true)).expect("body");
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["logit_bias"], json!({"1": 2}));
        assert_eq!(body["max_tokens"], 100);
        assert_eq!(
            body["messages"][1]["content"][1]["image_url"]["url"],
            "https://x/y.png"
        );
        assert_eq!(body["model"], "gpt-5-mini");
    }

    #[test]
    fn names_bad_fields() {
        let field = |v| match request(v) {
            Err(ApiError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(json!({"messages": []})).as_deref(), Some("messages"));
        assert_eq!(
            field(json!({"messages": [{"role": "robot", "content": "x"}]})).as_deref(),
            Some("messages[0].role")
        );
        assert_eq!(
            field(json!({"messages": [{"role": "user", "content": [{"type": "audio"}]}]}))
                .as_deref(),
            Some("messages[0].content[0].type")
        );
        assert_eq!(
            field(json!({"messages": [{"role": "tool", "content": "x"}]})).as_deref(),
            Some("messages[0].tool_call_id")
        );
        assert_eq!(
            field(json!({"messages": [{"role": "user", "content": "x"}], "temperature": 3}))
                .as_deref(),
            Some("temperature")
        );
    }

    #[test]
    fn stream_chunks_become_events() {
        let chunk: UpstreamResponse = serde_json::from_value(json!({
            "id": "c", "model": "m", "created": 1,
            "choices": [{"index": 0, "delta": {"content": "Hel", "tool_calls": [{"index": 0, "id": "t", "function": {"name": "f", "arguments": ""}}]}, "finish_reason": null}]
        }))
        .expect("chunk");
        let mut started = false;
        let mut events = Vec::new();
        chunk.into_events(&mut started, &mut events);
        assert!(matches!(events[0], StreamEvent::Start { .. }));
        assert_eq!(events[1], StreamEvent::Text("Hel".into()));
        assert!(matches!(&events[2], StreamEvent::ToolCall { name: Some(n), .. } if n == "f"));
        let usage: UpstreamResponse = serde_json::from_value(json!({
            "id": "c", "model": "m", "created": 1, "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 2}}
        }))
        .expect("usage");
        let mut events = Vec::new();
        usage.into_events(&mut started, &mut events);
        assert_eq!(
            events,
            vec![StreamEvent::Usage(Usage {
                reasoning_tokens: 0,
                prompt_tokens: 5,
                completion_tokens: 7,
                cache_read_tokens: 2,
                cache_write_tokens: 0
            })]
        );
    }

    /// The typed answer is the same JSON as one built by hand from the OpenAI reference.
    #[test]
    fn completion_json_matches_the_reference_shape() {
        let mut res = ChatResponse {
            raw: None,
            id: "chatcmpl-1".into(),
            model: "gpt-4o-mini-2024".into(),
            created: 1_700_000_000,
            content: Some("Hi \"there\"".into()),
            reasoning: None,
            tool_calls: Vec::new(),
            finish_reason: Some("stop".into()),
            usage: Usage {
                reasoning_tokens: 0,
                prompt_tokens: 12,
                completion_tokens: 7,
                cache_read_tokens: 0,
                cache_write_tokens: 0,
            },
        };
        let plain =
            serde_json::to_value(completion_json(&res, "openai/gpt-4o-mini")).unwrap_or_default();
        assert_eq!(
            plain,
            json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000,
                "model": "openai/gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi \"there\""},
                             "finish_reason": "stop", "logprobs": null}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
            })
        );
        res.content = None;
        res.reasoning = Some("thought".into());
        res.finish_reason = Some("tool_calls".into());
        res.tool_calls = vec![crate::providers::types::ToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: "{\"city\":\"Paris\"}".into(),
        }];
        res.usage.cache_read_tokens = 5;
        let tools = serde_json::to_value(completion_json(&res, "m")).unwrap_or_default();
        assert_eq!(
            tools["choices"][0]["message"],
            json!({"role": "assistant", "content": null, "reasoning_content": "thought",
                   "tool_calls": [{"id": "call_1", "type": "function",
                                   "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]})
        );
        assert_eq!(tools["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            tools["usage"]["prompt_tokens_details"],
            json!({"cached_tokens": 5})
        );
    }
}

#[cfg(test)]
/// The client request read by this dialect, written for an OpenAI-compatible upstream.
mod upstream_body_tests {
    use super::ChatCompletionRequest;
    use crate::providers::types::ChatRequest;
    use crate::providers::wire::openai_body::upstream_body;
    use serde_json::{Value, json};

    fn internal(body: Value) -> ChatRequest {
        let wire: ChatCompletionRequest = serde_json::from_value(body).expect("wire");
        wire.into_internal("gpt-5-mini".into()).expect("valid")
    }

    /// Every branch of the body against what the earlier `serde_json::Value` builder wrote for the
    /// same requests (captured from it before it was replaced).
    #[test]
    fn writes_what_the_value_builder_wrote() {
        let cases = [
            (
                true,
                json!({
                    "model": "x",
                    "messages": [
                        {"role": "system", "content": "be brief"},
                        {"role": "user", "name": "ann", "content": [
                            {"type": "text", "text": "hi \"there\"\n"},
                            {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"}},
                            {"type": "file", "file": {"file_data": "JVBE"}}
                        ]},
                        {"role": "assistant", "content": null, "tool_calls": [
                            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
                            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": ""}}
                        ]},
                        {"role": "tool", "tool_call_id": "c1", "content": "42"},
                        {"role": "assistant", "content": []}
                    ],
                    "tools": [
                        {"type": "function", "function": {"name": "f", "description": "does f", "parameters": {"type": "object"}, "strict": true}},
                        {"type": "function", "function": {"name": "g"}}
                    ],
                    "tool_choice": {"type": "function", "function": {"name": "f"}},
                    "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}, "strict": false}},
                    "temperature": 0.7, "top_p": 0.25, "max_tokens": 100, "presence_penalty": -0.5,
                    "frequency_penalty": 1.5, "seed": -3, "reasoning_effort": "low", "user": "u1",
                    "stop": ["a", "b"], "logit_bias": {"1": 2}, "n": 1, "metadata": {"k": "v"}
                }),
                r#"{"frequency_penalty":1.5,"logit_bias":{"1":2},"max_tokens":100,"messages":[{"content":"be brief","role":"system"},{"content":[{"text":"hi \"there\"\n","type":"text"},{"image_url":{"detail":"low","url":"https://x/y.png"},"type":"image_url"},{"image_url":{"url":"data:image/png;base64,AAAA"},"type":"image_url"},{"file":{"file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"},"type":"file"},{"file":{"file_data":"data:application/octet-stream;base64,JVBE"},"type":"file"}],"name":"ann","role":"user"},{"content":null,"role":"assistant","tool_calls":[{"function":{"arguments":"{\"a\":1}","name":"f"},"id":"c1","type":"function"},{"function":{"arguments":"","name":"g"},"id":"c2","type":"function"}]},{"content":"42","role":"tool","tool_call_id":"c1"},{"content":null,"role":"assistant"}],"metadata":{"k":"v"},"model":"gpt-5-mini","n":1,"presence_penalty":-0.5,"reasoning_effort":"low","response_format":{"json_schema":{"name":"r","schema":{"type":"object"},"strict":false},"type":"json_schema"},"seed":-3,"stop":["a","b"],"stream":true,"stream_options":{"include_usage":true},"temperature":0.7,"tool_choice":{"function":{"name":"f"},"type":"function"},"tools":[{"function":{"description":"does f","name":"f","parameters":{"type":"object"},"strict":true},"type":"function"},{"function":{"name":"g"},"type":"function"}],"top_p":0.25,"user":"u1"}"#,
            ),
            (
                false,
                json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "required", "response_format": {"type": "json_object"}, "stop": "x"}),
                r#"{"messages":[{"content":"hi","role":"user"}],"model":"gpt-5-mini","response_format":{"type":"json_object"},"stop":["x"],"tool_choice":"required"}"#,
            ),
            (
                false,
                json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "none", "response_format": {"type": "text"}}),
                r#"{"messages":[{"content":"hi","role":"user"}],"model":"gpt-5-mini","response_format":{"type":"text"},"tool_choice":"none"}"#,
            ),
            (
                true,
                json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "auto", "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {}}}}),
                r#"{"messages":[{"content":"hi","role":"user"}],"model":"gpt-5-mini","response_format":{"json_schema":{"name":"r","schema":{}},"type":"json_schema"},"stream":true,"stream_options":{"include_usage":true},"tool_choice":"auto"}"#,
            ),
        ];
        for (stream, request, expected) in cases {
            let req = internal(request);
            let written = serde_json::to_string(&upstream_body(&req, stream)).expect("body");
            let written: Value = serde_json::from_str(&written).expect("json");
            let expected: Value = serde_json::from_str(expected).expect("expected");
            assert_eq!(written, expected);
        }
    }

    /// A pass-through parameter never duplicates a key the Hub writes; the Hub's value wins.
    #[test]
    fn own_keys_win_over_pass_through() {
        let mut req =
            internal(json!({"model": "x", "messages": [{"role": "user", "content": "hi"}]}));
        req.extra.insert("model".into(), json!("other"));
        req.extra.insert("stream".into(), json!(false));
        req.extra.insert("logprobs".into(), json!(true));
        let written = serde_json::to_string(&upstream_body(&req, true)).expect("body");
        assert_eq!(written.matches("\"model\"").count(), 1, "{written}");
        assert_eq!(written.matches("\"stream\"").count(), 1, "{written}");
        let v: Value = serde_json::from_str(&written).expect("json");
        assert_eq!(v["model"], "gpt-5-mini");
        assert_eq!(v["stream"], true);
        assert_eq!(v["logprobs"], true);
    }
}
