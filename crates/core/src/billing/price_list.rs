//! Providers' list prices (USD per token; per image for images, per second for video): the
//! built-in catalog, overlaid by a pricing file the operator supplies in LiteLLM's
//! `model_prices_and_context_window.json` format. Rates are synced from it and checked
//! against it ([`super::rate_check`]).

use crate::providers::ProviderKind;
use crate::providers::known_models;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;

/// One model's list price.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPrice {
    pub input: Decimal,
    pub output: Decimal,
    /// `built-in` or `file`.
    pub source: &'static str,
}

/// (provider name, model, rate type) → price.
#[derive(Debug, Clone, Default)]
pub struct PriceList {
    prices: HashMap<(String, String, String), ListPrice>,
    /// Entries the pricing file added or replaced.
    pub from_file: usize,
}

/// A pricing file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("pricing file: {0}")]
pub struct PricingError(pub String);

impl PriceList {
    /// The built-in catalog alone.
    pub fn built_in() -> PriceList {
        let mut prices = HashMap::new();
        for m in known_models::all() {
            let (Some(input), Some(output)) = (decimal(&m.input), decimal(&m.output)) else {
                continue;
            };
            prices.insert(
                (m.provider.clone(), m.model.clone(), m.kind.clone()),
                ListPrice {
                    input,
                    output,
                    source: "built-in",
                },
            );
        }
        PriceList {
            prices,
            from_file: 0,
        }
    }

    /// The built-in catalog with a LiteLLM pricing document laid over it. Entries of providers
    /// the Hub does not serve, of modes it does not bill, or without a price are skipped; a
    /// document that is not a JSON object of entries is an error.
    pub fn with_litellm(json: &[u8]) -> Result<PriceList, PricingError> {
        let doc: Value =
            serde_json::from_slice(json).map_err(|e| PricingError(format!("not JSON: {e}")))?;
        let entries = doc
            .as_object()
            .ok_or_else(|| PricingError("expected an object of model entries".into()))?;
        let mut list = PriceList::built_in();
        for (key, entry) in entries {
            let Some((provider, model)) = entry
                .get("litellm_provider")
                .and_then(Value::as_str)
                .and_then(|p| provider_of(p, key))
            else {
                continue;
            };
            let Some((kind, input, output)) = priced(entry) else {
                continue;
            };
            list.prices.insert(
                (provider.name().to_owned(), model, kind.to_owned()),
                ListPrice {
                    input,
                    output,
                    source: "file",
                },
            );
            list.from_file += 1;
        }
        if list.from_file == 0 && !entries.is_empty() {
            return Err(PricingError(
                "no entry has a provider this Hub serves and a price (is it LiteLLM's format?)"
                    .into(),
            ));
        }
        Ok(list)
    }

    pub fn get(&self, provider: &str, model: &str, kind: &str) -> Option<&ListPrice> {
        self.prices
            .get(&(provider.to_owned(), model.to_owned(), kind.to_owned()))
    }

    pub fn len(&self) -> usize {
        self.prices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }

    /// Every entry, sorted by provider, model and type.
    pub fn entries(&self) -> Vec<(&(String, String, String), &ListPrice)> {
        let mut all: Vec<_> = self.prices.iter().collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        all
    }
}

/// A decimal from catalog text or a JSON number (LiteLLM writes `2.5e-06`).
fn decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    Decimal::from_str_exact(t)
        .or_else(|_| Decimal::from_scientific(t))
        .ok()
        .filter(|d| !d.is_sign_negative())
}

fn number(entry: &Value, field: &str) -> Option<Decimal> {
    match entry.get(field)? {
        Value::Number(n) => decimal(&n.to_string()),
        Value::String(s) => decimal(s),
        _ => None,
    }
}

