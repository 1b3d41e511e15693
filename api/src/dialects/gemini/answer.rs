//! A `GenerateContentResponse` in Gemini's terms: one candidate with the model's parts, its
//! finish reason, and `usageMetadata`.

use crate::providers::types::{ChatResponse, ToolCall, Usage};
use serde_json::{Value, json};

/// Gemini's usage: `promptTokenCount` includes the cached part, which is also given alone;
/// `candidatesTokenCount` leaves out the thoughts, given as `thoughtsTokenCount`.
pub fn usage_json(u: &Usage) -> Value {
    let thoughts = u.reasoning_tokens.min(u.completion_tokens);
    let mut usage = json!({
        "promptTokenCount": u.prompt_tokens,
        "candidatesTokenCount": u.completion_tokens - thoughts,
        "totalTokenCount": u.total(),
    });
    if u.cache_read_tokens > 0 {
        usage["cachedContentTokenCount"] = json!(u.cache_read_tokens);
    }
    if thoughts > 0 {
        usage["thoughtsTokenCount"] = json!(thoughts);
    }
    usage
}

/// The Hub's finish reason (OpenAI's words) as Gemini's `finishReason`. A call for a function
/// ends with `STOP` in Gemini, the calls being the parts.
pub fn finish_reason(finish: Option<&str>) -> &'static str {
    match finish {
        Some("length") => "MAX_TOKENS",
        Some("content_filter") => "SAFETY",
        _ => "STOP",
    }
}

/// A `functionCall` part; its id goes with it so the client's `functionResponse` can name it.
pub fn call_part(call: &ToolCall) -> Value {
    let args = if call.arguments.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(&call.arguments)
            .unwrap_or_else(|_| json!({ "arguments": call.arguments }))
    };
    json!({"functionCall": {"id": call.id, "name": call.name, "args": args}})
}

/// One response object around `parts` (a whole answer, or one chunk of a stream).
pub fn response(parts: Vec<Value>, finish: Option<&str>, model: &str, id: &str) -> Value {
    let mut candidate = json!({
        "content": {"role": "model", "parts": parts},
        "index": 0,
    });
    if let Some(reason) = finish {
        candidate["finishReason"] = json!(reason);
    }
    json!({"candidates": [candidate], "modelVersion": model, "responseId": id})
}

/// The answer to `generateContent`; `model` is what the client asked for, `thoughts` whether it
/// asked to see the model's reasoning.
pub fn answer_json(res: &ChatResponse, model: &str, thoughts: bool) -> Value {
    let mut parts = Vec::new();
    if thoughts && let Some(r) = res.reasoning.as_deref().filter(|r| !r.is_empty()) {
        parts.push(json!({"text": r, "thought": true}));
    }
    if let Some(text) = res.content.as_deref().filter(|t| !t.is_empty()) {
        parts.push(json!({"text": text}));
    }
    parts.extend(res.tool_calls.iter().map(call_part));
    if parts.is_empty() {
        parts.push(json!({"text": ""}));
    }
    let mut out = response(
        parts,
        Some(finish_reason(res.finish_reason.as_deref())),
        model,
        &res.id,
    );
    out["usageMetadata"] = usage_json(&res.usage);
    out
}
