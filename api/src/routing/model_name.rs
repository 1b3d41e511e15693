//! Model names (SPEC §6): `provider/model` splits at the first `/` with the provider lower-cased;
//! an unknown prefix means no prefix (`meta-llama/llama-3` stays whole).

use crate::providers::ProviderKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    pub provider: Option<ProviderKind>,
    /// The model id sent upstream.
    pub model: String,
}

pub const DEFAULT_CHAT_MODEL: &str = "openai/gpt-5-mini";

/// The model a client asked for, trimmed, or the default chat model when it named none.
pub fn requested_or_default(model: Option<&str>) -> String {
    requested_or(model, DEFAULT_CHAT_MODEL)
}

/// The model a client asked for, trimmed, or `default` when it named none.
pub fn requested_or(model: Option<&str>, default: &str) -> String {
    model
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or(default)
        .to_owned()
}

pub const DEFAULT_IMAGE_MODEL: &str = "openai/dall-e-2";
pub const DEFAULT_VIDEO_MODEL: &str = "openai/sora-2";

pub fn parse(name: &str) -> ModelRef {
    let name = name.trim();
    if let Some((prefix, rest)) = name.split_once('/')
        && let Ok(kind) = prefix.parse::<ProviderKind>()
        && !rest.is_empty()
    {
        return ModelRef {
            provider: Some(kind),
            model: rest.to_owned(),
        };
    }
    ModelRef {
        provider: None,
        model: name.to_owned(),
    }
}

/// Providers that may serve an unprefixed model, by name pattern (billing off).
pub fn candidates_by_pattern(model: &str) -> &'static [ProviderKind] {
    use ProviderKind::*;
    let m = model.to_ascii_lowercase();
    let starts = |p: &[&str]| p.iter().any(|p| m.starts_with(p));
    if starts(&[
        "amazon.",
        "anthropic.",
        "meta.",
        "cohere.",
        "ai21.",
        "mistral.",
        "us.",
        "eu.",
        "apac.",
    ]) {
        // Bedrock's model ids: `<vendor>.<model>` (or a cross-region `us.<vendor>.<model>`).
        &[Bedrock]
    } else if m.starts_with("ideogram") {
        &[Ideogram]
    } else if starts(&[
        "nomic-embed",
        "mxbai-embed",
        "all-minilm",
        "snowflake-arctic-embed",
    ]) {
        &[Ollama]
    } else if starts(&[
        "gpt-",
        "o1",
        "o3",
        "o4",
        "dall-e-",
        "text-embedding",
        "sora-",
        "chatgpt",
        "whisper",
        "tts-",
    ]) {
        &[OpenAi]
    } else if m.starts_with("claude") {
        &[Anthropic]
    } else if starts(&["gemini", "imagen", "veo"]) {
        &[Google]
    } else if m.starts_with("deepseek") {
        &[DeepSeek]
    } else if m.starts_with("grok") {
        &[Xai]
    } else if m.starts_with("doubao") {
        &[Doubao]
    } else if ["llama", "mistral", "mixtral", "qwen", "gemma", "phi"]
        .iter()
        .any(|p| m.contains(p))
    {
        &[OpenRouter, Ollama, Bedrock]
    } else {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_first_slash_with_known_prefix() {
        assert_eq!(
            parse("openai/gpt-5-mini"),
            ModelRef {
                provider: Some(ProviderKind::OpenAi),
                model: "gpt-5-mini".into()
            }
        );
        assert_eq!(parse("OpenAI/gpt-4o").provider, Some(ProviderKind::OpenAi));
        assert_eq!(
            parse("openrouter/meta-llama/llama-3"),
            ModelRef {
                provider: Some(ProviderKind::OpenRouter),
                model: "meta-llama/llama-3".into()
            }
        );
        assert_eq!(
            parse("meta-llama/llama-3"),
            ModelRef {
                provider: None,
                model: "meta-llama/llama-3".into()
            }
        );
        assert_eq!(
            parse("gpt-5"),
            ModelRef {
                provider: None,
                model: "gpt-5".into()
            }
        );
        assert_eq!(
            parse("openai/"),
            ModelRef {
                provider: None,
                model: "openai/".into()
            }
        );
    }

    #[test]
    fn patterns() {
        assert_eq!(candidates_by_pattern("gpt-5-mini"), &[ProviderKind::OpenAi]);
        assert_eq!(
            candidates_by_pattern("claude-sonnet-4"),
            &[ProviderKind::Anthropic]
        );
        assert_eq!(
            candidates_by_pattern("gemini-2.5-pro"),
            &[ProviderKind::Google]
        );
        assert_eq!(candidates_by_pattern("meta-llama/llama-3").len(), 3);
        assert!(candidates_by_pattern("mystery-model").is_empty());
        assert_eq!(
            candidates_by_pattern("anthropic.claude-3-5-haiku-20241022-v1:0"),
            &[ProviderKind::Bedrock]
        );
        assert_eq!(
            candidates_by_pattern("us.amazon.nova-lite-v1:0"),
            &[ProviderKind::Bedrock]
        );
        assert_eq!(
            candidates_by_pattern("ideogram-v3"),
            &[ProviderKind::Ideogram]
        );
        assert_eq!(
            candidates_by_pattern("nomic-embed-text"),
            &[ProviderKind::Ollama]
        );
        assert_eq!(
            candidates_by_pattern("imagen-4.0-generate-001"),
            &[ProviderKind::Google]
        );
    }
}
