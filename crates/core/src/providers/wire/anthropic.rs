//! Anthropic Messages API on the wire: request building from the internal request, answers and
//! stream events back to internal types.
//!
//! Mapping: system messages → `system`; tool results → `tool_result` blocks in a user turn;
//! consecutive turns of one role are merged (the API wants alternation); OpenAI `prompt_tokens`
//! semantics are kept internally: prompt = input + cache writes + cache reads.

use crate::providers::types::{
    ChatRequest, ChatResponse, Part, ResponseFormat, Role, StreamEvent, ToolCall, ToolChoice, Usage,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub const VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; this is used when the client sets none.
pub const DEFAULT_MAX_TOKENS: u64 = 8192;

fn image_block(url: &str) -> Value {
    match url.strip_prefix("data:").and_then(|r| r.split_once(',')) {
        Some((meta, data)) => {
            let media = meta.split(';').next().unwrap_or("image/png");
            json!({"type": "image", "source": {"type": "base64", "media_type": media, "data": data}})
        }
        None => json!({"type": "image", "source": {"type": "url", "url": url}}),
    }
}

fn blocks(parts: &[Part]) -> Vec<Value> {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(t) => json!({"type": "text", "text": t}),
            Part::Image { url, .. } => image_block(url),
            Part::File { data, mime_type, .. } if mime_type.starts_with("image/") => {
                json!({"type": "image", "source": {"type": "base64", "media_type": mime_type, "data": data}})
            }
            Part::File { data, mime_type, .. } if mime_type == "text/plain" => {
                json!({"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": decode_text(data)}})
            }
            Part::File { data, mime_type, .. } => {
                json!({"type": "document", "source": {"type": "base64", "media_type": mime_type, "data": data}})
            }
        })
        .collect()
}

fn decode_text(b64: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default()
}

/// The request body (`stream` adds `"stream": true`).
pub fn request_body(req: &ChatRequest, stream: bool) -> Value {
    let mut system: Vec<Value> = Vec::new();
    let mut turns = super::Turns::default();
    let mut push = |role: &str, content: Vec<Value>| turns.push(role, content);
    for m in &req.messages {
        match m.role {
            Role::System => system.extend(blocks(&m.content)),
            Role::User => push("user", blocks(&m.content)),
            Role::Assistant => {
                let mut content = blocks(&m.content);
                for call in &m.tool_calls {
                    let input: Value =
                        serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({}));
                    content.push(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}));
                }
                push("assistant", content);
            }
            Role::Tool => push(
                "user",
                vec![json!({
                    "type": "tool_result",
                    "tool_use_id": m.tool_call_id.clone().unwrap_or_default(),
                    "content": m.text(),
                })],
            ),
        }
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            system.push(json!({"type": "text", "text": "Answer with a single JSON object and nothing else."}));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => system.push(json!({
            "type": "text",
            "text": format!("Answer with a single JSON value that matches this JSON Schema, and nothing else: {schema}"),
        })),
        _ => {}
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert(
        "max_tokens".into(),
        json!(req.sampling.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    body.insert(
        "messages".into(),
        Value::Array(
            turns
                .0
                .into_iter()
                .map(|(role, content)| json!({"role": role, "content": content}))
                .collect(),
        ),
    );
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    if !req.tools.is_empty() {
        let tools = req
            .tools
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "description": t.description.clone().unwrap_or_default(),
                    "input_schema": t.parameters.clone().unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                })
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = &req.tool_choice {
        let v = match choice {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Required => json!({"type": "any"}),
            ToolChoice::Function(name) => json!({"type": "tool", "name": name}),
        };
        body.insert("tool_choice".into(), v);
    }
    let s = &req.sampling;
    if let Some(t) = s.temperature {
        body.insert("temperature".into(), json!(t.min(1.0)));
    }
    if let Some(p) = s.top_p {
        body.insert("top_p".into(), json!(p));
    }
    if !s.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(s.stop));
    }
    if let Some(user) = &s.user {
        body.insert("metadata".into(), json!({"user_id": user}));
    }
    if stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    Value::Object(body)
}

