//! What OpenAI Responses clients send to `/v1/responses`, read into the Hub's internal request.
//! A bad field is a 400 naming it (`input[2].call_id`), before anything is sent.
//!
//! Mapping: `instructions` → a system message first; `input` (a string, or items) → messages:
//! `message` items by role (`developer` is a system message), `function_call` items → the
//! assistant's tool calls, `function_call_output` → tool messages; `text.format` → the response
//! format; `reasoning.effort` → the reasoning effort. `reasoning` items are the reasoning of one
//! upstream account and mean nothing to another provider, so they are not forwarded.

use crate::error::ApiError;
use crate::providers::types::{
    ChatRequest, Message, Part, ResponseFormat, Role, Sampling, Tool, ToolCall, ToolChoice,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
pub struct ResponsesRequest {
    pub model: Option<String>,
    #[serde(default)]
    pub input: Option<Value>,
    pub instructions: Option<String>,
    #[serde(default)]
    pub tools: Vec<Value>,
    pub tool_choice: Option<Value>,
    pub text: Option<Value>,
    pub max_output_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub reasoning: Option<Value>,
    pub metadata: Option<Map<String, Value>>,
    pub parallel_tool_calls: Option<bool>,
    pub store: Option<bool>,
    pub previous_response_id: Option<String>,
    pub stream: Option<bool>,
    pub user: Option<String>,
    pub background: Option<bool>,
    pub conversation: Option<Value>,
}

/// What the answer repeats of the request (the Responses API echoes its parameters).
#[derive(Debug, Clone, Default)]
pub struct Echo {
    pub instructions: Option<String>,
    pub max_output_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub tools: Vec<Value>,
    pub tool_choice: Value,
    pub text: Value,
    pub reasoning: Value,
    pub metadata: Map<String, Value>,
    pub parallel_tool_calls: bool,
    pub store: bool,
    pub previous_response_id: Option<String>,
    pub user: Option<String>,
}

/// The longest `previous_response_id` accepted.
const MAX_ID: usize = 200;

impl ResponsesRequest {
    pub fn wants_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether the response is stored (the API's default is yes).
    pub fn stores(&self) -> bool {
        self.store.unwrap_or(true)
    }

    /// The checked `previous_response_id`, if any.
    pub fn previous(&self) -> Result<Option<&str>, ApiError> {
        match self.previous_response_id.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(id)
                if id.len() > MAX_ID
                    || !id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                Err(ApiError::invalid(
                    "previous_response_id",
                    "is not a response id",
                ))
            }
            Some(id) => Ok(Some(id)),
        }
    }

    pub fn echo(&self) -> Echo {
        Echo {
            instructions: self.instructions.clone(),
            max_output_tokens: self.max_output_tokens,
            temperature: self.temperature,
            top_p: self.top_p,
            tools: self.tools.clone(),
            tool_choice: self.tool_choice.clone().unwrap_or(json!("auto")),
            text: self
                .text
                .clone()
                .unwrap_or(json!({"format": {"type": "text"}})),
            reasoning: self
                .reasoning
                .clone()
                .unwrap_or(json!({"effort": null, "summary": null})),
            metadata: self.metadata.clone().unwrap_or_default(),
            parallel_tool_calls: self.parallel_tool_calls.unwrap_or(true),
            store: self.stores(),
            previous_response_id: self.previous_response_id.clone(),
            user: self.user.clone(),
        }
    }

    /// This turn's input as items (a string is one user message).
    pub fn input_items(&self) -> Result<Vec<Value>, ApiError> {
        match &self.input {
            None | Some(Value::Null) => Err(ApiError::invalid("input", "is required")),
            Some(Value::String(text)) => Ok(vec![json!({
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": text}],
            })]),
            Some(Value::Array(items)) if items.is_empty() => {
                Err(ApiError::invalid("input", "must not be empty"))
            }
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(ApiError::invalid(
                "input",
                "must be a string or an array of items",
            )),
        }
    }

    /// The internal request: `history` (earlier turns' items, oldest first) and then `input`.
    pub fn into_internal(
        self,
        upstream_model: String,
        history: &[Value],
        input: &[Value],
    ) -> Result<ChatRequest, ApiError> {
        self.into_internal_for(upstream_model, history, input, false)
    }

    /// [`Self::into_internal`]; `native`: the model is OpenAI's, so the request goes out as the
    /// client wrote it, and what only OpenAI has — its built-in tools and their items — is left
    /// out of the internal copy (used if the call fails over to another provider) instead of
    /// refused.
    pub fn into_internal_for(
        self,
        upstream_model: String,
        history: &[Value],
        input: &[Value],
        native: bool,
    ) -> Result<ChatRequest, ApiError> {
        if self.background == Some(true) {
            return Err(ApiError::invalid(
                "background",
                "background responses are not supported through the Hub; stream instead",
            ));
        }
        if self.conversation.as_ref().is_some_and(|c| !c.is_null()) {
            return Err(ApiError::invalid(
                "conversation",
                "conversations live in one OpenAI account; continue with previous_response_id, which the Hub keeps",
            ));
        }
        let mut messages = Vec::new();
        if let Some(instructions) = self.instructions.as_deref().filter(|i| !i.is_empty()) {
            messages.push(Message::new(
                Role::System,
                vec![Part::Text(instructions.to_owned())],
            ));
        }
        let mut calls = HashSet::new();
        // Stored turns may hold OpenAI's built-in tool items: history for OpenAI, not for others.
        read_items(
            history,
            "previous_response_id",
            true,
            &mut calls,
            &mut messages,
        )?;
        read_items(input, "input", native, &mut calls, &mut messages)?;
        if !messages.iter().any(|m| m.role != Role::System) {
            return Err(ApiError::invalid("input", "has no message to answer"));
        }
        if let Some(n) = self.max_output_tokens
            && n == 0
        {
            return Err(ApiError::invalid("max_output_tokens", "must be at least 1"));
        }
        let mut tools = Vec::new();
        for (i, t) in self.tools.iter().enumerate() {
            read_tool(t, &format!("tools[{i}]"), native, &mut tools)?;
        }
        let tool_choice = match self.tool_choice.as_ref().map(tool_choice) {
            // Forcing a built-in tool means nothing to the internal copy.
            Some(Err(_)) if native && builtin_choice(self.tool_choice.as_ref()) => None,
            other => other.transpose()?,
        };
        let response_format = self.text.as_ref().map(text_format).transpose()?.flatten();
        let reasoning_effort = match self.reasoning.as_ref().map(|r| &r["effort"]) {
            None | Some(Value::Null) => None,
            Some(Value::String(e))
                if ["minimal", "low", "medium", "high"].contains(&e.as_str()) =>
            {
                Some(e.clone())
            }
            Some(other) => {
                return Err(ApiError::invalid(
                    "reasoning.effort",
                    format!("{other} is not one of minimal, low, medium, high"),
                ));
            }
        };
        let mut extra = Map::new();
        if let Some(parallel) = self.parallel_tool_calls
            && !tools.is_empty()
        {
            extra.insert("parallel_tool_calls".into(), Value::Bool(parallel));
        }
        Ok(ChatRequest {
            native: None,
            model: upstream_model,
            messages,
            tools,
            tool_choice,
            response_format,
            sampling: Sampling {
                temperature: self.temperature,
                top_p: self.top_p,
                max_tokens: self.max_output_tokens,
                reasoning_effort,
                user: self.user,
                ..Sampling::default()
            },
            extra,
        })
    }
}

