//! Upstream providers: the closed set of provider kinds (names, default base URLs, env names),
//! the internal request/response/stream types, wire formats, and one implementation per API
//! family, dispatched by an enum (no `dyn`).

pub mod anthropic;
pub mod bedrock;
pub mod cause;
pub mod error;
pub mod gemini;
mod google_media;
pub mod http;
pub mod ideogram;
pub mod known_models;
pub mod media;
mod modalities;
pub mod ollama;
pub mod openai_compat;
mod openai_media;
pub mod openai_responses;
mod sse;
pub mod token_count;
pub mod types;
pub mod url_path;
pub mod wire;

pub use crate::config::ProviderKind;
pub use error::{FailureClass, UpstreamError};
pub use modalities::Modality;

use futures_util::Stream;
use std::pin::Pin;
use std::time::Duration;
use types::{ChatRequest, ChatResponse, StreamEvent};

/// A streamed answer.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, UpstreamError>> + Send>>;

/// Where one attempt goes: base URL and the credential's secret.
pub struct Target<'a> {
    pub base_url: &'a str,
    pub api_key: &'a str,
    /// The provider's region (Bedrock).
    pub region: Option<&'a str>,
    /// The chat endpoint parsed in advance (see [`chat_url`]); built from `base_url` when absent.
    pub chat_url: Option<&'a reqwest::Url>,
}

/// How the Hub waits for a provider's asynchronous job (a video): poll interval and the longest
/// wait.
#[derive(Debug, Clone, Copy)]
pub struct Jobs {
    pub poll: Duration,
    pub timeout: Duration,
}

/// Deadlines of one attempt (SPEC §6): connect is set on the client; time-to-first-byte and the
/// idle gap between stream chunks are applied per request. There is no total timeout.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub ttfb: Duration,
    pub idle: Duration,
}

/// The implementation for a provider kind.
#[derive(Clone)]
pub enum Provider {
    OpenAiCompat(openai_compat::OpenAiCompat),
    Anthropic(anthropic::Anthropic),
    Gemini(gemini::Gemini),
    Bedrock(bedrock::Bedrock),
    Ollama(ollama::Ollama),
    Ideogram(ideogram::Ideogram),
}

/// The chat endpoint of an OpenAI-compatible provider at `base_url`, parsed once when the
/// routing snapshot is built rather than on every call (`None` for other providers, or a base
/// URL that does not parse: such a call then fails as it always did).
pub fn chat_url(kind: ProviderKind, base_url: &str) -> Option<reqwest::Url> {
    match Provider::for_kind(kind)? {
        Provider::OpenAiCompat(_) => {
            reqwest::Url::parse(&openai_compat::chat_endpoint(base_url)).ok()
        }
        _ => None,
    }
}

impl Provider {
    /// The implementation for `kind`, or `None` while its adapter is not built yet.
    pub fn for_kind(kind: ProviderKind) -> Option<Provider> {
        match kind {
            ProviderKind::OpenAi
            | ProviderKind::DeepSeek
            | ProviderKind::Xai
            | ProviderKind::OpenRouter
            | ProviderKind::Doubao
            | ProviderKind::Poe => Some(Provider::OpenAiCompat(openai_compat::OpenAiCompat {
                provider: kind.name(),
            })),
            ProviderKind::Anthropic => Some(Provider::Anthropic(anthropic::Anthropic)),
            ProviderKind::Google => Some(Provider::Gemini(gemini::Gemini)),
            ProviderKind::Bedrock => Some(Provider::Bedrock(bedrock::Bedrock)),
            ProviderKind::Ollama => Some(Provider::Ollama(ollama::Ollama)),
            ProviderKind::Ideogram => Some(Provider::Ideogram(ideogram::Ideogram)),
        }
    }

