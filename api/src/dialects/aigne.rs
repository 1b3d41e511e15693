//! The AIGNE-native chat format (`POST /api/v2/chat`), as `@aigne/aigne-hub`'s
//! `AIGNEHubChatModel` sends and reads it (SPEC §5.3).

use crate::error::ApiError;
use crate::providers::types::{
    ChatRequest, ChatResponse, Message, Part, ResponseFormat, Role, Sampling, StreamEvent, Tool,
    ToolCall, ToolChoice, Usage,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Debug, Deserialize)]
pub struct AigneChatRequest {
    pub input: AigneInput,
    pub agent: Option<String>,
    pub options: Option<AigneOptions>,
    pub model: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AigneOptions {
    #[serde(default)]
    pub streaming: Option<bool>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct AigneInput {
    pub messages: Vec<AigneMessage>,
    pub tools: Option<Vec<Value>>,
    #[serde(alias = "toolChoice")]
    pub tool_choice: Option<Value>,
    #[serde(alias = "responseFormat")]
    pub response_format: Option<Value>,
    #[serde(alias = "modelOptions")]
    pub model_options: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct AigneMessage {
    pub role: String,
    #[serde(default)]
    pub content: Option<Value>,
    pub name: Option<String>,
    #[serde(alias = "toolCalls")]
    pub tool_calls: Option<Vec<Value>>,
    #[serde(alias = "toolCallId")]
    pub tool_call_id: Option<String>,
}

impl AigneChatRequest {
    pub fn streaming(&self) -> bool {
        self.options
            .as_ref()
            .and_then(|o| o.streaming)
            .unwrap_or(false)
    }

    /// `input.modelOptions.model` ‖ body `model`.
    pub fn model(&self) -> Option<String> {
        self.input
            .model_options
            .as_ref()
            .and_then(|o| o.get("model"))
            .and_then(Value::as_str)
            .or(self.model.as_deref())
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
    }

    pub fn wants_json(&self) -> bool {
        self.input
            .response_format
            .as_ref()
            .and_then(|f| f.get("type"))
            .and_then(Value::as_str)
            == Some("json_schema")
    }
}

fn part(field: &str, v: &Value) -> Result<Part, ApiError> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    match v.get("type").and_then(Value::as_str).unwrap_or_default() {
        "text" => s("text")
            .map(Part::Text)
            .ok_or_else(|| ApiError::invalid(format!("{field}.text"), "is required")),
        "file" => {
            let data = s("data").ok_or_else(|| {
                ApiError::invalid(format!("{field}.data"), "is required (base64)")
            })?;
            let (mime_type, data) =
                super::openai::split_data_url(&data, v.get("mimeType").and_then(Value::as_str));
            if mime_type.starts_with("image/") {
                Ok(Part::Image {
                    url: format!("data:{mime_type};base64,{data}"),
                    detail: None,
                })
            } else {
                Ok(Part::File {
                    data,
                    mime_type,
                    filename: s("filename"),
                })
            }
        }
        "url" | "image_url" => {
            let url = s("url")
                .or_else(|| {
                    v.pointer("/image_url/url")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .ok_or_else(|| ApiError::invalid(format!("{field}.url"), "is required"))?;
            Ok(Part::Image { url, detail: None })
        }
        other => Err(ApiError::invalid(
            format!("{field}.type"),
            format!("'{other}' is not one of text, file, url"),
        )),
    }
}

fn tool_call(field: &str, v: &Value) -> Result<ToolCall, ApiError> {
    let function = v
        .get("function")
        .ok_or_else(|| ApiError::invalid(format!("{field}.function"), "is required"))?;
    let name = function
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid(format!("{field}.function.name"), "is required"))?;
    let arguments = match function.get("arguments") {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    Ok(ToolCall {
        id: v
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        name: name.to_owned(),
        arguments,
    })
}

impl AigneChatRequest {
    pub fn into_internal(self, upstream_model: String) -> Result<ChatRequest, ApiError> {
        let input = self.input;
        if input.messages.is_empty() {
            return Err(ApiError::invalid(
                "input.messages",
                "must contain at least one message",
            ));
        }
        let mut messages = Vec::with_capacity(input.messages.len());
        for (i, m) in input.messages.into_iter().enumerate() {
            let field = format!("input.messages[{i}]");
            let role = match m.role.as_str() {
                "system" => Role::System,
                "user" => Role::User,
                "agent" | "assistant" => Role::Assistant,
                "tool" => Role::Tool,
                other => {
                    return Err(ApiError::invalid(
                        format!("{field}.role"),
                        format!("'{other}' is not one of system, user, agent, tool"),
                    ));
                }
            };
            let content = match &m.content {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::String(s)) => vec![Part::Text(s.clone())],
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(j, p)| part(&format!("{field}.content[{j}]"), p))
                    .collect::<Result<_, _>>()?,
                // Tool results are sometimes objects: send them as JSON text.
                Some(other) if role == Role::Tool => vec![Part::Text(other.to_string())],
                Some(_) => {
                    return Err(ApiError::invalid(
                        format!("{field}.content"),
                        "must be a string or an array of parts",
                    ));
                }
            };
            let tool_calls = m
                .tool_calls
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(j, c)| tool_call(&format!("{field}.toolCalls[{j}]"), c))
                .collect::<Result<Vec<_>, _>>()?;
            if role == Role::Tool && m.tool_call_id.is_none() {
                return Err(ApiError::invalid(
                    format!("{field}.toolCallId"),
                    "is required for a tool message",
                ));
            }
            messages.push(Message {
                role,
                content,
                tool_calls,
                tool_call_id: m.tool_call_id,
                name: m.name,
            });
        }
        let tools = input
            .tools
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let f = t.get("function").unwrap_or(t);
                let name = f
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| {
                        ApiError::invalid(format!("input.tools[{i}].function.name"), "is required")
                    })?;
                Ok(Tool {
                    name: name.to_owned(),
                    description: f
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    parameters: f.get("parameters").cloned(),
                    strict: f.get("strict").and_then(Value::as_bool),
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let tool_choice = match input.tool_choice {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match s.as_str() {
                "auto" => Some(ToolChoice::Auto),
                "none" => Some(ToolChoice::None),
                "required" => Some(ToolChoice::Required),
                // The real client may name a tool directly.
                name => Some(ToolChoice::Function(name.to_owned())),
            },
            Some(v) => Some(ToolChoice::Function(
                v.pointer("/function/name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "input.toolChoice",
                            "must be auto, none, required or {type:function,function:{name}}",
                        )
                    })?
                    .to_owned(),
            )),
        };
        let response_format = match input.response_format {
            None | Some(Value::Null) => None,
            Some(v) => match v.get("type").and_then(Value::as_str) {
                Some("text") => Some(ResponseFormat::Text),
                Some("json_object") => Some(ResponseFormat::JsonObject),
                Some("json_schema") => {
                    let js = v
                        .get("jsonSchema")
                        .or_else(|| v.get("json_schema"))
                        .cloned()
                        .unwrap_or_else(|| json!({}));
                    Some(ResponseFormat::JsonSchema {
                        name: js
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("output")
                            .to_owned(),
                        schema: js.get("schema").cloned().unwrap_or_else(|| json!({})),
                        strict: js.get("strict").and_then(Value::as_bool),
                    })
                }
                _ => {
                    return Err(ApiError::invalid(
                        "input.responseFormat.type",
                        "must be one of text, json_object, json_schema",
                    ));
                }
            },
        };
        let opts = input.model_options.unwrap_or_default();
        let num = |k: &str| opts.get(k).and_then(Value::as_f64);
        let sampling = Sampling {
            temperature: num("temperature"),
            top_p: num("topP"),
            max_tokens: opts.get("maxTokens").and_then(Value::as_u64),
            stop: Vec::new(),
            presence_penalty: num("presencePenalty"),
            frequency_penalty: num("frequencyPenalty"),
            seed: opts.get("seed").and_then(Value::as_i64),
            reasoning_effort: opts.get("reasoningEffort").and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
            user: None,
        };
        Ok(ChatRequest {
            native: None,
            model: upstream_model,
            messages,
            tools,
            tool_choice,
            response_format,
            sampling,
            extra: Map::new(),
        })
    }
}

