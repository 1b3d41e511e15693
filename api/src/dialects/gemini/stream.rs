//! `streamGenerateContent` as Gemini's clients read it: each chunk a whole
//! `GenerateContentResponse` holding the new text, as SSE (`alt=sse`, what the SDKs ask for) or
//! as the elements of one JSON array (without `alt`). Gemini sends a function call whole, so
//! the Hub's call fragments are gathered and sent in the last chunk with the finish reason and
//! usage.

use super::answer::{call_part, finish_reason, response, usage_json};
use crate::providers::UpstreamError;
use crate::providers::types::{StreamEvent, ToolCall};
use hub_core::engine::relay::{Encoder, StreamEnd};
use serde_json::{Value, json};

pub struct GeminiEncoder {
    id: String,
    model: String,
    thoughts: bool,
    sse: bool,
    /// A chunk has been written (the JSON array needs commas between them).
    wrote: bool,
    calls: Vec<(u32, ToolCall)>,
    finish: Option<String>,
    /// Native: Gemini's own chunks are forwarded as they came; the last one (with its finish
    /// reason and usage) is held until the call's row is committed.
    native: Option<Vec<String>>,
}

impl GeminiEncoder {
    pub fn new(first: &StreamEvent, model: &str, thoughts: bool, sse: bool) -> Self {
        let id = match first {
            StreamEvent::Start { id, .. } => id.clone(),
            _ => String::new(),
        };
        Self {
            id,
            model: model.to_owned(),
            thoughts,
            sse,
            wrote: false,
            calls: Vec::new(),
            finish: None,
            native: matches!(first, StreamEvent::Raw(_)).then(Vec::new),
        }
    }

    /// One chunk's JSON text, framed for the client.
    fn chunk_text(&mut self, text: &str) -> String {
        if self.sse {
            return format!("data: {text}\r\n\r\n");
        }
        let sep = if self.wrote { ",\r\n" } else { "" };
        self.wrote = true;
        format!("{sep}{text}")
    }

    fn chunk(&mut self, value: &Value) -> String {
        if self.sse {
            return format!("data: {value}\r\n\r\n");
        }
        let sep = if self.wrote { ",\r\n" } else { "" };
        self.wrote = true;
        format!("{sep}{value}")
    }

    fn parts(&mut self, parts: Vec<Value>) -> String {
        let value = response(parts, None, &self.model, &self.id);
        self.chunk(&value)
    }
}

impl Encoder for GeminiEncoder {
    fn start(&mut self) -> Vec<String> {
        if self.sse {
            Vec::new()
        } else {
            vec!["[".to_owned()]
        }
    }

    fn event(&mut self, event: &StreamEvent) -> Option<String> {
        if self.native.is_some() {
            let StreamEvent::Raw(text) = event else {
                return None;
            };
            let held = self.native.as_ref().is_some_and(|h| !h.is_empty());
            if held || text.contains("\"finishReason\"") {
                self.native.get_or_insert_with(Vec::new).push(text.clone());
                return None;
            }
            return Some(self.chunk_text(text));
        }
        match event {
            StreamEvent::Text(t) if !t.is_empty() => Some(self.parts(vec![json!({"text": t})])),
            StreamEvent::Reasoning(r) if self.thoughts && !r.is_empty() => {
                Some(self.parts(vec![json!({"text": r, "thought": true})]))
            }
            StreamEvent::ToolCall {
                index,
                id,
                name,
                arguments,
            } => {
                match self.calls.iter_mut().find(|(i, _)| i == index) {
                    Some((_, call)) => call.arguments.push_str(arguments),
                    None => self.calls.push((
                        *index,
                        ToolCall {
                            id: id.clone().unwrap_or_else(|| format!("call_{index}")),
                            name: name.clone().unwrap_or_default(),
                            arguments: arguments.clone(),
                        },
                    )),
                }
                None
            }
            StreamEvent::Finish { reason } => {
                self.finish = Some(reason.clone());
                None
            }
            _ => None,
        }
    }

    fn finish(&mut self, end: &StreamEnd<'_>) -> Vec<String> {
        if let Some(held) = self.native.take() {
            let mut out: Vec<String> = held.iter().map(|t| self.chunk_text(t)).collect();
            if !self.sse {
                out.push("]".to_owned());
            }
            return out;
        }
        let parts: Vec<Value> = self.calls.iter().map(|(_, c)| call_part(c)).collect();
        let reason = finish_reason(self.finish.as_deref());
        let mut last = response(parts, Some(reason), &self.model, &self.id);
        last["usageMetadata"] = usage_json(end.usage);
        let mut out = vec![self.chunk(&last)];
        if !self.sse {
            out.push("]".to_owned());
        }
        out
    }

    fn error(&mut self, err: &UpstreamError) -> String {
        let status = err.client_status();
        let body = super::error_value(status, &err.to_string(), None);
        let mut out = self.chunk(&body);
        if !self.sse {
            out.push(']');
        }
        out
    }
}