    pub async fn infer(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<ChatResponse, UpstreamError> {
        match self {
            Provider::OpenAiCompat(p) => p.infer(http, target, req, timeouts).await,
            Provider::Anthropic(p) => p.infer(http, target, req, timeouts).await,
            Provider::Gemini(p) => p.infer(http, target, req, timeouts).await,
            Provider::Bedrock(p) => p.infer(http, target, req, timeouts).await,
            Provider::Ollama(p) => p.infer(http, target, req, timeouts).await,
            Provider::Ideogram(_) => Err(UpstreamError::Unsupported("ideogram", "chat")),
        }
    }

    pub async fn infer_stream(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ChatRequest,
        timeouts: &Timeouts,
    ) -> Result<EventStream, UpstreamError> {
        match self {
            Provider::OpenAiCompat(p) => p.infer_stream(http, target, req, timeouts).await,
            Provider::Anthropic(p) => p.infer_stream(http, target, req, timeouts).await,
            Provider::Gemini(p) => p.infer_stream(http, target, req, timeouts).await,
            Provider::Bedrock(p) => p.infer_stream(http, target, req, timeouts).await,
            Provider::Ollama(p) => p.infer_stream(http, target, req, timeouts).await,
            Provider::Ideogram(_) => Err(UpstreamError::Unsupported("ideogram", "chat")),
        }
    }
}

impl Provider {
    /// A cheap authenticated call (the provider's model list) to see whether a key works again.
    pub async fn check(
        &self,
        client: &reqwest::Client,
        target: &Target<'_>,
        timeouts: &Timeouts,
    ) -> Result<(), UpstreamError> {
        let base = target.base_url.trim_end_matches('/');
        let (provider, builder) = match self {
            Provider::OpenAiCompat(p) => (
                p.provider,
                client
                    .get(format!("{base}/models"))
                    .bearer_auth(target.api_key),
            ),
            Provider::Anthropic(_) => (
                "anthropic",
                client
                    .get(format!("{base}/models"))
                    .header("x-api-key", target.api_key)
                    .header("anthropic-version", wire::anthropic::VERSION),
            ),
            Provider::Gemini(_) => (
                "google",
                client
                    .get(format!("{base}/models"))
                    .header("x-goog-api-key", target.api_key),
            ),
            Provider::Bedrock(p) => return p.check(client, target, timeouts).await,
            Provider::Ollama(p) => ("ollama", p.check_request(client, target)),
            // Ideogram has no free authenticated call to probe a key with.
            Provider::Ideogram(_) => {
                return Err(UpstreamError::Unsupported(
                    "ideogram",
                    "check a key without spending credits",
                ));
            }
        };
        http::send(provider, builder, timeouts).await.map(drop)
    }
}

/// Turns a non-2xx upstream answer into an error carrying the provider's own message (never the
/// request, which holds the key) and what it says about the key ([`cause::read`]). Understands
/// `{"error":{"message"}}`, `{"error":"…"}` and `{"message":"…"}` bodies.
pub async fn upstream_error(
    provider: &'static str,
    response: reqwest::Response,
    timeouts: &Timeouts,
) -> UpstreamError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = tokio::time::timeout(timeouts.idle, response.bytes())
        .await
        .ok()
        .and_then(Result::ok);
    let cause = cause::read(
        status,
        error_type.as_deref(),
        body.as_deref().unwrap_or_default(),
    );
    let message = body
        .as_deref()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error").filter(|e| e.is_string()))
                .or_else(|| v.get("message"))
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        })
        .or_else(|| {
            body.as_deref()
                .map(|b| String::from_utf8_lossy(b).chars().take(300).collect())
        })
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("HTTP {status}"));
    UpstreamError::Status {
        provider,
        status,
        message,
        retry_after,
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in ProviderKind::ALL {
            assert_eq!(kind.name().parse::<ProviderKind>(), Ok(kind));
            assert_eq!(kind.name().to_uppercase().parse::<ProviderKind>(), Ok(kind));
        }
        assert_eq!("gemini".parse::<ProviderKind>(), Ok(ProviderKind::Google));
        assert!("openai2".parse::<ProviderKind>().is_err());
        assert_eq!(ProviderKind::names().split(", ").count(), 11);
    }

    #[test]
    fn chat_url_is_parsed_for_openai_compatible_providers_only() {
        let url = chat_url(ProviderKind::DeepSeek, "http://127.0.0.1:9/v1/");
        assert_eq!(
            url.as_ref().map(reqwest::Url::as_str),
            Some("http://127.0.0.1:9/v1/chat/completions")
        );
        assert!(chat_url(ProviderKind::Anthropic, "https://api.anthropic.com").is_none());
        assert!(chat_url(ProviderKind::Google, "https://example.com").is_none());
        // Not a URL: the call builds it from the text and fails as before.
        assert!(chat_url(ProviderKind::OpenAi, "not a url").is_none());
    }
}