fn tool_calls_json(calls: &[ToolCall]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| {
                let args: Value = serde_json::from_str(&c.arguments).unwrap_or_else(|_| json!({}));
                json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": args}})
            })
            .collect(),
    )
}

/// `{inputTokens, outputTokens, cache…?, aigneHubCredits, modelCallId}`.
pub fn usage_json(u: &Usage, call_id: &str, credits: f64) -> Value {
    let mut v = json!({
        "inputTokens": u.prompt_tokens,
        "outputTokens": u.completion_tokens,
        "aigneHubCredits": credits,
        "modelCallId": call_id,
    });
    if u.cache_write_tokens > 0 {
        v["cacheCreationInputTokens"] = json!(u.cache_write_tokens);
    }
    if u.cache_read_tokens > 0 {
        v["cacheReadInputTokens"] = json!(u.cache_read_tokens);
    }
    v
}

/// The non-streaming answer.
pub fn answer_json(
    res: &ChatResponse,
    model: &str,
    model_with_provider: &str,
    wants_json: bool,
    call_id: &str,
    credits: f64,
) -> Value {
    let mut out = Map::new();
    let text = res.content.clone().unwrap_or_default();
    match wants_json
        .then(|| serde_json::from_str::<Value>(text.trim()).ok())
        .flatten()
    {
        Some(parsed) => {
            out.insert("json".into(), parsed);
        }
        None if !text.is_empty() => {
            out.insert("text".into(), Value::String(text));
        }
        None => {}
    }
    if !res.tool_calls.is_empty() {
        out.insert("toolCalls".into(), tool_calls_json(&res.tool_calls));
    }
    if let Some(t) = &res.reasoning {
        out.insert("thoughts".into(), Value::String(t.clone()));
    }
    out.insert("model".into(), Value::String(model.to_owned()));
    out.insert(
        "modelWithProvider".into(),
        Value::String(model_with_provider.to_owned()),
    );
    out.insert("usage".into(), usage_json(&res.usage, call_id, credits));
    Value::Object(out)
}