#[derive(Debug, Deserialize, Default, Clone, Copy)]
pub struct WireUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    #[serde(default)]
    pub cache_read_input_tokens: u64,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        Usage {
            reasoning_tokens: 0,
            prompt_tokens: u.input_tokens
                + u.cache_creation_input_tokens
                + u.cache_read_input_tokens,
            completion_tokens: u.output_tokens,
            cache_read_tokens: u.cache_read_input_tokens,
            cache_write_tokens: u.cache_creation_input_tokens,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct MessageResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub content: Vec<Value>,
    pub stop_reason: Option<String>,
    #[serde(default)]
    pub usage: WireUsage,
}

pub fn finish_reason(stop: &str) -> String {
    match stop {
        "end_turn" | "stop_sequence" | "pause_turn" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        other => other,
    }
    .to_owned()
}

impl MessageResponse {
    pub fn into_internal(self) -> ChatResponse {
        let mut text = String::new();
        let mut thinking = String::new();
        let mut tool_calls = Vec::new();
        for block in &self.content {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => text.push_str(
                    block
                        .get("text")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                ),
                Some("thinking") => thinking.push_str(
                    block
                        .get("thinking")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                ),
                Some("tool_use") => tool_calls.push(ToolCall {
                    id: block
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    name: block
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    arguments: block
                        .get("input")
                        .map_or_else(|| "{}".to_owned(), Value::to_string),
                }),
                _ => {}
            }
        }
        ChatResponse {
            raw: None,
            id: self.id,
            model: self.model,
            created: chrono::Utc::now().timestamp(),
            content: (!text.is_empty() || tool_calls.is_empty()).then_some(text),
            reasoning: (!thinking.is_empty()).then_some(thinking),
            tool_calls,
            finish_reason: self.stop_reason.as_deref().map(finish_reason),
            usage: self.usage.into(),
        }
    }
}

/// Turns Anthropic stream events into internal events. Keeps what later events need: the usage
/// of `message_start`, and which content blocks are tool calls.
#[derive(Default)]
pub struct StreamState {
    usage: WireUsage,
    /// content block index → tool call index
    tool_blocks: Vec<(u64, u32)>,
    next_tool: u32,
}