fn text_of<'a>(v: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    v.as_str()
        .ok_or_else(|| ApiError::invalid(field, "must be a string"))
}

/// OpenAI's built-in tools, which only an OpenAI upstream runs.
const BUILTIN_TOOLS: &[&str] = &[
    "web_search",
    "web_search_preview",
    "web_search_2025_08_26",
    "web_search_preview_2025_03_11",
    "file_search",
    "code_interpreter",
    "image_generation",
    "computer_use",
    "computer_use_preview",
    "mcp",
    "local_shell",
    "shell",
    "apply_patch",
    "custom",
];

/// The items OpenAI's built-in tools leave in a conversation.
const BUILTIN_ITEMS: &[&str] = &[
    "web_search_call",
    "file_search_call",
    "code_interpreter_call",
    "image_generation_call",
    "computer_call",
    "computer_call_output",
    "local_shell_call",
    "local_shell_call_output",
    "shell_call",
    "shell_call_output",
    "apply_patch_call",
    "apply_patch_call_output",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "mcp_call",
    "custom_tool_call",
    "custom_tool_call_output",
];

/// A `tool_choice` that names a built-in tool (or OpenAI's `allowed_tools` list).
fn builtin_choice(choice: Option<&Value>) -> bool {
    choice
        .and_then(|c| c["type"].as_str())
        .is_some_and(|t| t == "allowed_tools" || BUILTIN_TOOLS.contains(&t))
}

