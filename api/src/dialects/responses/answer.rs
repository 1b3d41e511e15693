//! The response object of the Responses API: `output` items (reasoning summary, the assistant's
//! message, function calls) and `usage` in the API's terms, with the request's parameters echoed.

use super::request::Echo;
use crate::providers::types::{ToolCall, Usage};
use serde_json::{Value, json};

/// A new id with the API's prefix (`resp_`, `msg_`, `fc_`, `rs_`).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// One call's identity in its answer.
#[derive(Debug, Clone)]
pub struct Turn {
    pub id: String,
    pub created_at: i64,
    /// The model as the client named it.
    pub model: String,
}

pub fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {"cached_tokens": u.cache_read_tokens},
        "output_tokens": u.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.total(),
    })
}

pub fn reasoning_item(id: &str, text: &str) -> Value {
    json!({"type": "reasoning", "id": id, "summary": [{"type": "summary_text", "text": text}]})
}

pub fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({
        "type": "message",
        "id": id,
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    })
}

pub fn function_call_item(id: &str, call: &ToolCall, status: &str) -> Value {
    json!({
        "type": "function_call",
        "id": id,
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments,
        "status": status,
    })
}

/// The output items of a complete answer.
pub fn output_items(
    content: Option<&str>,
    reasoning: Option<&str>,
    tool_calls: &[ToolCall],
) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(r) = reasoning.filter(|r| !r.is_empty()) {
        out.push(reasoning_item(&new_id("rs"), r));
    }
    if let Some(text) = content.filter(|t| !t.is_empty()) {
        out.push(message_item(&new_id("msg"), text, "completed"));
    }
    for call in tool_calls {
        out.push(function_call_item(&new_id("fc"), call, "completed"));
    }
    out
}

/// `completed`, or `incomplete` with its reason when the answer stopped at the token limit.
pub fn status_of(finish: Option<&str>) -> (&'static str, Value) {
    match finish {
        Some("length") => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some("content_filter") => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

/// The response object. `usage` is `None` while a stream is in progress.
pub fn response_json(
    turn: &Turn,
    echo: &Echo,
    status: &str,
    incomplete: Value,
    output: Vec<Value>,
    usage: Option<&Usage>,
) -> Value {
    json!({
        "id": turn.id,
        "object": "response",
        "created_at": turn.created_at,
        "status": status,
        "error": null,
        "incomplete_details": incomplete,
        "instructions": echo.instructions,
        "max_output_tokens": echo.max_output_tokens,
        "model": turn.model,
        "output": output,
        "parallel_tool_calls": echo.parallel_tool_calls,
        "previous_response_id": echo.previous_response_id,
        "reasoning": echo.reasoning,
        "store": echo.store,
        "temperature": echo.temperature,
        "text": echo.text,
        "tool_choice": echo.tool_choice,
        "tools": echo.tools,
        "top_p": echo.top_p,
        "truncation": "disabled",
        "usage": usage.map(usage_json),
        "user": echo.user,
        "metadata": echo.metadata,
    })
}

/// OpenAI's own response object made the Hub's turn: the Hub's id (the one
/// `previous_response_id` and `GET /responses/{id}` know), the model as the client named it, and
/// the storing the client asked for (OpenAI was told not to store).
pub fn adopt(response: &mut Value, turn: &Turn, echo: &Echo) {
    if let Some(fields) = response.as_object_mut() {
        fields.insert("id".into(), json!(turn.id));
        fields.insert("model".into(), json!(turn.model));
        fields.insert("store".into(), json!(echo.store));
        fields.insert(
            "previous_response_id".into(),
            json!(echo.previous_response_id),
        );
    }
}
