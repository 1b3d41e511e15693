//! Snapshots of everything each client dialect writes: one-answer bodies, stream frames and
//! error bodies. A change to any wire format shows up here as a diff to review
//! (`INSTA_UPDATE=always cargo test -p aigne-hub dialects::snapshots`, then read the `.snap`
//! files before committing them).

use super::ChatDialect;
use super::aigne::AigneChat;
use super::anthropic::AnthropicMessages;
use super::legacy::LegacyChat;
use super::media::{Encoding, embeddings_answer};
use super::openai::OpenAiChat;
use crate::error::ApiError;
use crate::providers::UpstreamError;
use crate::providers::media::{EmbeddingResponse, Measure, Vector};
use crate::providers::types::{
    ChatRequest, ChatResponse, Message, Part, Role, Sampling, StreamEvent, ToolCall, Usage,
};
use hub_core::engine::Done;
use hub_core::engine::context::{CHAT_KIND, CallContext};
use hub_core::engine::relay::{Encoder, StreamEnd};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::time::Instant;

fn ctx() -> CallContext {
    CallContext {
        row_committed_by_route: false,
        started: Instant::now(),
        auth_ms: 0.0,
        user_did: "z1user".into(),
        role: "member",
        app_did: None,
        request_id: "req-1".into(),
        trace_id: None,
        endpoint: "/api/v2/chat/completions".into(),
        requested_model: "openai/gpt-5-mini".into(),
        stream: false,
        instance_id: "test".into(),
        kind: CHAT_KIND,
        dialect: "openai",
        mount: String::new(),
    }
}

const USAGE: Usage = Usage {
    reasoning_tokens: 0,
    prompt_tokens: 12,
    completion_tokens: 7,
    cache_read_tokens: 4,
    cache_write_tokens: 0,
};

fn chat() -> ChatRequest {
    ChatRequest {
        native: None,
        model: "gpt-5-mini".into(),
        messages: vec![Message {
            role: Role::User,
            content: vec![Part::Text("Say hello".into())],
            name: None,
            tool_call_id: None,
            tool_calls: Vec::new(),
        }],
        tools: Vec::new(),
        tool_choice: None,
        response_format: None,
        sampling: Sampling::default(),
        extra: Default::default(),
    }
}

fn done<T>(output: T) -> Done<T> {
    Done {
        output,
        call_id: "0190c0de-0000-7000-8000-000000000001".into(),
        upstream_ms: 12.5,
        model_with_provider: "openai/gpt-5-mini".into(),
        credits: Decimal::from_str("0.0000215").unwrap(),
        measure: Measure::tokens(USAGE),
        open: None,
    }
}

fn answer() -> ChatResponse {
    ChatResponse {
        raw: None,
        id: "chatcmpl-1".into(),
        model: "gpt-5-mini-2025-08-07".into(),
        created: 1_764_000_000,
        content: Some("Hello! \"Hi\" ✓".into()),
        reasoning: None,
        tool_calls: vec![ToolCall {
            id: "call_1".into(),
            name: "lookup".into(),
            arguments: "{\"q\":\"x\"}".into(),
        }],
        finish_reason: Some("tool_calls".into()),
        usage: USAGE,
    }
}

