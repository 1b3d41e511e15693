//! The Hub's own types for the calls that are not chats: embeddings, images, video and audio.
//! Client wire formats (OpenAI, AIGNE) convert into these; each provider converts them into its
//! own API. Generated media comes back either as a provider URL or as bytes the Hub may store.

use super::types::Usage;
use bytes::Bytes;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A file sent with a request (an image to edit, a first frame, an audio recording).
#[derive(Debug, Clone, PartialEq)]
pub struct InputFile {
    pub data: Bytes,
    pub mime_type: String,
    pub filename: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingRequest {
    /// The upstream model id (no provider prefix).
    pub model: String,
    /// The texts to embed, in order (a single string is a list of one).
    pub input: Vec<String>,
    pub dimensions: Option<u32>,
    pub user: Option<String>,
}

impl EmbeddingRequest {
    /// An answer must hold one vector per input.
    pub fn check_count(
        &self,
        provider: &'static str,
        got: usize,
    ) -> Result<(), super::UpstreamError> {
        if got == self.input.len() {
            Ok(())
        } else {
            Err(super::UpstreamError::Protocol(
                provider,
                format!("{got} embeddings for {} inputs", self.input.len()),
            ))
        }
    }
}

/// One embedding exactly as the provider wrote it: a JSON array of numbers kept as its text, so
/// the client gets the provider's digits rather than floats widened or re-printed on the way.
#[derive(Debug, Clone)]
pub struct Vector(Box<RawValue>);

impl Vector {
    /// The provider's JSON text of the array.
    pub fn json(&self) -> &RawValue {
        &self.0
    }

    /// The values as `f32`, the precision OpenAI's base64 form packs.
    pub fn floats(&self) -> Vec<f32> {
        // Checked to be an array of numbers when it was read.
        serde_json::from_str::<Vec<f64>>(self.0.get())
            .map(|v| v.into_iter().map(|x| x as f32).collect())
            .unwrap_or_default()
    }
}

impl PartialEq for Vector {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl<'de> Deserialize<'de> for Vector {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        serde_json::from_str::<Vec<f64>>(raw.get()).map_err(|e| {
            serde::de::Error::custom(format!("an embedding must be an array of numbers: {e}"))
        })?;
        Ok(Vector(raw))
    }
}

impl Serialize for Vector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl TryFrom<&str> for Vector {
    type Error = serde_json::Error;
    fn try_from(text: &str) -> Result<Self, Self::Error> {
        serde_json::from_str(text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingResponse {
    /// One vector per input, in input order.
    pub vectors: Vec<Vector>,
    pub model: String,
    pub usage: Usage,
}

/// Whether the client wants generated files as URLs or inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Url,
    Inline,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageRequest {
    pub model: String,
    pub prompt: String,
    /// 1–10.
    pub n: u32,
    /// `WIDTHxHEIGHT` or `auto`.
    pub size: Option<String>,
    pub quality: Option<String>,
    pub style: Option<String>,
    /// Images to edit; empty for a generation.
    pub images: Vec<InputFile>,
    pub delivery: Delivery,
    /// Options the Hub does not model (background, output_format, seed, aspect_ratio, …), passed to
    /// providers that know them.
    pub extra: Map<String, Value>,
    pub user: Option<String>,
}

/// A generated file: where the provider put it, or its bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Media {
    Url {
        url: String,
        mime_type: Option<String>,
    },
    Bytes {
        data: Bytes,
        mime_type: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImageResponse {
    pub images: Vec<Media>,
    pub revised_prompts: Vec<Option<String>>,
    pub model: String,
    /// Token usage when the provider reports it (gpt-image-1, doubao).
    pub usage: Usage,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VideoRequest {
    pub model: String,
    pub prompt: String,
    pub seconds: Option<u32>,
    pub size: Option<String>,
    /// A first frame / reference image.
    pub image: Option<InputFile>,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VideoResponse {
    pub videos: Vec<Media>,
    /// Seconds of video made (what the call is billed on).
    pub seconds: Decimal,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpeechRequest {
    pub model: String,
    /// The client's JSON body with `model` replaced by the upstream id (voice, format, speed …
    /// pass through).
    pub body: Map<String, Value>,
    /// Characters of `input` (what speech is billed on when no tokens are reported).
    pub characters: u64,
}

/// Binary audio and its content type.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioAnswer {
    pub data: Bytes,
    pub content_type: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptionRequest {
    pub model: String,
    pub file: InputFile,
    /// The other form fields, passed through (language, prompt, response_format, …).
    pub fields: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptionAnswer {
    /// The provider's body, passed through (JSON, text, srt or vtt).
    pub data: Bytes,
    pub content_type: String,
    pub usage: Usage,
    /// Seconds of audio, when the provider says (`duration`, or `usage.seconds`).
    pub seconds: Option<Decimal>,
}

/// What a non-chat call is billed on (SPEC §9): tokens, images, seconds of video, or audio.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measure {
    pub usage: Usage,
    pub images: u64,
    /// Seconds of generated video, or of transcribed audio.
    pub seconds: Option<Decimal>,
    /// Characters of text turned into speech.
    pub characters: u64,
}

impl Measure {
    pub fn tokens(usage: Usage) -> Measure {
        Measure {
            usage,
            ..Measure::default()
        }
    }
}

/// Sniffs an image's type from its first bytes (providers that answer base64 rarely say).
pub fn sniff_mime(data: &[u8]) -> &'static str {
    if data.starts_with(b"\x89PNG") {
        "image/png"
    } else if data.starts_with(b"\xff\xd8\xff") {
        "image/jpeg"
    } else if data.starts_with(b"RIFF") && data.get(8..12) == Some(b"WEBP") {
        "image/webp"
    } else if data.starts_with(b"GIF8") {
        "image/gif"
    } else if data.get(4..8) == Some(b"ftyp") {
        "video/mp4"
    } else {
        "application/octet-stream"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_types() {
        assert_eq!(sniff_mime(b"\x89PNG\r\n\x1a\n...."), "image/png");
        assert_eq!(sniff_mime(b"\xff\xd8\xff\xe0...."), "image/jpeg");
        assert_eq!(sniff_mime(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(sniff_mime(b"\0\0\0\x18ftypmp42"), "video/mp4");
        assert_eq!(sniff_mime(b"hello"), "application/octet-stream");
    }
}
