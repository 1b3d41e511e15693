//! The OpenAI Responses dialect: what `responses.create` in OpenAI's SDKs (and the AI SDK's
//! default OpenAI provider, and Codex) sends to `/v1/responses`, and the response objects and
//! typed stream events they read back, for any provider the Hub routes to. Errors use OpenAI's
//! `{"error": {…}}` shape, as for Chat Completions.
//!
//! Unlike the other chat dialects this one is stateful — a stored response is continued by
//! `previous_response_id` — so its route (`routes::responses`) reads and writes stored turns
//! around the engine instead of going through `routes::chat::serve`.

mod answer;
mod request;
mod stream;

pub use answer::{Turn, adopt, new_id, output_items, response_json, status_of};
pub use request::{Echo, ResponsesRequest};
pub use stream::{FinalSlot, ResponsesEncoder};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use crate::providers::types::{
        ChatRequest, ResponseFormat, Role, StreamEvent, ToolChoice, Usage,
    };
    use hub_core::engine::relay::{Encoder, StreamEnd};
    use serde_json::{Value, json};
    use std::sync::{Arc, Mutex};

    fn internal(body: Value, history: &[Value]) -> Result<ChatRequest, ApiError> {
        let wire: ResponsesRequest = serde_json::from_value(body).expect("wire");
        let input = wire.input_items()?;
        wire.into_internal("gpt-5-mini".into(), history, &input)
    }

    use crate::dialects::field_of as param_of;

    #[test]
    fn items_become_messages_with_calls_and_outputs() {
        let history = vec![
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "weather?"}]}),
            json!({"type": "reasoning", "id": "rs_1", "summary": []}),
            json!({"type": "function_call", "call_id": "call_1", "name": "weather", "arguments": "{\"city\":\"Paris\"}"}),
            json!({"type": "function_call", "call_id": "call_2", "name": "weather", "arguments": "{\"city\":\"Rome\"}"}),
        ];
        let req = internal(
            json!({
                "input": [
                    {"type": "function_call_output", "call_id": "call_1", "output": "20C"},
                    {"type": "function_call_output", "call_id": "call_2", "output": "25C"},
                    {"role": "developer", "content": "answer in French"},
                    {"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png", "detail": "low"}]}
                ],
                "instructions": "be brief",
                "tools": [{"type": "function", "name": "weather", "parameters": {"type": "object"}},
                          {"type": "namespace", "name": "agents", "tools": [{"type": "function", "name": "spawn_agent"}]}],
                "tool_choice": {"type": "function", "name": "weather"},
                "text": {"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}, "strict": true}},
                "reasoning": {"effort": "low"},
                "max_output_tokens": 64,
                "parallel_tool_calls": false
            }),
            &history,
        )
        .expect("request");
        let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                Role::System,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::Tool,
                Role::System,
                Role::User
            ]
        );
        // Both calls of the turn travel in one assistant message; reasoning is not forwarded.
        assert_eq!(req.messages[2].tool_calls.len(), 2);
        assert_eq!(req.messages[3].tool_call_id.as_deref(), Some("call_1"));
        assert_eq!(
            req.tool_choice,
            Some(ToolChoice::Function("weather".into()))
        );
        assert!(
            matches!(req.response_format, Some(ResponseFormat::JsonSchema { ref name, strict: Some(true), .. }) if name == "w")
        );
        let names: Vec<&str> = req.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["weather", "spawn_agent"]);
        assert_eq!(req.sampling.reasoning_effort.as_deref(), Some("low"));
        assert_eq!(req.sampling.max_tokens, Some(64));
        assert_eq!(req.extra["parallel_tool_calls"], json!(false));
    }

    #[test]
    fn bad_items_are_named() {
        let cases = [
            (json!({}), "input"),
            (json!({"input": []}), "input"),
            (json!({"input": 5}), "input"),
            (
                json!({"input": [{"type": "message", "role": "robot", "content": "x"}]}),
                "input[0].role",
            ),
            (
                json!({"input": [{"role": "user", "content": [{"type": "input_audio"}]}]}),
                "input[0].content[0].type",
            ),
            (
                json!({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}]}),
                "input[0].content[0].file_id",
            ),
            (
                json!({"input": [{"type": "function_call_output", "call_id": "c", "output": "x"}]}),
                "input[0].call_id",
            ),
            (
                json!({"input": [{"type": "item_reference", "id": "msg_1"}]}),
                "input[0].type",
            ),
            (
                json!({"input": "x", "tools": [{"type": "file_search"}]}),
                "tools[0].type",
            ),
            (
                json!({"input": "x", "tools": [{"type": "namespace", "name": "n", "tools": [{"type": "web_search"}]}]}),
                "tools[0].tools[0].type",
            ),
            (
                json!({"input": "x", "tool_choice": "sometimes"}),
                "tool_choice",
            ),
            (
                json!({"input": "x", "max_output_tokens": 0}),
                "max_output_tokens",
            ),
            (
                json!({"input": [{"role": "system", "content": "only rules"}]}),
                "input",
            ),
        ];
        for (body, param) in cases {
            let got = internal(body.clone(), &[]).map(drop).map_err(param_of);
            assert_eq!(got, Err(param.to_owned()), "{body}");
        }
    }

    fn run(events: &[StreamEvent]) -> (Vec<Value>, Value) {
        let slot: FinalSlot = Arc::new(Mutex::new(None));
        let turn = Turn {
            id: "resp_1".into(),
            created_at: 1,
            model: "openai/gpt-5-mini".into(),
        };
        let mut enc = ResponsesEncoder::new(turn, Echo::default(), Some(slot.clone()));
        let mut text: String = enc.start().concat();
        for e in events {
            text.push_str(&enc.event(e).unwrap_or_default());
        }
        let usage = Usage {
            prompt_tokens: 5,
            completion_tokens: 7,
            ..Usage::default()
        };
        let end = StreamEnd {
            usage: &usage,
            call_id: "c",
            credits: rust_decimal::Decimal::ZERO,
        };
        text.push_str(&enc.finish(&end).concat());
        let frames = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).expect("json"))
            .collect();
        let last = slot.lock().expect("slot").clone().expect("final response");
        (frames, last)
    }

    #[test]
    fn a_stream_opens_and_closes_each_item_in_order() {
        let mut events = vec![StreamEvent::Start {
            id: "x".into(),
            model: "m".into(),
            created: 1,
        }];
        events.extend(crate::dialects::tool_stream());
        let (frames, last) = run(&events);
        let kinds: Vec<&str> = frames.iter().filter_map(|f| f["type"].as_str()).collect();
        assert_eq!(
            kinds,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.reasoning_summary_part.added",
                "response.reasoning_summary_text.delta",
                "response.reasoning_summary_text.done",
                "response.reasoning_summary_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f["sequence_number"], i, "{f}");
        }
        assert_eq!(frames[12]["text"], "Hello");
        assert_eq!(frames[15]["output_index"], 2);
        assert_eq!(frames[18]["arguments"], "{\"a\":1}");
        assert_eq!(last["status"], "completed");
        assert_eq!(last["output"][1]["content"][0]["text"], "Hello");
        assert_eq!(last["output"][2]["call_id"], "call_1");
        assert_eq!(last["usage"]["total_tokens"], 12);
        assert_eq!(frames.last().expect("last")["response"], last);
    }

    #[test]
    fn a_stream_cut_at_the_limit_is_incomplete() {
        let (frames, last) = run(&[
            StreamEvent::Text("Hi".into()),
            StreamEvent::Finish {
                reason: "length".into(),
            },
        ]);
        assert_eq!(frames.last().expect("last")["type"], "response.incomplete");
        assert_eq!(last["incomplete_details"]["reason"], "max_output_tokens");
    }
}
