//! A Responses stream as OpenAI's SDKs read it: `response.created`, `response.in_progress`, then
//! per output item `response.output_item.added`, its parts and deltas
//! (`response.output_text.delta`, `response.function_call_arguments.delta`,
//! `response.reasoning_summary_text.delta`) and their `…done` events, `response.output_item.done`,
//! and finally `response.completed` (or `response.incomplete`) with usage. Every event carries
//! its `sequence_number`. The final response object is also handed to the route, which stores it
//! before the last event is sent.

use super::answer::{
    Turn, adopt, function_call_item, message_item, new_id, reasoning_item, response_json, status_of,
};
use super::request::Echo;
use crate::providers::UpstreamError;
use crate::providers::types::{StreamEvent, ToolCall};
use hub_core::engine::relay::{Encoder, StreamEnd};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Where the encoder leaves the final response object (for storing).
pub type FinalSlot = Arc<Mutex<Option<Value>>>;

enum Open {
    Reasoning {
        id: String,
        text: String,
    },
    Message {
        id: String,
        text: String,
    },
    Tool {
        index: u32,
        id: String,
        call: ToolCall,
    },
}

/// A delta event's fields (after `type` and `sequence_number`), in the order a JSON object of
/// them would have: serialized straight from borrowed text, as this runs for every delta.
#[derive(serde::Serialize)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    content_index: Option<u32>,
    delta: &'a str,
    item_id: &'a str,
    output_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary_index: Option<u32>,
}

pub struct ResponsesEncoder {
    turn: Turn,
    echo: Echo,
    seq: u64,
    /// Finished output items, in order.
    output: Vec<Value>,
    open: Option<Open>,
    finish: Option<String>,
    /// `None`: the response is not stored (`store: false`), so it is not kept.
    slot: Option<FinalSlot>,
    /// `Some`: OpenAI's own events are passed on (a native call); holds the last one, with the
    /// finished response, until the call's row is committed.
    native: Option<Option<(String, Value)>>,
}

impl ResponsesEncoder {
    pub fn new(turn: Turn, echo: Echo, slot: Option<FinalSlot>) -> Self {
        Self {
            turn,
            echo,
            seq: 0,
            output: Vec::new(),
            open: None,
            finish: None,
            slot,
            native: None,
        }
    }

    /// An encoder for OpenAI's own stream (the upstream was sent the client's Responses body):
    /// its events go on as OpenAI numbered them, with the Hub's response id.
    pub fn native(turn: Turn, echo: Echo, slot: Option<FinalSlot>) -> Self {
        Self {
            native: Some(None),
            ..Self::new(turn, echo, slot)
        }
    }

    /// One of OpenAI's frames (`event: …\ndata: …\n\n`): those that carry the response object
    /// get the Hub's id; the final one is held (`None`) for [`Encoder::finish`].
    fn pass(&mut self, frame: &str) -> Option<String> {
        self.seq += 1;
        let kind = frame
            .strip_prefix("event: ")
            .and_then(|f| f.split_once('\n'))
            .map_or("", |(k, _)| k);
        let carries = matches!(
            kind,
            "response.created"
                | "response.in_progress"
                | "response.queued"
                | "response.completed"
                | "response.incomplete"
        );
        if !carries {
            return Some(frame.to_owned());
        }
        let data = frame
            .split_once("\ndata: ")
            .map_or("", |(_, d)| d.trim_end());
        let Ok(mut event) = serde_json::from_str::<Value>(data) else {
            return Some(frame.to_owned());
        };
        if let Some(response) = event.get_mut("response") {
            adopt(response, &self.turn, &self.echo);
        }
        if matches!(kind, "response.completed" | "response.incomplete") {
            if let Some(held) = &mut self.native {
                *held = Some((kind.to_owned(), event));
            }
            return None;
        }
        Some(format!("event: {kind}\ndata: {event}\n\n"))
    }

