//! `chat.completion.chunk` frames, the stream's error frame and its `[DONE]` marker.

use crate::providers::types::{StreamEvent, Usage};
use serde_json::{Value, json};

use super::answer::usage_json;

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
            StreamEvent::Usage(_) | StreamEvent::Raw(_) => None,
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
