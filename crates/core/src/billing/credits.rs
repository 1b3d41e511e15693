//! The credit formula of SPEC §9, in exact decimals rounded to 10 places (never `f64`):
//! chat = uncached prompt × input + completion × output + cache writes × (write ‖ input) +
//! cache reads × (read ‖ input); images = n × output (+ prompt × input); video = seconds × output;
//! halves round away from zero.
//!
//! `Usage::prompt_tokens` keeps OpenAI's meaning (cache reads and writes included), so the cached
//! tokens are taken out of the prompt term: each token is billed once, at its own rate.

use crate::providers::Modality;
use crate::providers::media::Measure;
use crate::providers::types::{ChatRequest, Part, Usage};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;

/// Decimal places of every credit amount.
pub const SCALE: u32 = 10;

/// Rounds to [`SCALE`] places, halves away from zero (as a bill is read).
fn round(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointAwayFromZero)
}

/// A model's rates, credits per token (per image / per second for those outputs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    pub input: Decimal,
    pub output: Decimal,
    pub cache_read: Option<Decimal>,
    pub cache_write: Option<Decimal>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CachingColumn {
    #[serde(default)]
    read_rate: Option<String>,
    #[serde(default)]
    write_rate: Option<String>,
}

fn decimal(text: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(text.trim()).map_err(|e| format!("'{text}' is not a decimal: {e}"))
}

impl Rate {
    /// From a rate row's columns (`input_rate`, `output_rate`, the `caching` JSON).
    pub fn from_columns(input: &str, output: &str, caching: Option<&str>) -> Result<Rate, String> {
        let (cache_read, cache_write) = match caching {
            Some(json) if !json.trim().is_empty() => {
                let c: CachingColumn =
                    serde_json::from_str(json).map_err(|e| format!("caching: {e}"))?;
                (
                    c.read_rate.as_deref().map(decimal).transpose()?,
                    c.write_rate.as_deref().map(decimal).transpose()?,
                )
            }
            _ => (None, None),
        };
        Ok(Rate {
            input: decimal(input)?,
            output: decimal(output)?,
            cache_read,
            cache_write,
        })
    }
}

fn tokens(n: u64) -> Decimal {
    Decimal::from(n)
}

/// Credits of a chat (or completion) call.
pub fn chat(usage: &Usage, rate: &Rate) -> Decimal {
    let cached = usage.cache_read_tokens + usage.cache_write_tokens;
    let uncached = usage.prompt_tokens.saturating_sub(cached);
    let total = tokens(uncached) * rate.input
        + tokens(usage.completion_tokens) * rate.output
        + tokens(usage.cache_write_tokens) * rate.cache_write.unwrap_or(rate.input)
        + tokens(usage.cache_read_tokens) * rate.cache_read.unwrap_or(rate.input);
    round(total)
}

/// Credits of an image generation: `n` images at the output rate, plus the prompt's tokens.
pub fn images(n: u64, prompt_tokens: u64, rate: &Rate) -> Decimal {
    round(tokens(n) * rate.output + tokens(prompt_tokens) * rate.input)
}

/// Credits of a video: seconds at the output rate.
pub fn video(seconds: Decimal, rate: &Rate) -> Decimal {
    round(seconds * rate.output)
}

/// Credits of an audio call: its tokens like a chat, plus characters of speech and seconds of
/// transcribed audio, both at the input rate.
pub fn audio(usage: &Usage, characters: u64, seconds: Decimal, rate: &Rate) -> Decimal {
    round(chat(usage, rate) + (tokens(characters) + seconds) * rate.input)
}

/// Prompt tokens held per image or file part (high-detail images cost OpenAI up to ~1,100).
const TOKENS_PER_ATTACHMENT: u64 = 1_100;

/// What a chat call is expected to cost, held at admission until it settles: the prompt at one
/// token per 3 bytes of text (tokenizers average about 4; the margin covers non-Latin text),
/// attachments at [`TOKENS_PER_ATTACHMENT`], and `max_tokens` (else `default_completion`)
/// completion tokens.
pub fn estimate(chat: &ChatRequest, rate: &Rate, default_completion: u64) -> Decimal {
    let mut text_bytes: u64 = 0;
    let mut attachments: u64 = 0;
    for message in &chat.messages {
        for part in &message.content {
            match part {
                Part::Text(t) => text_bytes += t.len() as u64,
                Part::Image { .. } | Part::File { .. } => attachments += 1,
            }
        }
        for call in &message.tool_calls {
            text_bytes += (call.name.len() + call.arguments.len()) as u64;
        }
    }
    for tool in &chat.tools {
        text_bytes += tool.name.len() as u64
            + tool.description.as_ref().map_or(0, |d| d.len() as u64)
            + tool
                .parameters
                .as_ref()
                .map_or(0, |p| p.to_string().len() as u64);
    }
    let prompt = text_bytes.div_ceil(3) + attachments * TOKENS_PER_ATTACHMENT;
    let completion = chat.sampling.max_tokens.unwrap_or(default_completion);
    round(tokens(prompt) * rate.input + tokens(completion) * rate.output)
}

