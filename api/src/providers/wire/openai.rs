//! OpenAI Chat Completions on the wire: what clients send to `/api/v2/chat/completions` and what
//! OpenAI-compatible upstreams take and answer. Also accepts the real Hub's camelCase aliases.

use crate::error::ApiError;
use crate::providers::types::{
    ChatRequest, ChatResponse, Message, Part, ResponseFormat, Role, Sampling, StreamEvent, Tool,
    ToolCall, ToolChoice, Usage,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

// ---------- request ----------

#[derive(Debug, Deserialize)]
pub struct ChatCompletionRequest {
    pub model: Option<String>,
    pub messages: Vec<WireMessage>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(alias = "streamOptions")]
    pub stream_options: Option<StreamOptions>,
    pub tools: Option<Vec<WireTool>>,
    #[serde(alias = "toolChoice")]
    pub tool_choice: Option<Value>,
    #[serde(alias = "responseFormat")]
    pub response_format: Option<Value>,
    pub temperature: Option<f64>,
    #[serde(alias = "topP")]
    pub top_p: Option<f64>,
    #[serde(alias = "maxTokens")]
    pub max_tokens: Option<u64>,
    #[serde(alias = "maxCompletionTokens")]
    pub max_completion_tokens: Option<u64>,
    pub stop: Option<Value>,
    #[serde(alias = "presencePenalty")]
    pub presence_penalty: Option<f64>,
    #[serde(alias = "frequencyPenalty")]
    pub frequency_penalty: Option<f64>,
    pub seed: Option<i64>,
    pub user: Option<String>,
    #[serde(alias = "reasoningEffort")]
    pub reasoning_effort: Option<String>,
    /// Everything else passes through to OpenAI-compatible upstreams.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
pub struct StreamOptions {
    #[serde(default, alias = "includeUsage")]
    pub include_usage: bool,
}

#[derive(Debug, Deserialize)]
pub struct WireMessage {
    pub role: String,
    #[serde(default)]
    pub content: Option<Value>,
    pub name: Option<String>,
    #[serde(alias = "toolCalls")]
    pub tool_calls: Option<Vec<WireToolCall>>,
    #[serde(alias = "toolCallId")]
    pub tool_call_id: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct WireToolCall {
    pub id: String,
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: WireFunctionCall,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct WireFunctionCall {
    pub name: String,
    /// JSON text (objects are accepted and serialized).
    #[serde(deserialize_with = "arguments_text")]
    pub arguments: String,
}

fn function_type() -> String {
    "function".to_owned()
}

fn arguments_text<'de, D: serde::Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(de)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

#[derive(Debug, Deserialize)]
pub struct WireTool {
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: WireFunction,
}

#[derive(Debug, Deserialize)]
pub struct WireFunction {
    pub name: String,
    pub description: Option<String>,
    pub parameters: Option<Value>,
    pub strict: Option<bool>,
}

fn role(field: &str, role: &str) -> Result<Role, ApiError> {
    match role {
        "system" | "developer" => Ok(Role::System),
        "user" => Ok(Role::User),
        "assistant" | "agent" => Ok(Role::Assistant),
        "tool" => Ok(Role::Tool),
        other => Err(ApiError::invalid(
            field,
            format!("'{other}' is not one of system, developer, user, assistant, tool"),
        )),
    }
}

fn parts(field: &str, content: Option<Value>) -> Result<Vec<Part>, ApiError> {
    match content {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![Part::Text(s)]),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| part(&format!("{field}[{i}]"), item))
            .collect(),
        Some(_) => Err(ApiError::invalid(
            field,
            "must be a string or an array of content parts",
        )),
    }
}

fn part(field: &str, item: Value) -> Result<Part, ApiError> {
    let kind = item.get("type").and_then(Value::as_str).unwrap_or_default();
    let text_of = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
    match kind {
        "text" | "input_text" => text_of("text")
            .map(Part::Text)
            .ok_or_else(|| ApiError::invalid(format!("{field}.text"), "is required (a string)")),
        "image_url" => {
            let image = item.get("image_url");
            let url = match image {
                Some(Value::String(s)) => Some(s.clone()),
                Some(obj) => obj.get("url").and_then(Value::as_str).map(str::to_owned),
                None => None,
            }
            .ok_or_else(|| {
                ApiError::invalid(format!("{field}.image_url.url"), "is required (a string)")
            })?;
            let detail = image
                .and_then(|i| i.get("detail"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            Ok(Part::Image { url, detail })
        }
        "file" => {
            let file = item.get("file").unwrap_or(&item);
            let data = file
                .get("file_data")
                .or_else(|| file.get("data"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ApiError::invalid(
                        format!("{field}.file.file_data"),
                        "is required (base64 or a data: URL)",
                    )
                })?;
            let (mime_type, data) =
                split_data_url(data, file.get("mimeType").and_then(Value::as_str));
            let filename = file
                .get("filename")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Ok(Part::File {
                data,
                mime_type,
                filename,
            })
        }
        "" => Err(ApiError::invalid(format!("{field}.type"), "is required")),
        other => Err(ApiError::invalid(
            format!("{field}.type"),
            format!("'{other}' is not one of text, image_url, file"),
        )),
    }
}

/// `data:<mime>;base64,<data>` → (mime, data); plain base64 keeps the given mime.
pub fn split_data_url(data: &str, mime: Option<&str>) -> (String, String) {
    if let Some(rest) = data.strip_prefix("data:")
        && let Some((meta, payload)) = rest.split_once(',')
    {
        let mime = meta.split(';').next().unwrap_or("application/octet-stream");
        return (mime.to_owned(), payload.to_owned());
    }
    (
        mime.unwrap_or("application/octet-stream").to_owned(),
        data.to_owned(),
    )
}

fn tool_choice(v: Value) -> Result<ToolChoice, ApiError> {
    match &v {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(ApiError::invalid(
                "tool_choice",
                format!("'{other}' is not one of auto, none, required"),
            )),
        },
        Value::Object(_) => v
            .pointer("/function/name")
            .and_then(Value::as_str)
            .map(|n| ToolChoice::Function(n.to_owned()))
            .ok_or_else(|| ApiError::invalid("tool_choice.function.name", "is required")),
        _ => Err(ApiError::invalid(
            "tool_choice",
            "must be a string or {type:function, function:{name}}",
        )),
    }
}

fn response_format(v: Value) -> Result<ResponseFormat, ApiError> {
    match v.get("type").and_then(Value::as_str) {
        Some("text") => Ok(ResponseFormat::Text),
        Some("json_object") => Ok(ResponseFormat::JsonObject),
        Some("json_schema") => {
            let js = v
                .get("json_schema")
                .or_else(|| v.get("jsonSchema"))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "response_format.json_schema",
                        "is required for type json_schema",
                    )
                })?;
            let name = js
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("response")
                .to_owned();
            let schema = js.get("schema").cloned().unwrap_or_else(|| json!({}));
            let strict = js.get("strict").and_then(Value::as_bool);
            Ok(ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            })
        }
        _ => Err(ApiError::invalid(
            "response_format.type",
            "must be one of text, json_object, json_schema",
        )),
    }
}

