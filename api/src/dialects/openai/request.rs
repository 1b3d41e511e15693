//! What clients send to `/api/v2/chat/completions` (also the real Hub's camelCase aliases),
//! read into the Hub's internal request; a bad field is a 400 naming it.

use crate::error::ApiError;
use crate::providers::types::{
    ChatRequest, Message, Part, ResponseFormat, Role, Sampling, Tool, ToolCall, ToolChoice,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

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
            native: None,
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
