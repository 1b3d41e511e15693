//! What Anthropic clients send to `/v1/messages`, read into the Hub's internal request. A bad
//! field is a 400 naming it (`messages[2].content[0].tool_use_id`), before anything is sent.
//!
//! Mapping: `system` → a system message; `tool_result` blocks → tool messages (placed before the
//! rest of their user turn, as Anthropic requires them first); `tool_use` blocks → the
//! assistant's tool calls; `thinking.budget_tokens` → a reasoning effort. Earlier turns'
//! `thinking` and `redacted_thinking` blocks are signed by one Anthropic account and mean nothing
//! to another provider, so they are not forwarded.

use crate::error::ApiError;
use crate::providers::types::{
    ChatRequest, Message, Part, Role, Sampling, Tool, ToolCall, ToolChoice,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
pub struct MessagesRequest {
    pub model: Option<String>,
    pub max_tokens: Option<u64>,
    pub messages: Vec<WireMessage>,
    #[serde(default)]
    pub system: Option<Value>,
    #[serde(default)]
    pub stream: Option<bool>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    /// Not offered by the other families' APIs; accepted and not forwarded.
    pub top_k: Option<u64>,
    #[serde(default)]
    pub stop_sequences: Vec<String>,
    #[serde(default)]
    pub tools: Vec<WireTool>,
    pub tool_choice: Option<WireToolChoice>,
    pub thinking: Option<Thinking>,
    pub metadata: Option<Metadata>,
}

#[derive(Debug, Deserialize)]
pub struct WireMessage {
    pub role: String,
    pub content: Value,
}

#[derive(Debug, Deserialize)]
pub struct WireTool {
    /// Absent or `custom` for a client tool; anything else names one of Anthropic's built-in
    /// tools (`web_search_20250305`, `bash_20250124`, …).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub input_schema: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WireToolChoice {
    Auto {
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    Any {
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    Tool {
        name: String,
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    None,
}

#[derive(Debug, Deserialize)]
pub struct Thinking {
    #[serde(rename = "type")]
    pub kind: String,
    pub budget_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct Metadata {
    pub user_id: Option<String>,
}

/// One content block of a message.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    Image {
        source: Source,
    },
    Document {
        source: Source,
        title: Option<String>,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        #[serde(default)]
        content: Value,
        #[serde(default)]
        is_error: bool,
    },
    Thinking {},
    RedactedThinking {},
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Source {
    Base64 { media_type: String, data: String },
    Url { url: String },
    Text { data: String },
}

impl MessagesRequest {
    pub fn wants_stream(&self) -> bool {
        self.stream == Some(true)
    }

    /// Whether the client asked for extended thinking (its answer then carries thinking
    /// blocks).
    pub fn wants_thinking(&self) -> bool {
        self.thinking.as_ref().is_some_and(|t| t.kind == "enabled")
    }

    /// The internal request for `upstream_model`.
    pub fn into_internal(self, upstream_model: String) -> Result<ChatRequest, ApiError> {
        self.into_internal_for(upstream_model, false)
    }

    /// [`Self::into_internal`]; `native`: the model is Anthropic's, so the request goes out as
    /// the client wrote it, and what only Anthropic has — its built-in (server) tools and their
    /// blocks in earlier turns — is left out of the internal copy instead of refused.
    pub fn into_internal_for(
        self,
        upstream_model: String,
        native: bool,
    ) -> Result<ChatRequest, ApiError> {
        let max_tokens = self
            .max_tokens
            .ok_or_else(|| ApiError::invalid("max_tokens", "is required"))?;
        if max_tokens == 0 {
            return Err(ApiError::invalid("max_tokens", "must be at least 1"));
        }
        let mut messages = Vec::with_capacity(self.messages.len() + 1);
        if let Some(system) = self.system {
            let parts = system_parts(system)?;
            if !parts.is_empty() {
                messages.push(Message::new(Role::System, parts));
            }
        }
        let mut tool_uses = HashSet::new();
        for (i, m) in self.messages.into_iter().enumerate() {
            let field = format!("messages[{i}]");
            let role = match m.role.as_str() {
                "user" => Role::User,
                "assistant" => Role::Assistant,
                // Claude Code sends mid-conversation instructions as system turns.
                "system" => Role::System,
                other => {
                    return Err(ApiError::invalid(
                        format!("{field}.role"),
                        format!("'{other}' is not one of user, assistant, system"),
                    ));
                }
            };
            let content = if native {
                known_blocks(m.content)
            } else {
                m.content
            };
            turn(&field, role, content, &mut tool_uses, &mut messages)?;
        }
        let tools = self
            .tools
            .into_iter()
            .enumerate()
            .filter(|(_, t)| !(native && t.kind.as_deref().is_some_and(|k| k != "custom")))
            .map(|(i, t)| tool(i, t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut extra = Map::new();
        let tool_choice = self.tool_choice.map(|choice| {
            let (choice, single) = match choice {
                WireToolChoice::Auto {
                    disable_parallel_tool_use,
                } => (ToolChoice::Auto, disable_parallel_tool_use),
                WireToolChoice::Any {
                    disable_parallel_tool_use,
                } => (ToolChoice::Required, disable_parallel_tool_use),
                WireToolChoice::Tool {
                    name,
                    disable_parallel_tool_use,
                } => (ToolChoice::Function(name), disable_parallel_tool_use),
                WireToolChoice::None => (ToolChoice::None, None),
            };
            if single == Some(true) && !tools.is_empty() {
                extra.insert("parallel_tool_calls".into(), Value::Bool(false));
            }
            choice
        });
        let reasoning_effort = match &self.thinking {
            Some(t) if t.kind == "enabled" => {
                Some(effort(t.budget_tokens.unwrap_or_default()).to_owned())
            }
            _ => None,
        };
        Ok(ChatRequest {
            native: None,
            model: upstream_model,
            messages,
            tools,
            tool_choice,
            response_format: None,
            sampling: Sampling {
                temperature: self.temperature,
                top_p: self.top_p,
                max_tokens: Some(max_tokens),
                stop: self.stop_sequences,
                reasoning_effort,
                user: self.metadata.and_then(|m| m.user_id),
                ..Sampling::default()
            },
            extra,
        })
    }
}

/// The block types the translation reads; others (server tool use and results, MCP, search
/// results, …) are Anthropic's own.
const KNOWN_BLOCKS: [&str; 7] = [
    "text",
    "image",
    "document",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
];

/// `content` without the blocks only Anthropic reads.
fn known_blocks(content: Value) -> Value {
    match content {
        Value::Array(blocks) => Value::Array(
            blocks
                .into_iter()
                .filter(|b| {
                    b.get("type")
                        .and_then(Value::as_str)
                        .is_none_or(|t| KNOWN_BLOCKS.contains(&t))
                })
                .collect(),
        ),
        other => other,
    }
}

/// A thinking budget as the effort levels other providers take.
fn effort(budget: u64) -> &'static str {
    match budget {
        0..4096 => "low",
        4096..16384 => "medium",
        _ => "high",
    }
}

fn system_parts(system: Value) -> Result<Vec<Part>, ApiError> {
    match system {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![Part::Text(s)]),
        Value::Array(blocks) => blocks
            .into_iter()
            .enumerate()
            .map(|(i, b)| match block(&format!("system[{i}]"), b)? {
                Block::Text { text } => Ok(Part::Text(text)),
                _ => Err(ApiError::invalid(
                    format!("system[{i}].type"),
                    "only text blocks may be in the system prompt",
                )),
            })
            .collect(),
        _ => Err(ApiError::invalid(
            "system",
            "must be a string or an array of text blocks",
        )),
    }
}

fn block(field: &str, value: Value) -> Result<Block, ApiError> {
    serde_json::from_value(value).map_err(|e| {
        let message = e.to_string();
        // serde names the variant problem ("unknown variant `x`, expected one of …").
        let field = if message.contains("variant") || message.contains("`type`") {
            format!("{field}.type")
        } else {
            field.to_owned()
        };
        ApiError::invalid(field, message)
    })
}

/// One client turn: its blocks appended to `out` as internal messages.
fn turn(
    field: &str,
    role: Role,
    content: Value,
    tool_uses: &mut HashSet<String>,
    out: &mut Vec<Message>,
) -> Result<(), ApiError> {
    let blocks = match content {
        Value::String(s) => {
            out.push(Message::new(role, vec![Part::Text(s)]));
            return Ok(());
        }
        Value::Array(blocks) => blocks,
        _ => {
            return Err(ApiError::invalid(
                format!("{field}.content"),
                "must be a string or an array of content blocks",
            ));
        }
    };
    let mut parts = Vec::new();
    let mut calls = Vec::new();
    for (j, b) in blocks.into_iter().enumerate() {
        let field = format!("{field}.content[{j}]");
        match block(&field, b)? {
            Block::Text { text } => parts.push(Part::Text(text)),
            Block::Image { source } => parts.push(image(&field, source)?),
            Block::Document { source, title } => parts.push(document(&field, source, title)?),
            Block::ToolUse { id, name, input } if role == Role::Assistant => {
                tool_uses.insert(id.clone());
                let arguments = match input {
                    Value::Null => "{}".to_owned(),
                    other => other.to_string(),
                };
                calls.push(ToolCall {
                    id,
                    name,
                    arguments,
                });
            }
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
            } if role == Role::User => {
                if !tool_uses.contains(&tool_use_id) {
                    return Err(ApiError::invalid(
                        format!("{field}.tool_use_id"),
                        format!(
                            "'{tool_use_id}' answers no tool_use block of an earlier assistant turn"
                        ),
                    ));
                }
                let mut text = tool_result_text(&field, content, &mut parts)?;
                if is_error {
                    text = format!("Error: {text}");
                }
                out.push(Message {
                    tool_call_id: Some(tool_use_id),
                    ..Message::new(Role::Tool, vec![Part::Text(text)])
                });
            }
            Block::ToolUse { .. } => {
                return Err(ApiError::invalid(
                    format!("{field}.type"),
                    "tool_use blocks belong in assistant turns",
                ));
            }
            Block::ToolResult { .. } => {
                return Err(ApiError::invalid(
                    format!("{field}.type"),
                    "tool_result blocks belong in user turns",
                ));
            }
            Block::Thinking {} | Block::RedactedThinking {} => {}
        }
    }
    if !parts.is_empty() || !calls.is_empty() {
        out.push(Message {
            tool_calls: calls,
            ..Message::new(role, parts)
        });
    }
    Ok(())
}

fn image(field: &str, source: Source) -> Result<Part, ApiError> {
    match source {
        Source::Base64 { media_type, data } => Ok(Part::Image {
            url: format!("data:{media_type};base64,{data}"),
            detail: None,
        }),
        Source::Url { url } => Ok(Part::Image { url, detail: None }),
        Source::Text { .. } => Err(ApiError::invalid(
            format!("{field}.source.type"),
            "an image source is base64 or url",
        )),
    }
}

fn document(field: &str, source: Source, title: Option<String>) -> Result<Part, ApiError> {
    match source {
        Source::Base64 { media_type, data } => Ok(Part::File {
            data,
            mime_type: media_type,
            filename: title,
        }),
        Source::Text { data } => Ok(Part::Text(data)),
        Source::Url { .. } => Err(ApiError::invalid(
            format!("{field}.source.type"),
            "documents by URL are not fetched by the Hub; send them as base64 or text",
        )),
    }
}

/// A tool result's content as the text other providers take (a string, or its text blocks);
/// its images, which a tool message cannot carry elsewhere, join the user turn (`images`).
fn tool_result_text(
    field: &str,
    content: Value,
    images: &mut Vec<Part>,
) -> Result<String, ApiError> {
    match content {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s),
        Value::Array(blocks) => {
            let mut text = String::new();
            for (k, b) in blocks.into_iter().enumerate() {
                let field = format!("{field}.content[{k}]");
                match block(&field, b)? {
                    Block::Text { text: t } => text.push_str(&t),
                    Block::Image { source } => images.push(image(&field, source)?),
                    Block::Document { source, title } => {
                        images.push(document(&field, source, title)?)
                    }
                    _ => {
                        return Err(ApiError::invalid(
                            format!("{field}.type"),
                            "a tool result holds text, image or document blocks",
                        ));
                    }
                }
            }
            Ok(text)
        }
        _ => Err(ApiError::invalid(
            format!("{field}.content"),
            "must be a string or an array of content blocks",
        )),
    }
}

fn tool(i: usize, t: WireTool) -> Result<Tool, ApiError> {
    if let Some(kind) = t.kind.as_deref().filter(|k| *k != "custom") {
        return Err(ApiError::invalid(
            format!("tools[{i}]"),
            format!(
                "the built-in tool '{kind}' ({}) is not available through the Hub's translation; \
                 only client tools (name, description, input_schema) are",
                t.name
            ),
        ));
    }
    Ok(Tool {
        name: t.name,
        description: t.description,
        parameters: t.input_schema,
        strict: None,
    })
}