impl ChatCompletionRequest {
    pub fn wants_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .is_some_and(|o| o.include_usage)
    }

    /// Validates and converts to the internal request for `upstream_model`.
    pub fn into_internal(self, upstream_model: String) -> Result<ChatRequest, ApiError> {
        if self.messages.is_empty() {
            return Err(ApiError::invalid(
                "messages",
                "must contain at least one message",
            ));
        }
        let messages = self
            .messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let field = format!("messages[{i}]");
                let role = role(&format!("{field}.role"), &m.role)?;
                let content = parts(&format!("{field}.content"), m.content)?;
                let tool_calls = m
                    .tool_calls
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| ToolCall {
                        id: c.id,
                        name: c.function.name,
                        arguments: c.function.arguments,
                    })
                    .collect::<Vec<_>>();
                if role == Role::Tool && m.tool_call_id.is_none() {
                    return Err(ApiError::invalid(
                        format!("{field}.tool_call_id"),
                        "is required for a tool message",
                    ));
                }
                Ok(Message {
                    role,
                    content,
                    tool_calls,
                    tool_call_id: m.tool_call_id,
                    name: m.name,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let tools = self
            .tools
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                if t.function.name.trim().is_empty() {
                    return Err(ApiError::invalid(
                        format!("tools[{i}].function.name"),
                        "must not be empty",
                    ));
                }
                Ok(Tool {
                    name: t.function.name,
                    description: t.function.description,
                    parameters: t.function.parameters,
                    strict: t.function.strict,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let stop = match self.stop {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s],
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::invalid("stop", "must be strings"))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(ApiError::invalid(
                    "stop",
                    "must be a string or an array of strings",
                ));
            }
        };
        if let Some(t) = self.temperature
            && !(0.0..=2.0).contains(&t)
        {
            return Err(ApiError::invalid("temperature", "must be between 0 and 2"));
        }
        if let Some(p) = self.top_p
            && !(0.0..=1.0).contains(&p)
        {
            return Err(ApiError::invalid("top_p", "must be between 0 and 1"));
        }
        let mut extra = self.extra;
        // The Hub decides these itself; `access_token` is the caller's Hub credential (§7.1)
        // and never goes upstream.
        for key in ["stream", "stream_options", "model", "access_token"] {
            extra.remove(key);
        }
        Ok(ChatRequest {
            model: upstream_model,
            messages,
            tools,
            tool_choice: self.tool_choice.map(tool_choice).transpose()?,
            response_format: self.response_format.map(response_format).transpose()?,
            sampling: Sampling {
                temperature: self.temperature,
                top_p: self.top_p,
                max_tokens: self.max_completion_tokens.or(self.max_tokens),
                stop,
                presence_penalty: self.presence_penalty,
                frequency_penalty: self.frequency_penalty,
                seed: self.seed,
                reasoning_effort: self.reasoning_effort,
                user: self.user,
            },
            extra,
        })
    }
}