/// Stream frames: model first, text/thought deltas as they come, tool calls (whole, with object
/// arguments) and structured output at the end, usage last. Errors after the start are
/// `event: error`. Never `[DONE]`.
pub struct FrameWriter {
    pub model_with_provider: String,
    pub wants_json: bool,
    calls: Vec<ToolCall>,
    text: String,
}

fn frame(v: Value) -> String {
    format!("data: {v}\n\n")
}

impl FrameWriter {
    pub fn new(model_with_provider: String, wants_json: bool) -> Self {
        FrameWriter {
            model_with_provider,
            wants_json,
            calls: Vec::new(),
            text: String::new(),
        }
    }

    pub fn start(&self) -> String {
        frame(json!({"delta": {"json": {"model": self.model_with_provider}}}))
    }

    pub fn event(&mut self, event: &StreamEvent) -> Option<String> {
        match event {
            StreamEvent::Text(t) if self.wants_json => {
                self.text.push_str(t);
                None
            }
            StreamEvent::Text(t) => Some(frame(json!({"delta": {"text": {"text": t}}}))),
            StreamEvent::Reasoning(r) => Some(frame(json!({"delta": {"text": {"thoughts": r}}}))),
            StreamEvent::ToolCall {
                index,
                id,
                name,
                arguments,
            } => {
                let i = *index as usize;
                while self.calls.len() <= i {
                    self.calls.push(ToolCall {
                        id: String::new(),
                        name: String::new(),
                        arguments: String::new(),
                    });
                }
                let call = &mut self.calls[i];
                if let Some(id) = id {
                    call.id = id.clone();
                }
                if let Some(name) = name {
                    call.name = name.clone();
                }
                call.arguments.push_str(arguments);
                None
            }
            _ => None,
        }
    }

    pub fn finish(&mut self, usage: &Usage, call_id: &str, credits: f64) -> Vec<String> {
        let mut frames = Vec::new();
        if !self.calls.is_empty() {
            frames.push(frame(
                json!({"delta": {"json": {"toolCalls": tool_calls_json(&self.calls)}}}),
            ));
        }
        if self.wants_json {
            match serde_json::from_str::<Value>(self.text.trim()) {
                Ok(v) => frames.push(frame(json!({"delta": {"json": {"json": v}}}))),
                Err(_) if !self.text.is_empty() => {
                    frames.push(frame(json!({"delta": {"text": {"text": self.text}}})))
                }
                Err(_) => {}
            }
        }
        frames.push(frame(
            json!({"delta": {"json": {"usage": usage_json(usage, call_id, credits)}}}),
        ));
        frames
    }

    pub fn error(message: &str) -> String {
        format!("event: error\ndata: {}\n\n", json!({"message": message}))
    }
}

/// `POST /api/v2/chat`: the AIGNE-native chat `@aigne/aigne-hub` speaks.
pub struct AigneChat;

impl super::ChatDialect for AigneChat {
    const NAME: &'static str = "aigne";
    type Body = AigneChatRequest;
    /// The caller asked for a JSON object (`responseFormat`), answered as `json`.
    type Options = bool;
    type Stream = AigneEncoder;

    fn heading(body: &AigneChatRequest, _req: &actix_web::HttpRequest) -> super::Heading<bool> {
        super::Heading {
            model: body.model(),
            stream: body.streaming(),
            options: body.wants_json(),
        }
    }

