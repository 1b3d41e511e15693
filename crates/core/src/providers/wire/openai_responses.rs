//! OpenAI's Responses API as an upstream answers it: the response object and its typed stream
//! events, read into the internal answer and events. (What goes out is the client's own
//! Responses body: see `providers::openai_responses`.)

use crate::providers::types::{ChatResponse, StreamEvent, ToolCall, Usage};
use serde_json::Value;
use std::collections::HashMap;

fn count(v: &Value, path: &[&str]) -> u64 {
    path.iter()
        .try_fold(v, |v, key| v.get(key))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// A response's `usage` (`input_tokens` include the cached ones, as Chat's `prompt_tokens` do).
pub fn usage_of(response: &Value) -> Usage {
    let u = &response["usage"];
    Usage {
        prompt_tokens: count(u, &["input_tokens"]),
        completion_tokens: count(u, &["output_tokens"]),
        cache_read_tokens: count(u, &["input_tokens_details", "cached_tokens"]),
        cache_write_tokens: 0,
        reasoning_tokens: count(u, &["output_tokens_details", "reasoning_tokens"]),
    }
}

/// The internal finish reason of a finished response: `length` for a cut at
/// `max_output_tokens`, `tool_calls` when it asks for functions, else `stop`.
fn finish_of(response: &Value, calls: bool) -> String {
    let reason = response["incomplete_details"]["reason"].as_str();
    match (response["status"].as_str(), reason) {
        (Some("incomplete"), Some("max_output_tokens")) => "length",
        (Some("incomplete"), Some("content_filter")) => "content_filter",
        _ if calls => "tool_calls",
        _ => "stop",
    }
    .to_owned()
}

/// Why a failed response failed, in the provider's words.
pub fn failure_of(response: &Value) -> String {
    let e = &response["error"];
    match (e["code"].as_str(), e["message"].as_str()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (None, Some(message)) => message.to_owned(),
        _ => "the response failed".to_owned(),
    }
}

/// A complete response object, read.
pub fn answer_into_internal(response: &Value) -> ChatResponse {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    for item in response["output"].as_array().into_iter().flatten() {
        match item["type"].as_str() {
            Some("message") => {
                for part in item["content"].as_array().into_iter().flatten() {
                    if let Some(t) = part["text"]
                        .as_str()
                        .filter(|_| part["type"] == "output_text")
                    {
                        text.push_str(t);
                    }
                }
            }
            Some("reasoning") => {
                for part in item["summary"].as_array().into_iter().flatten() {
                    if let Some(t) = part["text"].as_str() {
                        reasoning.push_str(t);
                    }
                }
            }
            Some("function_call") => tool_calls.push(ToolCall {
                id: item["call_id"].as_str().unwrap_or_default().to_owned(),
                name: item["name"].as_str().unwrap_or_default().to_owned(),
                arguments: item["arguments"].as_str().unwrap_or("{}").to_owned(),
            }),
            _ => {}
        }
    }
    ChatResponse {
        id: response["id"].as_str().unwrap_or_default().to_owned(),
        model: response["model"].as_str().unwrap_or_default().to_owned(),
        created: response["created_at"].as_i64().unwrap_or_default(),
        finish_reason: Some(finish_of(response, !tool_calls.is_empty())),
        content: (!text.is_empty()).then_some(text),
        reasoning: (!reasoning.is_empty()).then_some(reasoning),
        tool_calls,
        usage: usage_of(response),
        raw: None,
    }
}

/// Reads a Responses event stream into internal events: text and reasoning-summary deltas,
/// function calls (numbered in the order they open) and, at the end, usage and the finish.
#[derive(Default)]
pub struct StreamState {
    /// Tool call index by output index.
    calls: HashMap<u64, u32>,
}

impl StreamState {
    /// One event. `Ok(true)`: the response is finished. `Err`: the provider reported a failure.
    pub fn on_event(&mut self, event: &Value, out: &mut Vec<StreamEvent>) -> Result<bool, String> {
        let kind = event["type"].as_str().unwrap_or_default();
        match kind {
            "response.created" => {
                let r = &event["response"];
                out.push(StreamEvent::Start {
                    id: r["id"].as_str().unwrap_or_default().to_owned(),
                    model: r["model"].as_str().unwrap_or_default().to_owned(),
                    created: r["created_at"].as_i64().unwrap_or_default(),
                });
            }
            "response.output_text.delta" => {
                if let Some(d) = event["delta"].as_str() {
                    out.push(StreamEvent::Text(d.to_owned()));
                }
            }
            "response.reasoning_summary_text.delta" => {
                if let Some(d) = event["delta"].as_str() {
                    out.push(StreamEvent::Reasoning(d.to_owned()));
                }
            }
            "response.output_item.added" if event["item"]["type"] == "function_call" => {
                let index = self.calls.len() as u32;
                self.calls
                    .insert(event["output_index"].as_u64().unwrap_or_default(), index);
                let item = &event["item"];
                out.push(StreamEvent::ToolCall {
                    index,
                    id: item["call_id"].as_str().map(str::to_owned),
                    name: item["name"].as_str().map(str::to_owned),
                    arguments: item["arguments"].as_str().unwrap_or_default().to_owned(),
                });
            }
            "response.function_call_arguments.delta" => {
                let at = event["output_index"].as_u64().unwrap_or_default();
                let index = self.calls.get(&at).copied().ok_or_else(|| {
                    format!("arguments for output {at}, which is no function call")
                })?;
                out.push(StreamEvent::ToolCall {
                    index,
                    id: None,
                    name: None,
                    arguments: event["delta"].as_str().unwrap_or_default().to_owned(),
                });
            }
            "response.completed" | "response.incomplete" => {
                let r = &event["response"];
                out.push(StreamEvent::Usage(usage_of(r)));
                out.push(StreamEvent::Finish {
                    reason: finish_of(r, !self.calls.is_empty()),
                });
                return Ok(true);
            }
            "response.failed" => return Err(failure_of(&event["response"])),
            "error" => {
                return Err(event["message"]
                    .as_str()
                    .unwrap_or("error in stream")
                    .to_owned());
            }
            _ => {}
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_is_read_with_its_calls_and_usage() {
        let raw = json!({
            "id": "resp_1", "model": "gpt-5", "created_at": 7, "status": "completed",
            "output": [
                {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "think"}],
                 "encrypted_content": "gAAA"},
                {"type": "web_search_call", "id": "ws_1", "status": "completed"},
                {"type": "message", "role": "assistant", "content": [
                    {"type": "output_text", "text": "Hi ", "annotations": []},
                    {"type": "refusal", "refusal": "no"},
                    {"type": "output_text", "text": "there", "annotations": []}]},
                {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{\"a\":1}"}
            ],
            "usage": {"input_tokens": 30, "input_tokens_details": {"cached_tokens": 10},
                      "output_tokens": 20, "output_tokens_details": {"reasoning_tokens": 12}}
        });
        let got = answer_into_internal(&raw);
        assert_eq!(got.content.as_deref(), Some("Hi there"));
        assert_eq!(got.reasoning.as_deref(), Some("think"));
        assert_eq!(got.tool_calls[0].name, "f");
        assert_eq!(got.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(
            (got.usage.prompt_tokens, got.usage.cache_read_tokens),
            (30, 10)
        );
        assert_eq!(
            (got.usage.completion_tokens, got.usage.reasoning_tokens),
            (20, 12)
        );
        let cut =
            json!({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}});
        assert_eq!(
            answer_into_internal(&cut).finish_reason.as_deref(),
            Some("length")
        );
    }

    #[test]
    fn a_stream_gives_text_calls_and_the_end() {
        let events = [
            json!({"type": "response.created", "response": {"id": "resp_1", "model": "gpt-5", "created_at": 1}}),
            json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message"}}),
            json!({"type": "response.output_text.delta", "output_index": 0, "delta": "Hi"}),
            json!({"type": "response.output_item.added", "output_index": 1,
                   "item": {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": ""}}),
            json!({"type": "response.function_call_arguments.delta", "output_index": 1, "delta": "{}"}),
            json!({"type": "response.completed", "response": {"status": "completed",
                   "usage": {"input_tokens": 3, "output_tokens": 4}}}),
        ];
        let mut state = StreamState::default();
        let mut out = Vec::new();
        let mut done = false;
        for e in &events {
            done = state.on_event(e, &mut out).expect("event");
        }
        assert!(done);
        assert_eq!(out[1], StreamEvent::Text("Hi".into()));
        assert!(
            matches!(&out[2], StreamEvent::ToolCall { index: 0, id: Some(id), .. } if id == "call_1")
        );
        assert!(
            matches!(&out[3], StreamEvent::ToolCall { index: 0, id: None, arguments, .. } if arguments == "{}")
        );
        assert!(matches!(&out[4], StreamEvent::Usage(u) if u.total() == 7));
        assert_eq!(
            out[5],
            StreamEvent::Finish {
                reason: "tool_calls".into()
            }
        );
        let failed = json!({"type": "response.failed", "response": {"error": {"code": "server_error", "message": "boom"}}});
        assert_eq!(
            StreamState::default().on_event(&failed, &mut out),
            Err("server_error: boom".into())
        );
        let stray = json!({"type": "response.function_call_arguments.delta", "output_index": 9, "delta": "x"});
        assert!(StreamState::default().on_event(&stray, &mut out).is_err());
    }
}
