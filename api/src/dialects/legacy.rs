//! The legacy AI-Kit chat of `/api/v1/chat/completions` and `/api/v1/completions` (SPEC §5.4). In: camelCase (`messages` or `prompt`, `maxTokens`, `topP`, `tools`, `toolChoice`,
//! `responseFormat`). Out: `{role: "assistant", text, content, toolCalls?}`, or with
//! `Accept: text/event-stream` (or `stream: true`) frames `data: {"delta": {...}}` then
//! `data: {"usage": {...}}`, no `[DONE]`, and `data: {"error": {"message"}}` on failure.

use crate::dialects::openai::ChatCompletionRequest;
use crate::error::{ApiError, ApiResult};
use crate::providers::UpstreamError;
use crate::providers::types::{ChatRequest, ChatResponse, StreamEvent};
use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT;
use hub_core::engine::Done;
use hub_core::engine::context::CallContext;
use hub_core::engine::relay::{Encoder, StreamEnd};
use serde_json::{Map, Value, json};

/// The legacy chat: its body (already turned into an OpenAI request by [`to_openai`]) and its
/// answers.
pub struct LegacyChat;

impl super::ChatDialect for LegacyChat {
    const NAME: &'static str = "v1";
    type Body = ChatCompletionRequest;
    type Options = ();
    type Stream = LegacyEncoder;

    fn heading(body: &ChatCompletionRequest, req: &HttpRequest) -> super::Heading<()> {
        let wants_sse = req
            .headers()
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/event-stream"));
        super::Heading {
            model: body.model.clone(),
            stream: wants_sse || body.wants_stream(),
            options: (),
        }
    }

    fn into_chat(
        body: ChatCompletionRequest,
        model: &hub_core::routing::ModelRef,
        _req: &HttpRequest,
    ) -> ApiResult<ChatRequest> {
        body.into_internal(model.model.clone())
    }

    fn answer(done: &Done<ChatResponse>, _: &ChatRequest, _: &CallContext, _: &()) -> Vec<u8> {
        crate::http::json_body(&answer_json(&done.output)).to_vec()
    }

    fn stream(_: &StreamEvent, _: &str, _: &CallContext, _: ()) -> LegacyEncoder {
        LegacyEncoder
    }
}

/// The legacy body as an OpenAI request: `prompt` becomes one user message.
pub fn to_openai(mut body: Map<String, Value>) -> ApiResult<ChatCompletionRequest> {
    body.remove("access_token");
    if !body.contains_key("messages") {
        match body.remove("prompt") {
            Some(Value::String(prompt)) if !prompt.trim().is_empty() => {
                body.insert(
                    "messages".into(),
                    json!([{ "role": "user", "content": prompt }]),
                );
            }
            Some(_) => return Err(ApiError::invalid("prompt", "must be a non-empty string")),
            None => {
                return Err(ApiError::invalid(
                    "messages",
                    "send `messages` (a list) or `prompt` (a string)",
                ));
            }
        }
    }
    let text = Value::Object(body).to_string();
    crate::http::json::parse(text.as_bytes())
}

fn tool_calls_json(calls: &[crate::providers::types::ToolCall]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect(),
    )
}

pub fn answer_json(response: &ChatResponse) -> Value {
    let text = response.content.clone().unwrap_or_default();
    let mut answer = json!({"role": "assistant", "text": text, "content": text});
    if !response.tool_calls.is_empty() {
        answer["toolCalls"] = tool_calls_json(&response.tool_calls);
    }
    answer
}

fn frame(value: &Value) -> String {
    format!("data: {value}\n\n")
}

pub struct LegacyEncoder;

impl Encoder for LegacyEncoder {
    fn start(&mut self) -> Vec<String> {
        Vec::new()
    }

    fn event(&mut self, event: &StreamEvent) -> Option<String> {
        match event {
            StreamEvent::Text(text) if !text.is_empty() => Some(frame(
                &json!({"delta": {"role": "assistant", "content": text}}),
            )),
            StreamEvent::ToolCall {
                index,
                id,
                name,
                arguments,
            } => {
                let mut function = Map::new();
                if let Some(name) = name {
                    function.insert("name".into(), json!(name));
                }
                function.insert("arguments".into(), json!(arguments));
                let mut call = json!({"index": index, "type": "function", "function": function});
                if let Some(id) = id {
                    call["id"] = json!(id);
                }
                Some(frame(
                    &json!({"delta": {"role": "assistant", "toolCalls": [call]}}),
                ))
            }
            _ => None,
        }
    }

    fn finish(&mut self, end: &StreamEnd<'_>) -> Vec<String> {
        let usage = end.usage;
        vec![frame(&json!({"usage": {
            "promptTokens": usage.prompt_tokens,
            "completionTokens": usage.completion_tokens,
            "totalTokens": usage.total(),
        }}))]
    }

    fn error(&mut self, err: &UpstreamError) -> String {
        frame(&json!({"error": {"message": err.to_string()}}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::Usage;

    #[test]
    fn prompt_becomes_a_user_message_and_camel_case_is_read() {
        let body =
            json!({"prompt": "Hi", "maxTokens": 5, "topP": 0.5, "model": "openai/gpt-5-mini"});
        let Value::Object(map) = body else { panic!() };
        let req = to_openai(map).expect("ok");
        assert_eq!(req.max_tokens, Some(5));
        assert_eq!(req.top_p, Some(0.5));
        assert_eq!(req.messages.len(), 1);
        let Value::Object(empty) = json!({"model": "x"}) else {
            panic!()
        };
        assert!(to_openai(empty).is_err());
    }

    #[test]
    fn frames_match_the_legacy_shape() {
        let mut e = LegacyEncoder;
        assert_eq!(
            e.event(&StreamEvent::Text("he".into())).as_deref(),
            Some("data: {\"delta\":{\"content\":\"he\",\"role\":\"assistant\"}}\n\n")
        );
        let usage = Usage {
            prompt_tokens: 3,
            completion_tokens: 4,
            ..Usage::default()
        };
        assert_eq!(
            e.finish(&StreamEnd {
                usage: &usage,
                call_id: "id",
                credits: rust_decimal::Decimal::ZERO
            }),
            vec![
                "data: {\"usage\":{\"completionTokens\":4,\"promptTokens\":3,\"totalTokens\":7}}\n\n"
                    .to_owned()
            ]
        );
    }
}
