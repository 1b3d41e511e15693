//! The Anthropic Messages dialect: what Anthropic's SDKs and Claude Code send to `/v1/messages`,
//! and the messages, stream events and errors they get back, for any provider the Hub routes to.

mod answer;
mod request;
mod stream;

pub use answer::{message_json, usage_json};
pub use request::MessagesRequest;
pub use stream::{MessagesEncoder, error_frame};

use crate::auth::token::JsonBody;
use crate::config::ProviderKind;
use crate::error::ApiError;
use crate::providers::types::{ChatRequest, ChatResponse, Native, StreamEvent};
use actix_web::{HttpMessage, HttpRequest, ResponseError};
use hub_core::engine::Done;
use hub_core::engine::context::CallContext;
use hub_core::routing::ModelRef;
use serde_json::json;

/// `POST /v1/messages` (and `/api/v2/messages`): Anthropic Messages.
pub struct AnthropicMessages;

impl super::ChatDialect for AnthropicMessages {
    const NAME: &'static str = "anthropic";
    type Body = MessagesRequest;
    /// The client asked for extended thinking.
    type Options = bool;
    type Stream = MessagesEncoder;

    fn heading(body: &MessagesRequest, _req: &HttpRequest) -> super::Heading<bool> {
        super::Heading {
            model: body.model.clone(),
            stream: body.wants_stream(),
            options: body.wants_thinking(),
        }
    }

    fn into_chat(
        body: MessagesRequest,
        model: &ModelRef,
        req: &HttpRequest,
    ) -> Result<ChatRequest, ApiError> {
        let anthropic = model.provider == Some(ProviderKind::Anthropic);
        let mut chat = body.into_internal_for(model.model.clone(), anthropic)?;
        chat.native = native(req);
        Ok(chat)
    }

    fn answer(
        done: &Done<ChatResponse>,
        _chat: &ChatRequest,
        ctx: &CallContext,
        thinking: &bool,
    ) -> Vec<u8> {
        // Native: Anthropic's own message, as it wrote it.
        match &done.output.raw {
            Some(raw) => raw.to_string().into_bytes(),
            None => message_json(&done.output, &ctx.requested_model, *thinking)
                .to_string()
                .into_bytes(),
        }
    }

    fn stream(
        first: &StreamEvent,
        _model_with_provider: &str,
        ctx: &CallContext,
        thinking: bool,
    ) -> MessagesEncoder {
        MessagesEncoder::new(first, &ctx.requested_model, thinking)
    }

    fn error(err: &ApiError) -> String {
        error_body(err)
    }
}

