//! The `chat.completion` object of a call with one answer, serialised straight from the
//! internal answer (no intermediate `Value` tree: this is on every non-streaming call).

use crate::providers::types::{ChatResponse, Usage};
use serde::Serialize;
use serde_json::Value;

pub(super) fn usage_json(u: &Usage) -> Value {
    serde_json::to_value(UsageOut::of(u)).unwrap_or(Value::Null)
}

/// The `chat.completion` object for a client; `model` is what the client asked for. Serialized
/// straight from the answer (no intermediate `Value` tree: this is on every non-streaming call).
pub fn completion_json<'a>(res: &'a ChatResponse, model: &'a str) -> Completion<'a> {
    Completion {
        id: &res.id,
        object: "chat.completion",
        created: res.created,
        model,
        choices: [CompletionChoice {
            index: 0,
            message: CompletionMessage {
                role: "assistant",
                content: res.content.as_deref(),
                reasoning_content: res.reasoning.as_deref(),
                tool_calls: res
                    .tool_calls
                    .iter()
                    .map(|c| ToolCallOut {
                        id: &c.id,
                        kind: "function",
                        function: FunctionOut {
                            name: &c.name,
                            arguments: &c.arguments,
                        },
                    })
                    .collect(),
            },
            finish_reason: res.finish_reason.as_deref(),
            logprobs: None,
        }],
        usage: UsageOut::of(&res.usage),
    }
}

#[derive(Serialize)]
pub struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: i64,
    model: &'a str,
    choices: [CompletionChoice<'a>; 1],
    usage: UsageOut,
}

#[derive(Serialize)]
struct CompletionChoice<'a> {
    index: u32,
    message: CompletionMessage<'a>,
    finish_reason: Option<&'a str>,
    logprobs: Option<()>,
}

#[derive(Serialize)]
struct CompletionMessage<'a> {
    role: &'static str,
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCallOut<'a>>,
}

#[derive(Serialize)]
struct ToolCallOut<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
pub(super) struct UsageOut {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_tokens_details: Option<CachedTokens>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_tokens_details: Option<ReasoningTokens>,
}

#[derive(Serialize)]
struct CachedTokens {
    cached_tokens: u64,
}

#[derive(Serialize)]
struct ReasoningTokens {
    reasoning_tokens: u64,
}

impl UsageOut {
    fn of(u: &Usage) -> UsageOut {
        UsageOut {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total(),
            prompt_tokens_details: (u.cache_read_tokens > 0).then_some(CachedTokens {
                cached_tokens: u.cache_read_tokens,
            }),
            completion_tokens_details: (u.reasoning_tokens > 0).then_some(ReasoningTokens {
                reasoning_tokens: u.reasoning_tokens,
            }),
        }
    }
}