impl StreamState {
    /// `Err(message)` for an `error` event.
    pub fn on_event(&mut self, data: &Value, out: &mut Vec<StreamEvent>) -> Result<(), String> {
        match data.get("type").and_then(Value::as_str).unwrap_or_default() {
            "message_start" => {
                let message = &data["message"];
                if let Ok(u) = serde_json::from_value::<WireUsage>(message["usage"].clone()) {
                    self.usage = u;
                }
                out.push(StreamEvent::Start {
                    id: message["id"].as_str().unwrap_or_default().to_owned(),
                    model: message["model"].as_str().unwrap_or_default().to_owned(),
                    created: chrono::Utc::now().timestamp(),
                });
            }
            "content_block_start" => {
                let block = &data["content_block"];
                if block["type"] == "tool_use" {
                    let index = data["index"].as_u64().unwrap_or_default();
                    let tool = self.next_tool;
                    self.next_tool += 1;
                    self.tool_blocks.push((index, tool));
                    out.push(StreamEvent::ToolCall {
                        index: tool,
                        id: block["id"].as_str().map(str::to_owned),
                        name: block["name"].as_str().map(str::to_owned),
                        arguments: String::new(),
                    });
                }
            }
            "content_block_delta" => {
                let delta = &data["delta"];
                match delta["type"].as_str().unwrap_or_default() {
                    "text_delta" => out.push(StreamEvent::Text(
                        delta["text"].as_str().unwrap_or_default().to_owned(),
                    )),
                    "thinking_delta" => {
                        out.push(StreamEvent::Reasoning(
                            delta["thinking"].as_str().unwrap_or_default().to_owned(),
                        ));
                    }
                    "input_json_delta" => {
                        let index = data["index"].as_u64().unwrap_or_default();
                        if let Some((_, tool)) = self.tool_blocks.iter().find(|(b, _)| *b == index)
                        {
                            out.push(StreamEvent::ToolCall {
                                index: *tool,
                                id: None,
                                name: None,
                                arguments: delta["partial_json"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_owned(),
                            });
                        }
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(stop) = data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    out.push(StreamEvent::Finish {
                        reason: finish_reason(stop),
                    });
                }
                if let Some(n) = data.pointer("/usage/output_tokens").and_then(Value::as_u64) {
                    self.usage.output_tokens = n;
                }
                for (key, slot) in [
                    ("input_tokens", &mut self.usage.input_tokens),
                    (
                        "cache_creation_input_tokens",
                        &mut self.usage.cache_creation_input_tokens,
                    ),
                    (
                        "cache_read_input_tokens",
                        &mut self.usage.cache_read_input_tokens,
                    ),
                ] {
                    if let Some(n) = data["usage"][key].as_u64().filter(|n| *n > 0) {
                        *slot = n;
                    }
                }
            }
            "message_stop" => out.push(StreamEvent::Usage(self.usage.into())),
            "error" => {
                return Err(data
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("error in stream")
                    .to_owned());
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::{Message, Sampling, Tool};

    fn msg(role: Role, text: &str) -> Message {
        Message {
            role,
            content: vec![Part::Text(text.into())],
            tool_calls: vec![],
            tool_call_id: None,
            name: None,
        }
    }

    #[test]
    fn builds_system_tools_and_tool_results() {
        let mut assistant = msg(Role::Assistant, "checking");
        assistant.tool_calls.push(ToolCall {
            id: "toolu_1".into(),
            name: "weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        });
        let mut tool = msg(Role::Tool, r#"{"temp":20}"#);
        tool.tool_call_id = Some("toolu_1".into());
        let req = ChatRequest {
            native: None,
            model: "claude-sonnet-4".into(),
            messages: vec![
                msg(Role::System, "be brief"),
                msg(Role::User, "weather?"),
                assistant,
                tool,
                msg(Role::User, "thanks"),
            ],
            tools: vec![Tool {
                name: "weather".into(),
                description: None,
                parameters: None,
                strict: None,
            }],
            tool_choice: Some(ToolChoice::Required),
            response_format: None,
            sampling: Sampling::default(),
            extra: Map::new(),
        };
        let body = request_body(&req, true);
        assert_eq!(body["system"][0]["text"], "be brief");
        assert_eq!(body["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(body["stream"], true);
        assert_eq!(body["tool_choice"], json!({"type": "any"}));
        let messages = body["messages"].as_array().expect("messages");
        assert_eq!(
            messages.len(),
            3,
            "tool result and the next user text merge into one user turn"
        );
        assert_eq!(
            messages[1]["content"][1],
            json!({"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}})
        );
        assert_eq!(messages[2]["content"][0]["type"], "tool_result");
        assert_eq!(messages[2]["content"][1]["text"], "thanks");
        assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
    }

    #[test]
    fn stream_events_with_tools_and_cache_usage() {
        let mut state = StreamState::default();
        let mut out = Vec::new();
        for event in [
            json!({"type": "message_start", "message": {"id": "msg_1", "model": "claude", "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"a\":"}}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 7}}),
            json!({"type": "message_stop"}),
        ] {
            state.on_event(&event, &mut out).expect("ok");
        }
        assert!(matches!(&out[0], StreamEvent::Start { id, .. } if id == "msg_1"));
        assert_eq!(out[1], StreamEvent::Text("Hi".into()));
        assert!(matches!(
            &out[2],
            StreamEvent::ToolCall {
                index: 0,
                id: Some(_),
                ..
            }
        ));
        assert!(
            matches!(&out[3], StreamEvent::ToolCall { index: 0, arguments, .. } if arguments == "{\"a\":")
        );
        assert_eq!(
            out[4],
            StreamEvent::Finish {
                reason: "tool_calls".into()
            }
        );
        assert_eq!(
            out[5],
            StreamEvent::Usage(Usage {
                reasoning_tokens: 0,
                prompt_tokens: 15,
                completion_tokens: 7,
                cache_read_tokens: 5,
                cache_write_tokens: 0
            })
        );
        assert!(state.on_event(&json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}), &mut out).is_err());
    }
}