/// A stream's frames, from its first event to its end (or its failure).
fn frames<D: ChatDialect>(options: D::Options, fail: bool) -> String {
    let first = StreamEvent::Start {
        id: "chatcmpl-1".into(),
        model: "gpt-5-mini".into(),
        created: 1_764_000_000,
    };
    let mut e = D::stream(&first, "openai/gpt-5-mini", &ctx(), options);
    let mut out = e.start();
    let events = [
        first,
        StreamEvent::Text("Hel".into()),
        StreamEvent::Reasoning("thinking".into()),
        StreamEvent::ToolCall {
            index: 0,
            id: Some("call_1".into()),
            name: Some("lookup".into()),
            arguments: "{\"q\"".into(),
        },
        StreamEvent::ToolCall {
            index: 0,
            id: None,
            name: None,
            arguments: ":\"x\"}".into(),
        },
        StreamEvent::Text("lo".into()),
        StreamEvent::Usage(USAGE),
    ];
    out.extend(events.iter().filter_map(|ev| e.event(ev)));
    if fail {
        out.push(e.error(&UpstreamError::Status {
            provider: "openai",
            status: 429,
            message: "Rate limit reached".into(),
            retry_after: None,
            cause: crate::providers::cause::Cause::Unknown,
        }));
    } else {
        out.extend(e.finish(&StreamEnd {
            usage: &USAGE,
            call_id: "0190c0de-0000-7000-8000-000000000001",
            credits: Decimal::from_str("0.0000215").unwrap(),
        }));
    }
    // The OpenAI encoder makes an id when the upstream gives none; this stream gives one.
    out.concat()
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[test]
fn openai_chat() {
    insta::assert_snapshot!(
        "openai_answer",
        text(OpenAiChat::answer(&done(answer()), &chat(), &ctx(), &true))
    );
    insta::assert_snapshot!("openai_stream", frames::<OpenAiChat>(true, false));
    insta::assert_snapshot!(
        "openai_stream_without_usage",
        frames::<OpenAiChat>(false, false)
    );
    insta::assert_snapshot!("openai_stream_error", frames::<OpenAiChat>(true, true));
}

#[test]
fn aigne_chat() {
    insta::assert_snapshot!(
        "aigne_answer",
        text(AigneChat::answer(&done(answer()), &chat(), &ctx(), &false))
    );
    insta::assert_snapshot!(
        "aigne_answer_json",
        text(AigneChat::answer(
            &done(ChatResponse {
                content: Some("{\"a\":1}".into()),
                tool_calls: Vec::new(),
                ..answer()
            }),
            &chat(),
            &ctx(),
            &true
        ))
    );
    insta::assert_snapshot!("aigne_stream", frames::<AigneChat>(false, false));
    insta::assert_snapshot!("aigne_stream_error", frames::<AigneChat>(false, true));
}

#[test]
fn legacy_chat() {
    insta::assert_snapshot!(
        "legacy_answer",
        text(LegacyChat::answer(&done(answer()), &chat(), &ctx(), &()))
    );
    insta::assert_snapshot!("legacy_stream", frames::<LegacyChat>((), false));
    insta::assert_snapshot!("legacy_stream_error", frames::<LegacyChat>((), true));
}

#[test]
fn anthropic_messages() {
    let thought = ChatResponse {
        reasoning: Some("Let me look it up.".into()),
        ..answer()
    };
    insta::assert_snapshot!(
        "anthropic_answer",
        text(AnthropicMessages::answer(
            &done(thought.clone()),
            &chat(),
            &ctx(),
            &true
        ))
    );
    insta::assert_snapshot!(
        "anthropic_answer_without_thinking",
        text(AnthropicMessages::answer(
            &done(thought),
            &chat(),
            &ctx(),
            &false
        ))
    );
    insta::assert_snapshot!("anthropic_stream", frames::<AnthropicMessages>(true, false));
    insta::assert_snapshot!(
        "anthropic_stream_error",
        frames::<AnthropicMessages>(false, true)
    );
    let errors = [
        ApiError::invalid("max_tokens", "is required"),
        ApiError::Unauthorized("access key has expired".into()),
        crate::error::not_enough("-0.5", "/credits"),
        crate::error::upstream(&UpstreamError::Status {
            provider: "anthropic",
            status: 429,
            message: "rate limited".into(),
            retry_after: None,
            cause: crate::providers::cause::Cause::Unknown,
        }),
    ]
    .map(|e| {
        format!(
            "{} {}",
            actix_web::ResponseError::status_code(&e),
            AnthropicMessages::error(&e)
        )
    });
    insta::assert_snapshot!("anthropic_errors", errors.join("\n"));
}

#[test]
fn error_bodies() {
    // The timestamp is the time of answering: masked so the snapshot is stable.
    let masked = |e: ApiError| {
        let mut v: serde_json::Value = serde_json::from_str(&OpenAiChat::error(&e)).unwrap();
        if v["error"].get("timestamp").is_some() {
            v["error"]["timestamp"] = "<time>".into();
        }
        serde_json::to_string_pretty(&v).unwrap()
    };
    insta::assert_snapshot!(
        "error_invalid",
        masked(ApiError::invalid("model", "is empty"))
    );
    insta::assert_snapshot!(
        "error_payment_required",
        masked(crate::error::not_enough("-0.5", "/credits"))
    );
    insta::assert_snapshot!(
        "error_upstream_rate_limited",
        masked(crate::error::upstream(&UpstreamError::Status {
            provider: "anthropic",
            status: 429,
            message: "rate limited".into(),
            retry_after: None,
            cause: crate::providers::cause::Cause::Unknown,
        }))
    );
    insta::assert_snapshot!(
        "error_upstream_key_rejected",
        masked(crate::error::upstream(&UpstreamError::Status {
            provider: "openai",
            status: 401,
            message: "Incorrect API key provided: sk-abc***xyz".into(),
            retry_after: None,
            cause: crate::providers::cause::Cause::Unknown,
        }))
    );
    insta::assert_snapshot!(
        "error_unavailable",
        masked(ApiError::Unavailable(
            "provider 'xai' has no active credential".into()
        ))
    );
}

#[test]
fn embeddings() {
    let vectors = ["[0.0023064255,-0.009327292,1e-7]", "[0.5,-1,2.25]"]
        .map(|v| Vector::try_from(v).unwrap())
        .to_vec();
    let mut out = done(EmbeddingResponse {
        vectors,
        model: "text-embedding-3-small".into(),
        usage: Usage {
            prompt_tokens: 8,
            ..Usage::default()
        },
    });
    out.model_with_provider = "openai/text-embedding-3-small".into();
    let requested = "openai/text-embedding-3-small";
    insta::assert_snapshot!(
        "embeddings_float",
        text(embeddings_answer(&out, false, Encoding::Float, requested).unwrap())
    );
    insta::assert_snapshot!(
        "embeddings_base64",
        text(embeddings_answer(&out, false, Encoding::Base64, requested).unwrap())
    );
    insta::assert_snapshot!(
        "embeddings_aigne",
        text(embeddings_answer(&out, true, Encoding::Float, requested).unwrap())
    );
}
