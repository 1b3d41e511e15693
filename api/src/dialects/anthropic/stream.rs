//! A Messages stream as Anthropic's clients read it: `message_start`, `ping`, then per content
//! block `content_block_start`, its deltas and `content_block_stop`, then `message_delta` with
//! the stop reason and usage, and `message_stop`. The Hub's events are flat (text, reasoning,
//! tool-call fragments), so the encoder opens and closes the blocks around them.

use super::answer::{message_id, stop_reason, usage_json};
use crate::providers::UpstreamError;
use crate::providers::types::StreamEvent;
use hub_core::engine::relay::{Encoder, StreamEnd};
use serde_json::{Value, json};

/// One named SSE event.
pub fn frame(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// The error event of a stream that failed after it began.
pub fn error_frame(kind: &str, message: &str) -> String {
    frame(
        "error",
        &json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    /// The Hub's tool-call index.
    Tool(u32),
}

pub struct MessagesEncoder {
    id: String,
    model: String,
    /// The client asked for thinking: reasoning goes out as thinking blocks (else it is left
    /// out, as Anthropic does without thinking).
    thinking: bool,
    /// The index of the next content block.
    next: u32,
    open: Option<Open>,
    stop: Option<String>,
    /// Native: Anthropic's own frames are forwarded as they came (its `message_stop` held back
    /// until the call's row is committed) and the parsed events are not encoded.
    native: Option<Option<String>>,
}

impl MessagesEncoder {
    pub fn new(first: &StreamEvent, model: &str, thinking: bool) -> Self {
        let upstream = match first {
            StreamEvent::Start { id, .. } => id.as_str(),
            _ => "",
        };
        Self {
            id: message_id(upstream),
            model: model.to_owned(),
            thinking,
            next: 0,
            open: None,
            stop: None,
            native: matches!(first, StreamEvent::Raw(_)).then_some(None),
        }
    }

    fn close(&mut self, out: &mut String) {
        if let Some(open) = self.open.take() {
            let index = self.next - 1;
            if open == Open::Thinking {
                // Clients keep a thinking block's signature; only Anthropic signs them.
                out.push_str(&frame(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index, "delta": {"type": "signature_delta", "signature": ""}}),
                ));
            }
            out.push_str(&frame(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            ));
        }
    }

    /// Opens `block` unless it is the one open; returns the index of the open block.
    fn open(&mut self, kind: Open, block: impl FnOnce() -> Value, out: &mut String) -> u32 {
        if self.open != Some(kind) {
            self.close(out);
            out.push_str(&frame(
                "content_block_start",
                &json!({"type": "content_block_start", "index": self.next, "content_block": block()}),
            ));
            self.open = Some(kind);
            self.next += 1;
        }
        self.next - 1
    }

    fn delta(out: &mut String, index: u32, delta: Value) {
        out.push_str(&frame(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        ));
    }
}

impl Encoder for MessagesEncoder {
    fn start(&mut self) -> Vec<String> {
        if self.native.is_some() {
            return Vec::new();
        }
        let message = json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        });
        vec![
            frame(
                "message_start",
                &json!({"type": "message_start", "message": message}),
            ),
            frame("ping", &json!({"type": "ping"})),
        ]
    }

    fn event(&mut self, event: &StreamEvent) -> Option<String> {
        if let Some(stop) = &mut self.native {
            return match event {
                StreamEvent::Raw(f) if f.starts_with("event: message_stop\n") => {
                    *stop = Some(f.clone());
                    None
                }
                StreamEvent::Raw(f) => Some(f.clone()),
                _ => None,
            };
        }
        let mut out = String::new();
        match event {
            StreamEvent::Start { .. } | StreamEvent::Usage(_) | StreamEvent::Raw(_) => return None,
            StreamEvent::Text(t) => {
                let index = self.open(Open::Text, || json!({"type": "text", "text": ""}), &mut out);
                Self::delta(&mut out, index, json!({"type": "text_delta", "text": t}));
            }
            StreamEvent::Reasoning(r) => {
                if !self.thinking {
                    return None;
                }
                let index = self.open(
                    Open::Thinking,
                    || json!({"type": "thinking", "thinking": "", "signature": ""}),
                    &mut out,
                );
                Self::delta(
                    &mut out,
                    index,
                    json!({"type": "thinking_delta", "thinking": r}),
                );
            }
            StreamEvent::ToolCall {
                index: call,
                id,
                name,
                arguments,
            } => {
                let index = self.open(
                    Open::Tool(*call),
                    || {
                        let id = id
                            .clone()
                            .unwrap_or_else(|| format!("toolu_{}", uuid::Uuid::new_v4().simple()));
                        json!({"type": "tool_use", "id": id, "name": name.clone().unwrap_or_default(), "input": {}})
                    },
                    &mut out,
                );
                if !arguments.is_empty() {
                    Self::delta(
                        &mut out,
                        index,
                        json!({"type": "input_json_delta", "partial_json": arguments}),
                    );
                }
            }
            StreamEvent::Finish { reason } => {
                self.close(&mut out);
                self.stop = Some(reason.clone());
            }
        }
        (!out.is_empty()).then_some(out)
    }

    fn finish(&mut self, end: &StreamEnd<'_>) -> Vec<String> {
        if let Some(stop) = self.native.take() {
            return vec![
                stop.unwrap_or_else(|| frame("message_stop", &json!({"type": "message_stop"}))),
            ];
        }
        let mut out = String::new();
        self.close(&mut out);
        out.push_str(&frame(
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason(self.stop.as_deref()), "stop_sequence": null},
                "usage": usage_json(end.usage),
            }),
        ));
        out.push_str(&frame("message_stop", &json!({"type": "message_stop"})));
        vec![out]
    }

    fn error(&mut self, err: &UpstreamError) -> String {
        let kind = match err.client_status() {
            429 => "rate_limit_error",
            529 | 503 => "overloaded_error",
            _ => "api_error",
        };
        error_frame(kind, &err.to_string())
    }
}