    /// One event: `data`'s fields after `type` and `sequence_number`, written straight into
    /// `out` (no insertions into the object: this runs for every delta).
    fn frame(&mut self, out: &mut String, kind: &str, data: impl serde::Serialize) {
        use std::fmt::Write;
        let seq = self.seq;
        self.seq += 1;
        let body = serde_json::to_string(&data).unwrap_or_else(|_| "{}".to_owned());
        let rest = body
            .strip_prefix('{')
            .filter(|r| *r != "}")
            .map_or_else(|| "}".to_owned(), |r| format!(",{r}"));
        let _ = write!(
            out,
            "event: {kind}\ndata: {{\"type\":\"{kind}\",\"sequence_number\":{seq}{rest}\n\n"
        );
    }

    /// An event that carries the response object, written from it in place (a `json!` around
    /// it would copy the whole response first).
    fn response_frame(&mut self, out: &mut String, kind: &str, response: &Value) {
        use std::fmt::Write;
        let seq = self.seq;
        self.seq += 1;
        let _ = write!(
            out,
            "event: {kind}\ndata: {{\"type\":\"{kind}\",\"sequence_number\":{seq},\"response\":{response}}}\n\n"
        );
    }

    /// The output index of the open item (it is the next one to finish).
    fn index(&self) -> usize {
        self.output.len()
    }

    fn close(&mut self, out: &mut String) {
        let Some(open) = self.open.take() else {
            return;
        };
        let index = self.index();
        let item = match open {
            Open::Reasoning { id, text } => {
                let part = json!({"type": "summary_text", "text": text});
                self.frame(
                    out,
                    "response.reasoning_summary_text.done",
                    json!({"item_id": id, "output_index": index, "summary_index": 0, "text": text}),
                );
                self.frame(
                    out,
                    "response.reasoning_summary_part.done",
                    json!({"item_id": id, "output_index": index, "summary_index": 0, "part": part}),
                );
                reasoning_item(&id, &text)
            }
            Open::Message { id, text } => {
                let part = json!({"type": "output_text", "text": text, "annotations": []});
                self.frame(
                    out,
                    "response.output_text.done",
                    json!({"item_id": id, "output_index": index, "content_index": 0, "text": text}),
                );
                self.frame(
                    out,
                    "response.content_part.done",
                    json!({"item_id": id, "output_index": index, "content_index": 0, "part": part}),
                );
                message_item(&id, &text, "completed")
            }
            Open::Tool { id, call, .. } => {
                self.frame(
                    out,
                    "response.function_call_arguments.done",
                    json!({"item_id": id, "output_index": index, "arguments": call.arguments}),
                );
                function_call_item(&id, &call, "completed")
            }
        };
        self.frame(
            out,
            "response.output_item.done",
            json!({"output_index": index, "item": item}),
        );
        self.output.push(item);
    }

    fn in_progress(&self, status: &str) -> Value {
        response_json(
            &self.turn,
            &self.echo,
            status,
            Value::Null,
            self.output.clone(),
            None,
        )
    }
}

impl Encoder for ResponsesEncoder {
    fn start(&mut self) -> Vec<String> {
        if self.native.is_some() {
            return Vec::new();
        }
        let mut out = String::new();
        let response = self.in_progress("in_progress");
        self.response_frame(&mut out, "response.created", &response);
        self.response_frame(&mut out, "response.in_progress", &response);
        vec![out]
    }