    fn into_chat(
        body: AigneChatRequest,
        model: &hub_core::routing::ModelRef,
        _req: &actix_web::HttpRequest,
    ) -> Result<ChatRequest, ApiError> {
        body.into_internal(model.model.clone())
    }

    fn answer(
        done: &hub_core::engine::Done<ChatResponse>,
        chat: &ChatRequest,
        _ctx: &hub_core::engine::context::CallContext,
        wants_json: &bool,
    ) -> Vec<u8> {
        let body = answer_json(
            &done.output,
            &chat.model,
            &done.model_with_provider,
            *wants_json,
            &done.call_id,
            super::media::credits_number(done.credits),
        );
        crate::http::json_body(&body).to_vec()
    }

    fn stream(
        _first: &StreamEvent,
        model_with_provider: &str,
        _ctx: &hub_core::engine::context::CallContext,
        wants_json: bool,
    ) -> AigneEncoder {
        AigneEncoder(FrameWriter::new(model_with_provider.to_owned(), wants_json))
    }
}

pub struct AigneEncoder(FrameWriter);

impl hub_core::engine::relay::Encoder for AigneEncoder {
    fn start(&mut self) -> Vec<String> {
        vec![self.0.start()]
    }

    fn event(&mut self, event: &StreamEvent) -> Option<String> {
        self.0.event(event)
    }

    fn finish(&mut self, end: &hub_core::engine::relay::StreamEnd<'_>) -> Vec<String> {
        self.0.finish(
            end.usage,
            end.call_id,
            super::media::credits_number(end.credits),
        )
    }

    fn error(&mut self, err: &crate::providers::UpstreamError) -> String {
        FrameWriter::error(&err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_real_clients_request() {
        // The shape interop-vectors/hub-chat-mock.mjs shows @aigne/aigne-hub sending.
        let body = json!({
            "input": {
                "messages": [
                    {"role": "system", "content": "You are helpful."},
                    {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "file", "data": "aGVsbG8=", "mimeType": "text/plain", "filename": "a.txt"}]},
                    {"role": "agent", "content": "", "toolCalls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
                    {"role": "tool", "toolCallId": "call_1", "content": "{\"temp\":20}"}
                ],
                "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": {"type": "object"}}}],
                "toolChoice": "auto",
                "modelOptions": {"model": "openai/gpt-5-mini", "temperature": 0.2}
            },
            "agent": "$CHAT_MODEL",
            "options": {"streaming": false, "userContext": {}, "memories": []}
        });
        let req: AigneChatRequest = serde_json::from_value(body).expect("parse");
        assert_eq!(req.model().as_deref(), Some("openai/gpt-5-mini"));
        let chat = req.into_internal("gpt-5-mini".into()).expect("convert");
        assert_eq!(chat.messages[2].role, Role::Assistant);
        assert_eq!(
            chat.messages[2].tool_calls[0].arguments,
            r#"{"city":"Paris"}"#
        );
        assert!(
            matches!(&chat.messages[1].content[1], Part::File { mime_type, .. } if mime_type == "text/plain")
        );
        assert_eq!(chat.sampling.temperature, Some(0.2));
        assert_eq!(chat.tool_choice, Some(ToolChoice::Auto));
    }

    #[test]
    fn frames_tool_calls_at_the_end_with_object_arguments() {
        let mut w = FrameWriter::new("openai/gpt-5-mini".into(), false);
        assert_eq!(
            w.start(),
            "data: {\"delta\":{\"json\":{\"model\":\"openai/gpt-5-mini\"}}}\n\n"
        );
        assert!(w.event(&StreamEvent::Text("Hel".into())).is_some());
        w.event(&StreamEvent::ToolCall {
            index: 0,
            id: Some("c".into()),
            name: Some("f".into()),
            arguments: "{\"a\":".into(),
        });
        w.event(&StreamEvent::ToolCall {
            index: 0,
            id: None,
            name: None,
            arguments: "1}".into(),
        });
        let frames = w.finish(
            &Usage {
                prompt_tokens: 3,
                completion_tokens: 2,
                ..Usage::default()
            },
            "mc1",
            0.25,
        );
        assert!(frames[0].contains(r#""arguments":{"a":1}"#), "{frames:?}");
        assert!(
            frames[1].contains(r#""inputTokens":3"#)
                && frames[1].contains(r#""modelCallId":"mc1""#)
                && frames[1].contains(r#""aigneHubCredits":0.25"#)
        );
        assert!(frames.iter().all(|f| !f.contains("[DONE]")));
    }
}
