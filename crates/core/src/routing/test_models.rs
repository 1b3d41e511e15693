//! The models a key is tried with before it is saved: cheap, generally available chat models,
//! one per provider. An operator whose account cannot use the default names another.

use crate::providers::ProviderKind;
use crate::providers::types::{ChatRequest, Message, Part, Role, Sampling};

/// The default test model of `kind` (`None`: the provider has no chat to try, Ideogram).
pub fn default_for(kind: ProviderKind) -> Option<&'static str> {
    Some(match kind {
        ProviderKind::OpenAi => "gpt-4.1-nano",
        ProviderKind::Anthropic => "claude-haiku-4-5",
        ProviderKind::Google => "gemini-2.5-flash-lite",
        ProviderKind::Bedrock => "us.amazon.nova-lite-v1:0",
        ProviderKind::DeepSeek => "deepseek-chat",
        ProviderKind::Xai => "grok-3-mini",
        ProviderKind::OpenRouter => "openai/gpt-4o-mini",
        ProviderKind::Ollama => "llama3.2",
        ProviderKind::Doubao => "doubao-seed-1-6-flash-250828",
        ProviderKind::Poe => "GPT-4o-Mini",
        ProviderKind::Ideogram => return None,
    })
}

/// Every provider's default, by provider name (`GET /api/ai-providers/test-models`).
pub fn defaults() -> Vec<(&'static str, &'static str)> {
    ProviderKind::ALL
        .into_iter()
        .filter_map(|k| Some((k.name(), default_for(k)?)))
        .collect()
}

/// The smallest call that proves a key can chat with `model`: one short message, a few tokens
/// of answer (a single token trips some models' output checks).
pub fn ping(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.to_owned(),
        messages: vec![Message::new(Role::User, vec![Part::Text("Say OK.".into())])],
        tools: Vec::new(),
        tool_choice: None,
        response_format: None,
        sampling: Sampling {
            max_tokens: Some(16),
            ..Sampling::default()
        },
        extra: serde_json::Map::new(),
        native: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chat_provider_has_a_test_model() {
        let names: Vec<&str> = defaults().iter().map(|(p, _)| *p).collect();
        assert_eq!(names.len(), ProviderKind::ALL.len() - 1);
        assert!(!names.contains(&"ideogram"));
        assert_eq!(ping("m").sampling.max_tokens, Some(16));
    }
}