// ---------- response ----------

#[derive(Debug, Deserialize)]
pub struct UpstreamResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub created: i64,
    #[serde(default)]
    pub choices: Vec<UpstreamChoice>,
    pub usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
pub struct UpstreamChoice {
    pub message: Option<UpstreamMessage>,
    pub delta: Option<UpstreamMessage>,
    pub finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct UpstreamMessage {
    pub content: Option<String>,
    #[serde(alias = "reasoning")]
    pub reasoning_content: Option<String>,
    pub tool_calls: Option<Vec<UpstreamToolCall>>,
}

#[derive(Debug, Deserialize)]
pub struct UpstreamToolCall {
    #[serde(default)]
    pub index: u32,
    pub id: Option<String>,
    pub function: Option<UpstreamFunction>,
}

#[derive(Debug, Deserialize)]
pub struct UpstreamFunction {
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    pub prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Debug, Deserialize, Default)]
pub struct PromptDetails {
    #[serde(default)]
    pub cached_tokens: u64,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cache_read_tokens: u.prompt_tokens_details.map_or(0, |d| d.cached_tokens),
            cache_write_tokens: 0,
        }
    }
}

impl UpstreamResponse {
    pub fn into_internal(self) -> ChatResponse {
        let choice = self.choices.into_iter().next();
        let finish_reason = choice.as_ref().and_then(|c| c.finish_reason.clone());
        let message = choice.and_then(|c| c.message);
        let (content, reasoning, tool_calls) = match message {
            Some(m) => (
                m.content,
                m.reasoning_content,
                m.tool_calls
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| {
                        let f = c.function.unwrap_or(UpstreamFunction {
                            name: None,
                            arguments: None,
                        });
                        ToolCall {
                            id: c.id.unwrap_or_default(),
                            name: f.name.unwrap_or_default(),
                            arguments: f.arguments.unwrap_or_default(),
                        }
                    })
                    .collect(),
            ),
            None => (None, None, Vec::new()),
        };
        ChatResponse {
            id: self.id,
            model: self.model,
            created: self.created,
            content,
            reasoning,
            tool_calls,
            finish_reason,
            usage: self.usage.map(Usage::from).unwrap_or_default(),
        }
    }

    /// The events of one upstream stream chunk.
    pub fn into_events(self, started: &mut bool, out: &mut Vec<StreamEvent>) {
        if !*started {
            *started = true;
            out.push(StreamEvent::Start {
                id: self.id.clone(),
                model: self.model.clone(),
                created: self.created,
            });
        }
        for choice in self.choices {
            if let Some(delta) = choice.delta {
                if let Some(r) = delta.reasoning_content.filter(|r| !r.is_empty()) {
                    out.push(StreamEvent::Reasoning(r));
                }
                if let Some(t) = delta.content.filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::Text(t));
                }
                for call in delta.tool_calls.unwrap_or_default() {
                    let f = call.function.unwrap_or(UpstreamFunction {
                        name: None,
                        arguments: None,
                    });
                    out.push(StreamEvent::ToolCall {
                        index: call.index,
                        id: call.id,
                        name: f.name,
                        arguments: f.arguments.unwrap_or_default(),
                    });
                }
            }
            if let Some(reason) = choice.finish_reason {
                out.push(StreamEvent::Finish { reason });
            }
        }
        if let Some(usage) = self.usage {
            out.push(StreamEvent::Usage(usage.into()));
        }
    }
}

