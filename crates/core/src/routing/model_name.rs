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

/// The longest model name the Hub accepts (the longest real ids are well under 100 characters).
pub const MAX_LEN: usize = 200;

/// A model name the Hub refuses before it plans a call; the message says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidModel(String);

/// Checks a model name against the one rule every dialect and provider shares: ASCII letters,
/// digits and `- . _ : @ + /`, at most [`MAX_LEN`] characters, and no empty, `.` or `..` segment
/// between slashes. A name is data sent upstream (some providers put it in a URL path), so
/// anything that could read as URL structure — `?`, `#`, `%`, whitespace, control characters,
/// dot-segments — is refused rather than passed on.
pub fn validate(name: &str) -> Result<(), InvalidModel> {
    if name.is_empty() {
        return Err(InvalidModel("is empty".into()));
    }
    if name.len() > MAX_LEN {
        return Err(InvalidModel(format!(
            "is {} characters long; at most {MAX_LEN} are allowed",
            name.len()
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._:@+/".contains(*c)))
    {
        return Err(InvalidModel(format!(
            "'{}' is not allowed in a model name (letters, digits and - . _ : @ + / are)",
            bad.escape_default()
        )));
    }
    if name
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(InvalidModel(
            "a model name may not have an empty, '.' or '..' part between slashes".into(),
        ));
    }
    Ok(())
}

/// Splits a checked model name into its provider prefix and the id sent upstream.
pub fn parse(name: &str) -> Result<ModelRef, InvalidModel> {
    let name = name.trim();
    validate(name)?;
    if let Some((prefix, rest)) = name.split_once('/')
        && let Ok(kind) = prefix.parse::<ProviderKind>()
    {
        return Ok(ModelRef {
            provider: Some(kind),
            model: rest.to_owned(),
        });
    }
    Ok(ModelRef {
        provider: None,
        model: name.to_owned(),
    })
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
            parse("openai/gpt-5-mini").unwrap(),
            ModelRef {
                provider: Some(ProviderKind::OpenAi),
                model: "gpt-5-mini".into()
            }
        );
        assert_eq!(
            parse("OpenAI/gpt-4o").unwrap().provider,
            Some(ProviderKind::OpenAi)
        );
        assert_eq!(
            parse("openrouter/meta-llama/llama-3").unwrap(),
            ModelRef {
                provider: Some(ProviderKind::OpenRouter),
                model: "meta-llama/llama-3".into()
            }
        );
        assert_eq!(
            parse("meta-llama/llama-3").unwrap(),
            ModelRef {
                provider: None,
                model: "meta-llama/llama-3".into()
            }
        );
        assert_eq!(
            parse("gpt-5").unwrap(),
            ModelRef {
                provider: None,
                model: "gpt-5".into()
            }
        );
        assert!(parse("openai/").is_err());
    }

    #[test]
    fn names_that_could_steer_a_url_are_refused() {
        for bad in [
            "google/../files",
            "google/gemini-2.5-flash?alt=x#",
            "gemini-2.5-flash#frag",
            "a%2e%2e",
            "a b",
            "a\tb",
            "x\u{7f}",
            "./gpt",
            "openai//gpt",
            "/gpt",
            "ünïcode",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse(&"a".repeat(MAX_LEN)).is_ok());
        assert!(parse(&"a".repeat(MAX_LEN + 1)).is_err());
        for good in [
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            "ollama/hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
            "openrouter/openai/gpt-4o:free",
            "doubao-seed-1-6-250615",
            "meta-llama/llama-3.1-8b-instruct@fp8",
        ] {
            assert!(parse(good).is_ok(), "{good:?} was refused");
        }
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