/// The credits of a call that answered at once (SPEC §9): chat and embeddings by tokens; images
/// n × output + prompt × input; video seconds × output; audio: tokens like chat, plus characters
/// of speech and seconds of transcribed audio at the input rate.
pub fn measured(modality: Modality, m: &Measure, rate: &Rate) -> Decimal {
    match modality {
        Modality::Chat | Modality::Embedding => chat(&m.usage, rate),
        Modality::Image => images(m.images, m.usage.prompt_tokens, rate),
        Modality::Video => video(m.seconds.unwrap_or(Decimal::ZERO), rate),
        Modality::Speech | Modality::Transcription => audio(
            &m.usage,
            m.characters,
            m.seconds.unwrap_or(Decimal::ZERO),
            rate,
        ),
    }
}

/// The text form stored in money columns (no exponent, trailing zeros trimmed).
pub use crate::db::credits::{Credits, text};

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("decimal")
    }

    fn rate(caching: Option<&str>) -> Rate {
        Rate::from_columns("0.0000025", "0.00001", caching).expect("rate")
    }

    #[test]
    fn chat_formula_with_and_without_cache_rates() {
        let usage = Usage {
            reasoning_tokens: 0,
            prompt_tokens: 1_000,
            completion_tokens: 200,
            cache_read_tokens: 300,
            cache_write_tokens: 100,
        };
        // No cache rates: cached tokens at the input rate, so the same as 1,000 prompt tokens.
        assert_eq!(chat(&usage, &rate(None)), d("0.0045"));
        // 600 × 0.0000025 + 200 × 0.00001 + 100 × 0.000003125 + 300 × 0.00000025
        let cached = rate(Some(
            r#"{"readRate":"0.00000025","writeRate":"0.000003125"}"#,
        ));
        assert_eq!(chat(&usage, &cached), d("0.0038875"));
        assert_eq!(text(chat(&usage, &cached)), "0.0038875");
    }

    #[test]
    fn exact_to_ten_places_without_float_error() {
        let r = Rate::from_columns("0.1", "0.2", None).expect("rate");
        let u = Usage {
            prompt_tokens: 3,
            completion_tokens: 3,
            ..Usage::default()
        };
        assert_eq!(chat(&u, &r), d("0.9"));
        let tiny = Rate::from_columns("0.00000000001", "0", None).expect("rate");
        let one = Usage {
            prompt_tokens: 1,
            ..Usage::default()
        };
        assert_eq!(chat(&one, &tiny), Decimal::ZERO);
        let five = Rate::from_columns("0.00000000005", "0", None).expect("rate");
        assert_eq!(chat(&one, &five), d("0.0000000001"));
    }

    #[test]
    fn images_and_video() {
        let r = Rate::from_columns("0.000001", "0.04", None).expect("rate");
        assert_eq!(images(2, 50, &r), d("0.08005"));
        assert_eq!(video(d("8"), &r), d("0.32"));
    }

    #[test]
    fn estimate_from_text_attachments_and_max_tokens() {
        use crate::providers::types::{Message, Role, Sampling};
        let message = |parts: Vec<Part>| Message {
            role: Role::User,
            content: parts,
            tool_calls: vec![],
            tool_call_id: None,
            name: None,
        };
        let mut chat = ChatRequest {
            native: None,
            model: "m".into(),
            // 10 bytes → 4 tokens; one image → 1,100.
            messages: vec![message(vec![
                Part::Text("0123456789".into()),
                Part::Image {
                    url: "https://x/y.png".into(),
                    detail: None,
                },
            ])],
            tools: vec![],
            tool_choice: None,
            response_format: None,
            sampling: Sampling::default(),
            extra: Default::default(),
        };
        let r = rate(None);
        // 1,104 × 0.0000025 + 1,024 × 0.00001
        assert_eq!(estimate(&chat, &r, 1024), d("0.01300"));
        chat.sampling.max_tokens = Some(10);
        assert_eq!(estimate(&chat, &r, 1024), d("0.00286"));
    }

    #[test]
    fn bad_columns_are_errors() {
        assert!(Rate::from_columns("x", "1", None).is_err());
        assert!(Rate::from_columns("1", "1", Some("{")).is_err());
        assert!(Rate::from_columns("1", "1", Some(r#"{"readRate":"y"}"#)).is_err());
    }
}
