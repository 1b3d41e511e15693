//! The `message` object of a call with one answer, its usage and stop reason in Anthropic's
//! terms.

use crate::providers::types::{ChatResponse, Usage};
use serde_json::{Value, json};

/// Anthropic's usage: `input_tokens` excludes the cached parts, which are counted apart (the
/// Hub's prompt count includes them).
pub fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.prompt_tokens.saturating_sub(u.cache_read_tokens + u.cache_write_tokens),
        "output_tokens": u.completion_tokens,
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
    })
}

/// The Hub's finish reason (OpenAI's words) as Anthropic's `stop_reason`.
pub fn stop_reason(finish: Option<&str>) -> &'static str {
    match finish {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ => "end_turn",
    }
}

/// A message id as Anthropic's clients know them (`msg_…`), keeping the upstream's id inside.
pub fn message_id(upstream: &str) -> String {
    if upstream.starts_with("msg_") {
        upstream.to_owned()
    } else if upstream.is_empty() {
        format!("msg_{}", uuid::Uuid::new_v4().simple())
    } else {
        format!("msg_{upstream}")
    }
}

/// The tool input object of a call's JSON arguments (`{}` when the upstream sent none; text that
/// is not JSON is kept as a string so nothing is lost).
pub fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    serde_json::from_str(arguments).unwrap_or_else(|_| Value::String(arguments.to_owned()))
}

/// The `message` object for a client; `model` is what the client asked for; `thinking`: the
/// client asked for extended thinking, so reasoning is answered as a thinking block.
pub fn message_json(res: &ChatResponse, model: &str, thinking: bool) -> Value {
    let mut content = Vec::new();
    if thinking && let Some(r) = res.reasoning.as_deref().filter(|r| !r.is_empty()) {
        content.push(json!({"type": "thinking", "thinking": r, "signature": ""}));
    }
    if let Some(text) = res.content.as_deref().filter(|t| !t.is_empty()) {
        content.push(json!({"type": "text", "text": text}));
    }
    for call in &res.tool_calls {
        content.push(json!({
            "type": "tool_use",
            "id": call.id,
            "name": call.name,
            "input": tool_input(&call.arguments),
        }));
    }
    if content.is_empty() {
        content.push(json!({"type": "text", "text": ""}));
    }
    json!({
        "id": message_id(&res.id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(res.finish_reason.as_deref()),
        "stop_sequence": null,
        "usage": usage_json(&res.usage),
    })
}
