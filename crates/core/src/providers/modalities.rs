//! What each provider can do besides chat, and the dispatch of those calls to its implementation.
//! A call a provider cannot serve is refused before anything is sent (`supports`).

use super::error::UpstreamError;
use super::media::{
    AudioAnswer, EmbeddingRequest, EmbeddingResponse, ImageRequest, ImageResponse, SpeechRequest,
    TranscriptionAnswer, TranscriptionRequest, VideoRequest, VideoResponse,
};
use super::{Jobs, Provider, Target, Timeouts, google_media, openai_media};

/// The kinds of call, as `model_calls.type` and the rate type name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modality {
    Chat,
    Embedding,
    Image,
    Video,
    Speech,
    Transcription,
}

impl Modality {
    /// `model_calls.type`.
    pub fn call_type(self) -> crate::db::model_calls::CallType {
        use crate::db::model_calls::CallType;
        match self {
            Modality::Chat => CallType::ChatCompletion,
            Modality::Embedding => CallType::Embedding,
            Modality::Image => CallType::ImageGeneration,
            Modality::Video => CallType::Video,
            Modality::Speech | Modality::Transcription => CallType::Audio,
        }
    }

    /// The verb phrase of an error ("… cannot make images").
    pub fn verb(self) -> &'static str {
        match self {
            Modality::Chat => "chat",
            Modality::Embedding => "make embeddings",
            Modality::Image => "make images",
            Modality::Video => "make videos",
            Modality::Speech => "make speech",
            Modality::Transcription => "transcribe audio",
        }
    }
}

impl Provider {
    /// Whether this provider serves `modality` for `model` (by the provider's API, and for
    /// providers whose model families use different endpoints, by the model's name).
    pub fn supports(&self, modality: Modality, model: &str) -> bool {
        // Lower-cased only where the model's name decides (not on the chat hot path).
        let lower = || model.to_ascii_lowercase();
        match self {
            Provider::OpenAiCompat(p) => matches!(
                (p.provider, modality),
                (_, Modality::Chat)
                    | ("openai", _)
                    | ("doubao", Modality::Embedding | Modality::Image)
                    | ("xai", Modality::Image)
            ),
            Provider::Anthropic(_) => modality == Modality::Chat,
            Provider::Gemini(_) => {
                let m = lower();
                match modality {
                    Modality::Chat => !m.starts_with("imagen") && !m.starts_with("veo"),
                    Modality::Embedding => m.contains("embedding"),
                    Modality::Image => m.starts_with("imagen"),
                    Modality::Video => m.starts_with("veo"),
                    _ => false,
                }
            }
            Provider::Bedrock(_) => {
                let embeds = lower().contains("embed");
                match modality {
                    Modality::Chat => !embeds,
                    Modality::Embedding => embeds,
                    _ => false,
                }
            }
            Provider::Ollama(_) => matches!(modality, Modality::Chat | Modality::Embedding),
            Provider::Ideogram(_) => modality == Modality::Image,
        }
    }

    fn unsupported(&self, modality: Modality) -> UpstreamError {
        UpstreamError::Unsupported(self.name(), modality.verb())
    }

    /// The provider's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Provider::OpenAiCompat(p) => p.provider,
            Provider::Anthropic(_) => "anthropic",
            Provider::Gemini(_) => "google",
            Provider::Bedrock(_) => "bedrock",
            Provider::Ollama(_) => "ollama",
            Provider::Ideogram(_) => "ideogram",
        }
    }

    pub async fn embed(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &EmbeddingRequest,
        timeouts: &Timeouts,
    ) -> Result<EmbeddingResponse, UpstreamError> {
        match self {
            Provider::OpenAiCompat(p) => {
                openai_media::embed(p.provider, http, target, req, timeouts).await
            }
            Provider::Bedrock(p) => p.embed(http, target, req, timeouts).await,
            Provider::Ollama(p) => p.embed(http, target, req, timeouts).await,
            Provider::Gemini(_) => google_media::embed(http, target, req, timeouts).await,
            _ => Err(self.unsupported(Modality::Embedding)),
        }
    }

    pub async fn images(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ImageRequest,
        timeouts: &Timeouts,
    ) -> Result<ImageResponse, UpstreamError> {
        match self {
            Provider::OpenAiCompat(p) => {
                openai_media::images(p.provider, http, target, req, timeouts).await
            }
            Provider::Gemini(_) => google_media::images(http, target, req, timeouts).await,
            Provider::Ideogram(p) => p.images(http, target, req, timeouts).await,
            _ => Err(self.unsupported(Modality::Image)),
        }
    }

    pub async fn video(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &VideoRequest,
        timeouts: &Timeouts,
        jobs: &Jobs,
    ) -> Result<VideoResponse, UpstreamError> {
        match self {
            Provider::OpenAiCompat(p) if p.provider == "openai" => {
                openai_media::video(p.provider, http, target, req, timeouts, jobs).await
            }
            Provider::Gemini(_) => google_media::video(http, target, req, timeouts, jobs).await,
            _ => Err(self.unsupported(Modality::Video)),
        }
    }

    pub async fn speech(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &SpeechRequest,
        timeouts: &Timeouts,
    ) -> Result<AudioAnswer, UpstreamError> {
        match self {
            Provider::OpenAiCompat(p) if p.provider == "openai" => {
                openai_media::speech(p.provider, http, target, req, timeouts).await
            }
            _ => Err(self.unsupported(Modality::Speech)),
        }
    }

    pub async fn transcribe(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &TranscriptionRequest,
        timeouts: &Timeouts,
    ) -> Result<TranscriptionAnswer, UpstreamError> {
        match self {
            Provider::OpenAiCompat(p) if p.provider == "openai" => {
                openai_media::transcribe(p.provider, http, target, req, timeouts).await
            }
            _ => Err(self.unsupported(Modality::Transcription)),
        }
    }
}
