//! Counting a prompt's tokens without asking a provider: OpenAI's `o200k_base` tokenizer over
//! the text the provider would read. Other families tokenise differently, so the count is an
//! estimate and callers say so; it is what a client asking "how large is this prompt?" needs
//! when the model's own provider has no counting endpoint.

use super::types::{ChatRequest, Part};
use std::sync::LazyLock;
use tiktoken_rs::CoreBPE;

/// Tokens counted per image or file part (a high-detail image costs OpenAI up to ~1,100; the
/// real figure depends on its size, which the Hub does not decode).
pub const TOKENS_PER_ATTACHMENT: u64 = 1_100;
/// Tokens of a message's framing (role and separators), as OpenAI's chat format counts them.
const TOKENS_PER_MESSAGE: u64 = 3;

static TOKENIZER: LazyLock<Option<CoreBPE>> = LazyLock::new(|| match tiktoken_rs::o200k_base() {
    Ok(bpe) => Some(bpe),
    Err(e) => {
        tracing::error!(error = %e, "the o200k_base tokenizer did not load; counting bytes / 4");
        None
    }
});

/// The tokens of `text`.
pub fn text_tokens(text: &str) -> u64 {
    match TOKENIZER.as_ref() {
        Some(bpe) => bpe.count_ordinary(text) as u64,
        None => (text.len() as u64).div_ceil(4),
    }
}

/// The estimated input tokens of `chat`: every message's text and tool calls, the tool
/// definitions, and each attachment at [`TOKENS_PER_ATTACHMENT`].
pub fn prompt_tokens(chat: &ChatRequest) -> u64 {
    let mut n = 0;
    for message in &chat.messages {
        n += TOKENS_PER_MESSAGE;
        for part in &message.content {
            n += match part {
                Part::Text(t) => text_tokens(t),
                Part::Image { .. } | Part::File { .. } => TOKENS_PER_ATTACHMENT,
            };
        }
        for call in &message.tool_calls {
            n += text_tokens(&call.name) + text_tokens(&call.arguments);
        }
    }
    for tool in &chat.tools {
        n += text_tokens(&tool.name);
        if let Some(d) = &tool.description {
            n += text_tokens(d);
        }
        if let Some(p) = &tool.parameters {
            n += text_tokens(&p.to_string());
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::types::{Message, Role, Sampling};

    #[test]
    fn counts_with_the_tokenizer_not_by_length() {
        // o200k_base: "hello world" is two tokens; 400 repeated letters are far fewer than 100.
        assert_eq!(text_tokens("hello world"), 2);
        assert!(text_tokens(&"a".repeat(400)) < 100);
        let chat = ChatRequest {
            native: None,
            model: "m".into(),
            messages: vec![Message {
                role: Role::User,
                content: vec![
                    Part::Text("hello world".into()),
                    Part::Image {
                        url: "https://x/y.png".into(),
                        detail: None,
                    },
                ],
                tool_calls: vec![],
                tool_call_id: None,
                name: None,
            }],
            tools: vec![],
            tool_choice: None,
            response_format: None,
            sampling: Sampling::default(),
            extra: serde_json::Map::new(),
        };
        assert_eq!(prompt_tokens(&chat), 3 + 2 + TOKENS_PER_ATTACHMENT);
    }
}
