//! Amazon Bedrock's Converse API on the wire: the request body from the internal request, the
//! answer and the ConverseStream events (already unframed from the event stream) back to
//! internal types. Usage keeps OpenAI's meaning: prompt = input + cache reads + cache writes.

use crate::providers::types::{
    ChatRequest, ChatResponse, Part, ResponseFormat, Role, StreamEvent, ToolCall, ToolChoice, Usage,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// `png`, `jpeg`, `gif`, `webp` from a media type.
fn image_format(mime: &str) -> &str {
    mime.strip_prefix("image/")
        .map(|f| if f == "jpg" { "jpeg" } else { f })
        .unwrap_or("png")
}

fn document_format(mime: &str) -> &str {
    match mime {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "text/html" => "html",
        "text/markdown" => "md",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        _ => "txt",
    }
}

fn blocks(parts: &[Part]) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        match p {
            Part::Text(t) if !t.is_empty() => out.push(json!({"text": t})),
            Part::Text(_) => {}
            Part::Image { url, .. } => {
                match url.strip_prefix("data:").and_then(|r| r.split_once(',')) {
                    Some((meta, data)) => {
                        let mime = meta.split(';').next().unwrap_or("image/png");
                        out.push(json!({"image": {"format": image_format(mime), "source": {"bytes": data}}}));
                    }
                    // Bedrock takes bytes (or S3), not web URLs: say so in the prompt instead of
                    // failing the whole call.
                    None => out.push(json!({"text": format!("[image: {url}]")})),
                }
            }
            Part::File {
                data, mime_type, ..
            } if mime_type.starts_with("image/") => out.push(
                json!({"image": {"format": image_format(mime_type), "source": {"bytes": data}}}),
            ),
            Part::File {
                data,
                mime_type,
                filename,
            } => {
                let name = filename
                    .as_deref()
                    .map(|f| {
                        f.chars()
                            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
                            .collect::<String>()
                    })
                    .filter(|f| !f.is_empty())
                    .unwrap_or_else(|| format!("document {}", i + 1));
                out.push(json!({"document": {"format": document_format(mime_type), "name": name, "source": {"bytes": data}}}));
            }
        }
    }
    out
}

/// The Converse (and ConverseStream) request body.
pub fn request_body(req: &ChatRequest) -> Value {
    let mut system: Vec<Value> = Vec::new();
    let mut turns = super::Turns::default();
    for m in &req.messages {
        match m.role {
            Role::System => system.extend(blocks(&m.content)),
            Role::User => turns.push("user", blocks(&m.content)),
            Role::Assistant => {
                let mut content = blocks(&m.content);
                for call in &m.tool_calls {
                    let input: Value =
                        serde_json::from_str(&call.arguments).unwrap_or_else(|_| json!({}));
                    content.push(json!({"toolUse": {"toolUseId": call.id, "name": call.name, "input": input}}));
                }
                turns.push("assistant", content);
            }
            Role::Tool => turns.push(
                "user",
                vec![json!({"toolResult": {
                    "toolUseId": m.tool_call_id.clone().unwrap_or_default(),
                    "content": [{"text": m.text()}],
                }})],
            ),
        }
    }
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            system.push(json!({"text": "Answer with a single JSON object and nothing else."}));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => system.push(json!({
            "text": format!("Answer with a single JSON value that matches this JSON Schema, and nothing else: {schema}"),
        })),
        _ => {}
    }
    let mut body = Map::new();
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
    let s = &req.sampling;
    let mut inference = Map::new();
    if let Some(n) = s.max_tokens {
        inference.insert("maxTokens".into(), json!(n));
    }
    if let Some(t) = s.temperature {
        inference.insert("temperature".into(), json!(t.min(1.0)));
    }
    if let Some(p) = s.top_p {
        inference.insert("topP".into(), json!(p));
    }
    if !s.stop.is_empty() {
        inference.insert("stopSequences".into(), json!(s.stop));
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    let tools_off = matches!(req.tool_choice, Some(ToolChoice::None));
    if !req.tools.is_empty() && !tools_off {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut spec = json!({
                    "name": t.name,
                    "inputSchema": {"json": t.parameters.clone().unwrap_or_else(|| json!({"type": "object", "properties": {}}))},
                });
                if let Some(d) = &t.description {
                    spec["description"] = json!(d);
                }
                json!({"toolSpec": spec})
            })
            .collect();
        let mut config = json!({"tools": tools});
        match &req.tool_choice {
            Some(ToolChoice::Required) => config["toolChoice"] = json!({"any": {}}),
            Some(ToolChoice::Function(name)) => {
                config["toolChoice"] = json!({"tool": {"name": name}})
            }
            Some(ToolChoice::Auto) => config["toolChoice"] = json!({"auto": {}}),
            _ => {}
        }
        body.insert("toolConfig".into(), config);
    }
    Value::Object(body)
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_write_input_tokens: u64,
}