    fn event(&mut self, event: &StreamEvent) -> Option<String> {
        if self.native.is_some() {
            return match event {
                StreamEvent::Raw(frame) => self.pass(frame),
                _ => None,
            };
        }
        let mut out = String::new();
        match event {
            StreamEvent::Start { .. } | StreamEvent::Usage(_) | StreamEvent::Raw(_) => return None,
            StreamEvent::Reasoning(r) => {
                if !matches!(self.open, Some(Open::Reasoning { .. })) {
                    self.close(&mut out);
                    let id = new_id("rs");
                    let index = self.index();
                    self.frame(&mut out, "response.output_item.added", json!({"output_index": index, "item": {"type": "reasoning", "id": id, "summary": []}}));
                    self.frame(&mut out, "response.reasoning_summary_part.added", json!({"item_id": id, "output_index": index, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}));
                    self.open = Some(Open::Reasoning {
                        id,
                        text: String::new(),
                    });
                }
                let index = self.index();
                if let Some(Open::Reasoning { id, text }) = &mut self.open {
                    text.push_str(r);
                    let id = id.clone();
                    let delta = Delta {
                        content_index: None,
                        delta: r,
                        item_id: &id,
                        output_index: index,
                        summary_index: Some(0),
                    };
                    self.frame(&mut out, "response.reasoning_summary_text.delta", delta);
                }
            }
            StreamEvent::Text(t) => {
                if !matches!(self.open, Some(Open::Message { .. })) {
                    self.close(&mut out);
                    let id = new_id("msg");
                    let index = self.index();
                    self.frame(&mut out, "response.output_item.added", json!({"output_index": index, "item": {"type": "message", "id": id, "status": "in_progress", "role": "assistant", "content": []}}));
                    self.frame(&mut out, "response.content_part.added", json!({"item_id": id, "output_index": index, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}));
                    self.open = Some(Open::Message {
                        id,
                        text: String::new(),
                    });
                }
                let index = self.index();
                if let Some(Open::Message { id, text }) = &mut self.open {
                    text.push_str(t);
                    let id = id.clone();
                    let delta = Delta {
                        content_index: Some(0),
                        delta: t,
                        item_id: &id,
                        output_index: index,
                        summary_index: None,
                    };
                    self.frame(&mut out, "response.output_text.delta", delta);
                }
            }
            StreamEvent::ToolCall {
                index: call_index,
                id,
                name,
                arguments,
            } => {
                if !matches!(self.open, Some(Open::Tool { index, .. }) if index == *call_index) {
                    self.close(&mut out);
                    let item_id = new_id("fc");
                    let call = ToolCall {
                        id: id.clone().unwrap_or_else(|| new_id("call")),
                        name: name.clone().unwrap_or_default(),
                        arguments: String::new(),
                    };
                    let index = self.index();
                    self.frame(&mut out, "response.output_item.added", json!({"output_index": index, "item": function_call_item(&item_id, &call, "in_progress")}));
                    self.open = Some(Open::Tool {
                        index: *call_index,
                        id: item_id,
                        call,
                    });
                }
                let index = self.index();
                if let Some(Open::Tool { id, call, .. }) = &mut self.open
                    && !arguments.is_empty()
                {
                    call.arguments.push_str(arguments);
                    let id = id.clone();
                    let delta = Delta {
                        content_index: None,
                        delta: arguments,
                        item_id: &id,
                        output_index: index,
                        summary_index: None,
                    };
                    self.frame(&mut out, "response.function_call_arguments.delta", delta);
                }
            }
            StreamEvent::Finish { reason } => {
                self.close(&mut out);
                self.finish = Some(reason.clone());
            }
        }
        (!out.is_empty()).then_some(out)
    }

    fn finish(&mut self, end: &StreamEnd<'_>) -> Vec<String> {
        if let Some(held) = &mut self.native {
            let Some((kind, event)) = held.take() else {
                return Vec::new();
            };
            if let Some(Ok(mut slot)) = self.slot.as_ref().map(|s| s.lock()) {
                *slot = Some(event["response"].clone());
            }
            return vec![format!("event: {kind}\ndata: {event}\n\n")];
        }
        let mut out = String::new();
        self.close(&mut out);
        let (status, incomplete) = status_of(self.finish.as_deref());
        let response = response_json(
            &self.turn,
            &self.echo,
            status,
            incomplete,
            self.output.clone(),
            Some(end.usage),
        );
        let kind = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.response_frame(&mut out, kind, &response);
        if let Some(Ok(mut slot)) = self.slot.as_ref().map(|s| s.lock()) {
            *slot = Some(response);
        }
        vec![out]
    }

    fn error(&mut self, err: &UpstreamError) -> String {
        let mut out = String::new();
        let code = match err.client_status() {
            429 => "rate_limit_exceeded",
            _ => "server_error",
        };
        let message = err.to_string();
        self.frame(
            &mut out,
            "error",
            json!({"code": code, "message": message, "param": null}),
        );
        let mut response = self.in_progress("failed");
        response["error"] = json!({"code": code, "message": message});
        self.response_frame(&mut out, "response.failed", &response);
        out
    }
}