/// LiteLLM's provider names → the Hub's provider and the model id it uses (the key without
/// LiteLLM's provider prefix: `gemini/gemini-2.5-pro` → `gemini-2.5-pro`).
fn provider_of(litellm: &str, key: &str) -> Option<(ProviderKind, String)> {
    let kind = match litellm {
        "openai" | "text-completion-openai" => ProviderKind::OpenAi,
        "anthropic" => ProviderKind::Anthropic,
        "gemini" | "vertex_ai-language-models" => ProviderKind::Google,
        "bedrock" | "bedrock_converse" => ProviderKind::Bedrock,
        "deepseek" => ProviderKind::DeepSeek,
        "xai" => ProviderKind::Xai,
        "openrouter" => ProviderKind::OpenRouter,
        "ollama" => ProviderKind::Ollama,
        "volcengine" => ProviderKind::Doubao,
        _ => return None,
    };
    let prefixes = [litellm, kind.name(), "vertex_ai", "gemini", "bedrock"];
    let model = prefixes
        .iter()
        .find_map(|p| key.strip_prefix(p).and_then(|k| k.strip_prefix('/')))
        .unwrap_or(key);
    (!model.is_empty()).then(|| (kind, model.to_owned()))
}

/// The rate type and (input, output) prices of an entry, by its `mode`.
fn priced(entry: &Value) -> Option<(&'static str, Decimal, Decimal)> {
    let mode = entry.get("mode").and_then(Value::as_str).unwrap_or("chat");
    let zero = Decimal::ZERO;
    match mode {
        "chat" | "completion" | "responses" => Some((
            "chatCompletion",
            number(entry, "input_cost_per_token")?,
            number(entry, "output_cost_per_token")?,
        )),
        "embedding" => Some((
            "embedding",
            number(entry, "input_cost_per_token")?,
            number(entry, "output_cost_per_token").unwrap_or(zero),
        )),
        "image_generation" => Some((
            "imageGeneration",
            number(entry, "input_cost_per_token").unwrap_or(zero),
            number(entry, "output_cost_per_image")?,
        )),
        "video_generation" => Some((
            "video",
            zero,
            number(entry, "output_cost_per_video_per_second")?,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("decimal")
    }

    #[test]
    fn the_built_in_catalog_is_priced() {
        let list = PriceList::built_in();
        assert!(list.len() > 20);
        let p = list
            .get("openai", "gpt-5-mini", "chatCompletion")
            .expect("gpt-5-mini");
        assert_eq!((p.input, p.output), (d("0.00000025"), d("0.000002")));
        assert_eq!(p.source, "built-in");
    }

    #[test]
    fn a_litellm_file_overrides_and_adds_exactly() {
        let file = br#"{
            "sample_spec": {"max_tokens": "set to max tokens", "input_cost_per_token": 0.0},
            "gpt-5-mini": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 3e-07, "output_cost_per_token": 2.4e-06},
            "gemini/gemini-9-pro": {"litellm_provider": "gemini", "mode": "chat", "input_cost_per_token": 1.25e-06, "output_cost_per_token": 0.00001},
            "dall-e-9": {"litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04},
            "text-embedding-9": {"litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": 2e-08},
            "some/model": {"litellm_provider": "together_ai", "mode": "chat", "input_cost_per_token": 1e-07, "output_cost_per_token": 1e-07},
            "openai/whisper-9": {"litellm_provider": "openai", "mode": "audio_transcription", "input_cost_per_second": 0.0001}
        }"#;
        let list = PriceList::with_litellm(file).expect("parsed");
        assert_eq!(list.from_file, 4);
        let p = list
            .get("openai", "gpt-5-mini", "chatCompletion")
            .expect("override");
        assert_eq!(
            (p.input, p.output, p.source),
            (d("0.0000003"), d("0.0000024"), "file")
        );
        let g = list
            .get("google", "gemini-9-pro", "chatCompletion")
            .expect("gemini");
        assert_eq!(g.input, d("0.00000125"));
        assert_eq!(
            list.get("openai", "dall-e-9", "imageGeneration")
                .expect("image")
                .output,
            d("0.04")
        );
        assert_eq!(
            list.get("openai", "text-embedding-9", "embedding")
                .expect("emb")
                .output,
            Decimal::ZERO
        );
        // Built-in entries the file does not name stay.
        assert_eq!(
            list.get("openai", "gpt-5", "chatCompletion")
                .expect("kept")
                .source,
            "built-in"
        );
    }

    #[test]
    fn unusable_files_are_refused() {
        assert!(PriceList::with_litellm(b"[1,2]").is_err());
        assert!(PriceList::with_litellm(b"not json").is_err());
        assert!(
            PriceList::with_litellm(
                br#"{"x": {"litellm_provider": "cohere", "input_cost_per_token": 1}}"#
            )
            .is_err()
        );
        assert!(PriceList::with_litellm(b"{}").is_ok());
    }
}