// ---------- answers to clients ----------

fn usage_json(u: &Usage) -> Value {
    serde_json::to_value(UsageOut::of(u)).unwrap_or(Value::Null)
}

/// The `chat.completion` object for a client; `model` is what the client asked for. Serialized
/// straight from the answer (no intermediate `Value` tree: this is on every non-streaming call).
pub fn completion_json<'a>(res: &'a ChatResponse, model: &'a str) -> Completion<'a> {
    Completion {
        id: &res.id,
        object: "chat.completion",
        created: res.created,
        model,
        choices: [CompletionChoice {
            index: 0,
            message: CompletionMessage {
                role: "assistant",
                content: res.content.as_deref(),
                reasoning_content: res.reasoning.as_deref(),
                tool_calls: res
                    .tool_calls
                    .iter()
                    .map(|c| ToolCallOut {
                        id: &c.id,
                        kind: "function",
                        function: FunctionOut {
                            name: &c.name,
                            arguments: &c.arguments,
                        },
                    })
                    .collect(),
            },
            finish_reason: res.finish_reason.as_deref(),
            logprobs: None,
        }],
        usage: UsageOut::of(&res.usage),
    }
}

#[derive(Serialize)]
pub struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: i64,
    model: &'a str,
    choices: [CompletionChoice<'a>; 1],
    usage: UsageOut,
}

#[derive(Serialize)]
struct CompletionChoice<'a> {
    index: u32,
    message: CompletionMessage<'a>,
    finish_reason: Option<&'a str>,
    logprobs: Option<()>,
}

#[derive(Serialize)]
struct CompletionMessage<'a> {
    role: &'static str,
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCallOut<'a>>,
}

#[derive(Serialize)]
struct ToolCallOut<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct UsageOut {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_tokens_details: Option<CachedTokens>,
}

#[derive(Serialize)]
struct CachedTokens {
    cached_tokens: u64,
}

impl UsageOut {
    fn of(u: &Usage) -> UsageOut {
        UsageOut {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total(),
            prompt_tokens_details: (u.cache_read_tokens > 0).then_some(CachedTokens {
                cached_tokens: u.cache_read_tokens,
            }),
        }
    }
}

/// Builds `chat.completion.chunk` frames for a client.
pub struct ChunkWriter {
    pub id: String,
    pub model: String,
    pub created: i64,
}

impl ChunkWriter {
    fn frame(&self, delta: Value, finish: Option<&str>) -> String {
        let chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}],
        });
        format!("data: {chunk}\n\n")
    }

    /// The SSE frame(s) for one event (`None` when the event has no frame of its own).
    pub fn event(&self, event: &StreamEvent) -> Option<String> {
        match event {
            StreamEvent::Start { .. } => {
                Some(self.frame(json!({"role": "assistant", "content": ""}), None))
            }
            StreamEvent::Text(t) => Some(self.frame(json!({"content": t}), None)),
            StreamEvent::Reasoning(r) => Some(self.frame(json!({"reasoning_content": r}), None)),
            StreamEvent::ToolCall {
                index,
                id,
                name,
                arguments,
            } => {
                let mut call = json!({"index": index, "function": {"arguments": arguments}});
                if let Some(id) = id {
                    call["id"] = Value::String(id.clone());
                    call["type"] = Value::String("function".into());
                }
                if let Some(name) = name {
                    call["function"]["name"] = Value::String(name.clone());
                }
                Some(self.frame(json!({"tool_calls": [call]}), None))
            }
            StreamEvent::Finish { reason } => Some(self.frame(json!({}), Some(reason))),
            StreamEvent::Usage(_) => None,
        }
    }

    /// The final usage chunk (`choices: []`), sent when the client asked for usage.
    pub fn usage(&self, usage: &Usage) -> String {
        let chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage_json(usage),
        });
        format!("data: {chunk}\n\n")
    }
}

/// A mid-stream failure as the final SSE chunk (SPEC §5.2).
pub fn stream_error(message: &str, kind: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"error": {"message": message, "type": kind}})
    )
}

pub const DONE: &str = "data: [DONE]\n\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::wire::openai_body::upstream_body;

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
            id: "chatcmpl-1".into(),
            model: "gpt-4o-mini-2024".into(),
            created: 1_700_000_000,
            content: Some("Hi \"there\"".into()),
            reasoning: None,
            tool_calls: Vec::new(),
            finish_reason: Some("stop".into()),
            usage: Usage {
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