/// Reads `items` (named `at[i]` in errors) onto `out`; `calls` holds the function calls seen, so
/// an output can be checked to answer one. `builtin`: items of OpenAI's built-in tools are
/// skipped rather than refused.
fn read_items(
    items: &[Value],
    at: &str,
    builtin: bool,
    calls: &mut HashSet<String>,
    out: &mut Vec<Message>,
) -> Result<(), ApiError> {
    for (i, item) in items.iter().enumerate() {
        let field = format!("{at}[{i}]");
        if !item.is_object() {
            return Err(ApiError::invalid(&field, "must be an object"));
        }
        // A message may leave out `type` (the SDKs' `{role, content}` shorthand).
        let kind = match &item["type"] {
            Value::Null if item.get("role").is_some() => "message",
            Value::String(t) => t.as_str(),
            _ => return Err(ApiError::invalid(format!("{field}.type"), "is required")),
        };
        match kind {
            "message" => out.push(read_message(item, &field)?),
            "function_call" => {
                let call_id = text_of(&item["call_id"], &format!("{field}.call_id"))?;
                let name = text_of(&item["name"], &format!("{field}.name"))?;
                let arguments = match &item["arguments"] {
                    Value::String(a) => a.clone(),
                    Value::Null => "{}".into(),
                    other => other.to_string(),
                };
                calls.insert(call_id.to_owned());
                let call = ToolCall {
                    id: call_id.to_owned(),
                    name: name.to_owned(),
                    arguments,
                };
                // Calls of one turn travel in one assistant message.
                match out.last_mut() {
                    Some(last) if last.role == Role::Assistant && !last.tool_calls.is_empty() => {
                        last.tool_calls.push(call)
                    }
                    _ => {
                        let mut m = Message::new(Role::Assistant, Vec::new());
                        m.tool_calls.push(call);
                        out.push(m);
                    }
                }
            }
            "function_call_output" => {
                let call_id = text_of(&item["call_id"], &format!("{field}.call_id"))?;
                if !calls.contains(call_id) {
                    return Err(ApiError::invalid(
                        format!("{field}.call_id"),
                        format!(
                            "no function_call with call_id '{call_id}' comes before this output"
                        ),
                    ));
                }
                let output = match &item["output"] {
                    Value::String(s) => s.clone(),
                    Value::Array(parts) => parts
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect::<Vec<_>>()
                        .join(""),
                    _ => {
                        return Err(ApiError::invalid(
                            format!("{field}.output"),
                            "must be a string",
                        ));
                    }
                };
                let mut m = Message::new(Role::Tool, vec![Part::Text(output)]);
                m.tool_call_id = Some(call_id.to_owned());
                out.push(m);
            }
            // One upstream account's reasoning: not something another provider can read.
            "reasoning" => {}
            kind if builtin && BUILTIN_ITEMS.contains(&kind) => {}
            "item_reference" => {
                return Err(ApiError::invalid(
                    format!("{field}.type"),
                    "item_reference is not supported: send the item itself, or continue with previous_response_id",
                ));
            }
            other => {
                return Err(ApiError::invalid(
                    format!("{field}.type"),
                    format!(
                        "'{other}' is not an item type the Hub accepts (message, function_call, function_call_output, reasoning)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn read_message(item: &Value, field: &str) -> Result<Message, ApiError> {
    let role = match item["role"].as_str() {
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("system" | "developer") => Role::System,
        _ => {
            return Err(ApiError::invalid(
                format!("{field}.role"),
                "must be user, assistant, system or developer",
            ));
        }
    };
    let content = match &item["content"] {
        Value::String(s) => vec![Part::Text(s.clone())],
        Value::Array(parts) => parts
            .iter()
            .enumerate()
            .map(|(j, p)| read_part(p, &format!("{field}.content[{j}]")))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect(),
        _ => {
            return Err(ApiError::invalid(
                format!("{field}.content"),
                "must be a string or an array of parts",
            ));
        }
    };
    Ok(Message::new(role, content))
}

fn read_part(part: &Value, field: &str) -> Result<Option<Part>, ApiError> {
    match part["type"].as_str() {
        Some("input_text" | "output_text" | "text") => Ok(Some(Part::Text(
            text_of(&part["text"], &format!("{field}.text"))?.to_owned(),
        ))),
        // A refusal the model gave earlier is context like any other text.
        Some("refusal") => Ok(Some(Part::Text(
            text_of(&part["refusal"], &format!("{field}.refusal"))?.to_owned(),
        ))),
        Some("input_image") => match part["image_url"].as_str() {
            Some(url)
                if url.starts_with("https://")
                    || url.starts_with("http://")
                    || url.starts_with("data:") =>
            {
                Ok(Some(Part::Image {
                    url: url.to_owned(),
                    detail: part["detail"].as_str().map(str::to_owned),
                }))
            }
            _ if part.get("file_id").is_some() => Err(ApiError::invalid(
                format!("{field}.file_id"),
                "files uploaded to OpenAI are not available through the Hub; send image_url",
            )),
            _ => Err(ApiError::invalid(
                format!("{field}.image_url"),
                "must be an http(s) or data: URL",
            )),
        },
        Some("input_file") => match (part["file_data"].as_str(), part["filename"].as_str()) {
            (Some(data), filename) => {
                let (mime, b64) = data
                    .strip_prefix("data:")
                    .and_then(|d| d.split_once(";base64,"))
                    .unwrap_or(("application/pdf", data));
                Ok(Some(Part::File {
                    data: b64.to_owned(),
                    mime_type: mime.to_owned(),
                    filename: filename.map(str::to_owned),
                }))
            }
            _ => Err(ApiError::invalid(
                format!("{field}.file_data"),
                "is required (files uploaded to OpenAI are not available through the Hub)",
            )),
        },
        Some(other) => Err(ApiError::invalid(
            format!("{field}.type"),
            format!("'{other}' is not a content part the Hub accepts"),
        )),
        None => Err(ApiError::invalid(format!("{field}.type"), "is required")),
    }
}

/// Reads one tool (named `at` in errors) onto `out`: a function, or a `namespace` — a named group
/// of functions, as Codex sends its sub-agent tools — whose functions go out as plain functions
/// (their names are unique within a request). Built-in tools are left out when `builtin` (the
/// model is OpenAI's), else a 400 naming the tool.
fn read_tool(t: &Value, at: &str, builtin: bool, out: &mut Vec<Tool>) -> Result<(), ApiError> {
    match t["type"].as_str() {
        Some("function") => out.push(Tool {
            name: text_of(&t["name"], &format!("{at}.name"))?.to_owned(),
            description: t["description"].as_str().map(str::to_owned),
            parameters: t.get("parameters").filter(|p| !p.is_null()).cloned(),
            strict: t["strict"].as_bool(),
        }),
        Some("namespace") => {
            let Some(inner) = t["tools"].as_array() else {
                return Err(ApiError::invalid(
                    format!("{at}.tools"),
                    "must be an array of function tools",
                ));
            };
            for (j, f) in inner.iter().enumerate() {
                let field = format!("{at}.tools[{j}]");
                if f["type"].as_str() != Some("function") {
                    return Err(ApiError::invalid(
                        format!("{field}.type"),
                        "must be function",
                    ));
                }
                read_tool(f, &field, false, out)?;
            }
        }
        Some(kind) if builtin && BUILTIN_TOOLS.contains(&kind) => {}
        Some(kind) if BUILTIN_TOOLS.contains(&kind) => {
            return Err(ApiError::invalid(
                format!("{at}.type"),
                format!(
                    "the built-in tool '{kind}' runs only on OpenAI models (openai/…); define a function tool for this model instead"
                ),
            ));
        }
        Some(kind) => {
            return Err(ApiError::invalid(
                format!("{at}.type"),
                format!(
                    "'{kind}' is not a tool type (function, namespace, or OpenAI's built-in tools)"
                ),
            ));
        }
        None => return Err(ApiError::invalid(format!("{at}.type"), "is required")),
    }
    Ok(())
}

fn tool_choice(v: &Value) -> Result<ToolChoice, ApiError> {
    match v {
        Value::String(s) if s == "auto" => Ok(ToolChoice::Auto),
        Value::String(s) if s == "none" => Ok(ToolChoice::None),
        Value::String(s) if s == "required" => Ok(ToolChoice::Required),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => Ok(
            ToolChoice::Function(text_of(&v["name"], "tool_choice.name")?.to_owned()),
        ),
        _ => Err(ApiError::invalid(
            "tool_choice",
            "must be auto, none, required or {\"type\": \"function\", \"name\": …}",
        )),
    }
}

fn text_format(text: &Value) -> Result<Option<ResponseFormat>, ApiError> {
    let format = &text["format"];
    match format["type"].as_str() {
        None if format.is_null() => Ok(None),
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(ResponseFormat::JsonObject)),
        Some("json_schema") => Ok(Some(ResponseFormat::JsonSchema {
            name: text_of(&format["name"], "text.format.name")?.to_owned(),
            schema: match &format["schema"] {
                Value::Object(_) => format["schema"].clone(),
                _ => return Err(ApiError::invalid("text.format.schema", "must be an object")),
            },
            strict: format["strict"].as_bool(),
        })),
        _ => Err(ApiError::invalid(
            "text.format.type",
            "must be text, json_object or json_schema",
        )),
    }
}