/// The client's body and Anthropic headers, for an attempt that goes to Anthropic: it is sent as
/// the client wrote it (cache control, thinking signatures, beta features and every other field
/// the Hub does not model kept), and answers as Anthropic wrote it.
pub fn native(req: &HttpRequest) -> Option<Native> {
    let body = req.extensions().get::<JsonBody>()?.0.clone();
    let headers = ["anthropic-version", "anthropic-beta"]
        .iter()
        .filter_map(|name| {
            let value = req.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect();
    Some(Native::Anthropic { body, headers })
}

/// Anthropic's error `type` for a status, which its SDKs and Claude Code show.
pub fn error_kind(status: u16) -> &'static str {
    match status {
        400 | 415 | 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 | 405 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        _ => "api_error",
    }
}

/// `{"type": "error", "error": {"type", "message"}}`, Anthropic's error shape; a 402 also
/// carries the purchase `link` (in the message too, since that is what clients show).
pub fn error_body(err: &ApiError) -> String {
    if let ApiError::Internal(e) = err {
        tracing::error!(error = format!("{e:#}"), "internal error");
    }
    let mut error = json!({
        "type": error_kind(err.status_code().as_u16()),
        "message": err.to_string(),
    });
    if let ApiError::PaymentRequired { link, .. } = err {
        if !link.is_empty() && !err.to_string().contains(link.as_str()) {
            error["message"] = json!(format!("{err} Buy credits: {link}"));
        }
        error["link"] = json!(link);
    }
    json!({"type": "error", "error": error}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::{Part, Role, ToolChoice, Usage};
    use hub_core::engine::relay::{Encoder, StreamEnd};
    use serde_json::{Value, json};

    fn request(body: Value) -> Result<ChatRequest, ApiError> {
        let wire: MessagesRequest = serde_json::from_value(body).expect("wire");
        wire.into_internal("claude-sonnet-4-5".into())
    }

    use crate::dialects::field_of;

    #[test]
    fn converts_system_tools_results_images_and_thinking() {
        let req = request(json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {"role": "user", "content": "weather in Paris?"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "call the tool", "signature": "sig"},
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                        {"type": "text", "text": "20C"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}
                    ]},
                    {"type": "text", "text": "and tomorrow?"}
                ]}
            ],
            "tools": [{"name": "weather", "description": "forecast", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
            "thinking": {"type": "enabled", "budget_tokens": 8000},
            "stop_sequences": ["END"],
            "metadata": {"user_id": "u-1"},
            "top_k": 5
        }))
        .expect("valid");
        let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                Role::System,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::User
            ]
        );
        assert_eq!(req.messages[0].text(), "be brief");
        assert_eq!(
            req.messages[2].text(),
            "Checking.",
            "thinking is not forwarded"
        );
        assert_eq!(
            req.messages[2].tool_calls[0].arguments,
            r#"{"city":"Paris"}"#
        );
        assert_eq!(req.messages[3].tool_call_id.as_deref(), Some("toolu_1"));
        assert_eq!(req.messages[3].text(), "20C");
        assert_eq!(
            req.messages[4].content[0],
            Part::Image {
                url: "data:image/png;base64,iVBO".into(),
                detail: None
            },
            "a tool result's image joins the user turn"
        );
        assert_eq!(
            req.messages[4].content[1],
            Part::Text("and tomorrow?".into())
        );
        assert_eq!(req.tool_choice, Some(ToolChoice::Required));
        assert_eq!(req.extra["parallel_tool_calls"], false);
        assert_eq!(req.sampling.max_tokens, Some(1024));
        assert_eq!(req.sampling.reasoning_effort.as_deref(), Some("medium"));
        assert_eq!(req.sampling.stop, ["END"]);
        assert_eq!(req.sampling.user.as_deref(), Some("u-1"));
    }

    #[test]
    fn bad_input_names_the_field() {
        let base = |messages: Value| json!({"model": "m", "max_tokens": 10, "messages": messages});
        let missing = request(json!({"model": "m", "messages": []})).unwrap_err();
        assert_eq!(field_of(missing), "max_tokens");
        let unknown = request(base(
            json!([{"role": "user", "content": [{"type": "hologram"}]}]),
        ));
        assert_eq!(
            field_of(unknown.unwrap_err()),
            "messages[0].content[0].type"
        );
        let orphan = request(base(json!([{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_9", "content": "x"}
        ]}])));
        assert_eq!(
            field_of(orphan.unwrap_err()),
            "messages[0].content[0].tool_use_id"
        );
        let role = request(base(json!([{"role": "developer", "content": "x"}])));
        assert_eq!(field_of(role.unwrap_err()), "messages[0].role");
        let mut builtin = base(json!([{"role": "user", "content": "x"}]));
        builtin["tools"] = json!([{"type": "web_search_20250305", "name": "web_search"}]);
        let err = request(builtin).unwrap_err();
        assert!(err.to_string().contains("web_search_20250305"), "{err}");
        assert_eq!(field_of(err), "tools[0]");
    }

    fn frames(events: &[StreamEvent], thinking: bool) -> Vec<Value> {
        let first = StreamEvent::Start {
            id: "chatcmpl-9".into(),
            model: "gpt-5-mini".into(),
            created: 0,
        };
        let mut e = MessagesEncoder::new(&first, "claude-sonnet-4-5", thinking);
        let mut out = e.start().concat();
        for ev in events {
            out.push_str(&e.event(ev).unwrap_or_default());
        }
        let usage = Usage {
            reasoning_tokens: 0,
            prompt_tokens: 30,
            completion_tokens: 9,
            cache_read_tokens: 10,
            cache_write_tokens: 5,
        };
        out.push_str(
            &e.finish(&StreamEnd {
                usage: &usage,
                call_id: "c",
                credits: Default::default(),
            })[0],
        );
        out.split("\n\n")
            .filter(|f| !f.is_empty())
            .map(|f| {
                let (name, data) = f.split_once('\n').expect("two lines");
                let data: Value =
                    serde_json::from_str(data.strip_prefix("data: ").expect("data")).expect("json");
                assert_eq!(name.strip_prefix("event: "), data["type"].as_str());
                data
            })
            .collect()
    }

    #[test]
    fn stream_opens_and_closes_blocks_in_order() {
        let events = [
            StreamEvent::Reasoning("hmm".into()),
            StreamEvent::Text("Hel".into()),
            StreamEvent::Text("lo".into()),
            StreamEvent::ToolCall {
                index: 0,
                id: Some("call_1".into()),
                name: Some("f".into()),
                arguments: String::new(),
            },
            StreamEvent::ToolCall {
                index: 0,
                id: None,
                name: None,
                arguments: "{\"a\":1}".into(),
            },
            StreamEvent::Finish {
                reason: "tool_calls".into(),
            },
        ];
        let kinds: Vec<String> = frames(&events, true)
            .iter()
            .map(|f| match f["type"].as_str().unwrap_or_default() {
                t @ ("content_block_start" | "content_block_stop") => {
                    format!("{t}:{}", f["index"])
                }
                "content_block_delta" => {
                    format!("delta:{}", f["delta"]["type"].as_str().unwrap_or_default())
                }
                t => t.to_owned(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "message_start",
                "ping",
                "content_block_start:0",
                "delta:thinking_delta",
                "delta:signature_delta",
                "content_block_stop:0",
                "content_block_start:1",
                "delta:text_delta",
                "delta:text_delta",
                "content_block_stop:1",
                "content_block_start:2",
                "delta:input_json_delta",
                "content_block_stop:2",
                "message_delta",
                "message_stop",
            ]
        );
        let all = frames(&events, false);
        assert!(
            all.iter().all(|f| f["delta"]["type"] != "thinking_delta"),
            "no thinking unless asked"
        );
        let end = &all[all.len() - 2];
        assert_eq!(end["delta"]["stop_reason"], "tool_use");
        assert_eq!(
            end["usage"],
            json!({"input_tokens": 15, "output_tokens": 9, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 10})
        );
        assert_eq!(all[0]["message"]["id"], "msg_chatcmpl-9");
        assert_eq!(all[0]["message"]["model"], "claude-sonnet-4-5");
    }
}
