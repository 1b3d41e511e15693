//! The eleven providers the Hub knows, with what configuring one needs: its stored name (the
//! model prefix), default base URL and the env variable that holds its keys.

use std::fmt;
use std::str::FromStr;

/// The eleven providers the Hub knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    OpenAi,
    Anthropic,
    Google,
    Bedrock,
    DeepSeek,
    Xai,
    OpenRouter,
    Ollama,
    Doubao,
    Poe,
    Ideogram,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 11] = [
        ProviderKind::OpenAi,
        ProviderKind::Anthropic,
        ProviderKind::Google,
        ProviderKind::Bedrock,
        ProviderKind::DeepSeek,
        ProviderKind::Xai,
        ProviderKind::OpenRouter,
        ProviderKind::Ollama,
        ProviderKind::Doubao,
        ProviderKind::Poe,
        ProviderKind::Ideogram,
    ];

    /// The stored `ai_providers.name` and the model prefix (`openai/gpt-5-mini`).
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Google => "google",
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::DeepSeek => "deepseek",
            ProviderKind::Xai => "xai",
            ProviderKind::OpenRouter => "openrouter",
            ProviderKind::Ollama => "ollama",
            ProviderKind::Doubao => "doubao",
            ProviderKind::Poe => "poe",
            ProviderKind::Ideogram => "ideogram",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "OpenAI",
            ProviderKind::Anthropic => "Anthropic",
            ProviderKind::Google => "Google Gemini",
            ProviderKind::Bedrock => "Amazon Bedrock",
            ProviderKind::DeepSeek => "DeepSeek",
            ProviderKind::Xai => "xAI",
            ProviderKind::OpenRouter => "OpenRouter",
            ProviderKind::Ollama => "Ollama",
            ProviderKind::Doubao => "Doubao",
            ProviderKind::Poe => "Poe",
            ProviderKind::Ideogram => "Ideogram",
        }
    }

    /// Default API base URL (overridable per provider with `<P>_BASE_URL`).
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com/v1",
            ProviderKind::Google => "https://generativelanguage.googleapis.com/v1beta",
            ProviderKind::Bedrock => "https://bedrock-runtime.us-east-1.amazonaws.com",
            ProviderKind::DeepSeek => "https://api.deepseek.com/v1",
            ProviderKind::Xai => "https://api.x.ai/v1",
            ProviderKind::OpenRouter => "https://openrouter.ai/api/v1",
            ProviderKind::Ollama => "http://127.0.0.1:11434",
            ProviderKind::Doubao => "https://ark.cn-beijing.volces.com/api/v3",
            ProviderKind::Poe => "https://api.poe.com/v1",
            ProviderKind::Ideogram => "https://api.ideogram.ai",
        }
    }

    /// The env variable holding API keys for this provider (real Hub names).
    pub fn api_key_env(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "OPENAI_API_KEY",
            ProviderKind::Anthropic => "ANTHROPIC_API_KEY",
            ProviderKind::Google => "GEMINI_API_KEY",
            ProviderKind::Bedrock => "AWS_ACCESS_KEY_ID",
            ProviderKind::DeepSeek => "DEEPSEEK_API_KEY",
            ProviderKind::Xai => "XAI_API_KEY",
            ProviderKind::OpenRouter => "OPEN_ROUTER_API_KEY",
            ProviderKind::Ollama => "OLLAMA_API_KEY",
            ProviderKind::Doubao => "DOUBAO_API_KEY",
            ProviderKind::Poe => "POE_API_KEY",
            ProviderKind::Ideogram => "IDEOGRAM_API_KEY",
        }
    }

    /// The names, for error messages.
    pub fn names() -> String {
        Self::ALL.map(ProviderKind::name).join(", ")
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ProviderKind {
    type Err = ();

    /// Case-insensitive; also accepts the real Hub's alias `gemini` for google.
    fn from_str(s: &str) -> Result<Self, ()> {
        let lower = s.trim().to_ascii_lowercase();
        if lower == "gemini" {
            return Ok(ProviderKind::Google);
        }
        Self::ALL.into_iter().find(|k| k.name() == lower).ok_or(())
    }
}