impl WireUsage {
    pub fn internal(self) -> Usage {
        Usage {
            reasoning_tokens: 0,
            prompt_tokens: self.input_tokens
                + self.cache_read_input_tokens
                + self.cache_write_input_tokens,
            completion_tokens: self.output_tokens,
            cache_read_tokens: self.cache_read_input_tokens,
            cache_write_tokens: self.cache_write_input_tokens,
        }
    }
}

/// OpenAI's finish reasons from Bedrock's stop reasons.
fn finish_reason(stop: &str) -> String {
    match stop {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "content_filtered" | "guardrail_intervened" => "content_filter",
        other => other,
    }
    .to_owned()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseResponse {
    output: ConverseOutput,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: WireUsage,
}

#[derive(Deserialize)]
struct ConverseOutput {
    message: ConverseMessage,
}

#[derive(Deserialize)]
struct ConverseMessage {
    #[serde(default)]
    content: Vec<Value>,
}

impl ConverseResponse {
    pub fn into_internal(self, model: &str) -> ChatResponse {
        let mut text = String::new();
        let mut reasoning = String::new();
        let mut tool_calls = Vec::new();
        for block in self.output.message.content {
            if let Some(t) = block.get("text").and_then(Value::as_str) {
                text.push_str(t);
            } else if let Some(u) = block.get("toolUse") {
                tool_calls.push(ToolCall {
                    id: u
                        .get("toolUseId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    name: u
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    arguments: u
                        .get("input")
                        .map_or_else(|| "{}".to_owned(), Value::to_string),
                });
            } else if let Some(r) = block
                .pointer("/reasoningContent/reasoningText/text")
                .and_then(Value::as_str)
            {
                reasoning.push_str(r);
            }
        }
        ChatResponse {
            raw: None,
            id: format!("bedrock-{}", uuid::Uuid::new_v4().simple()),
            model: model.to_owned(),
            created: chrono::Utc::now().timestamp(),
            content: (!text.is_empty() || tool_calls.is_empty()).then_some(text),
            reasoning: (!reasoning.is_empty()).then_some(reasoning),
            tool_calls,
            finish_reason: self.stop_reason.as_deref().map(finish_reason),
            usage: self.usage.internal(),
        }
    }
}

/// The internal events of one ConverseStream event (`event_type` is the `:event-type` header).
pub fn stream_events(event_type: &str, payload: &Value, model: &str, out: &mut Vec<StreamEvent>) {
    match event_type {
        "messageStart" => out.push(StreamEvent::Start {
            id: format!("bedrock-{}", uuid::Uuid::new_v4().simple()),
            model: model.to_owned(),
            created: chrono::Utc::now().timestamp(),
        }),
        "contentBlockStart" => {
            if let Some(u) = payload.pointer("/start/toolUse") {
                out.push(StreamEvent::ToolCall {
                    index: payload
                        .get("contentBlockIndex")
                        .and_then(Value::as_u64)
                        .unwrap_or(0) as u32,
                    id: u
                        .get("toolUseId")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    name: u.get("name").and_then(Value::as_str).map(str::to_owned),
                    arguments: String::new(),
                });
            }
        }
        "contentBlockDelta" => {
            let delta = payload.get("delta").unwrap_or(&Value::Null);
            if let Some(t) = delta.get("text").and_then(Value::as_str) {
                out.push(StreamEvent::Text(t.to_owned()));
            } else if let Some(input) = delta.pointer("/toolUse/input").and_then(Value::as_str) {
                out.push(StreamEvent::ToolCall {
                    index: payload
                        .get("contentBlockIndex")
                        .and_then(Value::as_u64)
                        .unwrap_or(0) as u32,
                    id: None,
                    name: None,
                    arguments: input.to_owned(),
                });
            } else if let Some(r) = delta
                .pointer("/reasoningContent/text")
                .and_then(Value::as_str)
            {
                out.push(StreamEvent::Reasoning(r.to_owned()));
            }
        }
        "messageStop" => {
            if let Some(stop) = payload.get("stopReason").and_then(Value::as_str) {
                out.push(StreamEvent::Finish {
                    reason: finish_reason(stop),
                });
            }
        }
        "metadata" => {
            if let Some(u) = payload.get("usage")
                && let Ok(usage) = serde_json::from_value::<WireUsage>(u.clone())
            {
                out.push(StreamEvent::Usage(usage.internal()));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::{Message, Sampling, Tool};

    fn chat(messages: Vec<Message>) -> ChatRequest {
        ChatRequest {
            native: None,
            model: "anthropic.claude-3-5-haiku-20241022-v1:0".into(),
            messages,
            tools: vec![Tool {
                name: "get_weather".into(),
                description: Some("weather".into()),
                parameters: Some(json!({"type": "object"})),
                strict: None,
            }],
            tool_choice: Some(ToolChoice::Required),
            response_format: None,
            sampling: Sampling {
                max_tokens: Some(100),
                ..Sampling::default()
            },
            extra: Map::new(),
        }
    }

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
    fn body_has_system_turns_tools() {
        let body = request_body(&chat(vec![
            msg(Role::System, "be brief"),
            msg(Role::User, "hi"),
            msg(Role::User, "again"),
        ]));
        assert_eq!(body["system"], json!([{"text": "be brief"}]));
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(1));
        assert_eq!(body["messages"][0]["content"][1]["text"], "again");
        assert_eq!(body["inferenceConfig"]["maxTokens"], 100);
        assert_eq!(
            body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["type"],
            "object"
        );
        assert_eq!(body["toolConfig"]["toolChoice"], json!({"any": {}}));
    }

    #[test]
    fn answer_and_stream_events() {
        let answer: ConverseResponse = serde_json::from_value(json!({
            "output": {"message": {"role": "assistant", "content": [{"text": "Hi"}, {"toolUse": {"toolUseId": "t1", "name": "f", "input": {"a": 1}}}]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15, "cacheReadInputTokens": 2}
        }))
        .expect("answer");
        let r = answer.into_internal("m");
        assert_eq!(r.content.as_deref(), Some("Hi"));
        assert_eq!(r.tool_calls[0].arguments, r#"{"a":1}"#);
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(r.usage.prompt_tokens, 12);
        let mut out = Vec::new();
        stream_events(
            "contentBlockDelta",
            &json!({"contentBlockIndex": 0, "delta": {"text": "He"}}),
            "m",
            &mut out,
        );
        stream_events(
            "metadata",
            &json!({"usage": {"inputTokens": 3, "outputTokens": 4}}),
            "m",
            &mut out,
        );
        assert_eq!(out[0], StreamEvent::Text("He".into()));
        assert!(matches!(out[1], StreamEvent::Usage(u) if u.total() == 7));
    }
}
