//! The built-in catalog of well-known models (`api/data/models.json`), shipped in the binary.

use super::ProviderKind;
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownModel {
    pub provider: String,
    pub model: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub max_tokens: Option<u64>,
    /// Provider list price in USD (per token; per image / second for image / video outputs).
    pub input: String,
    pub output: String,
    #[serde(default)]
    pub features: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    models: Vec<KnownModel>,
}

/// Every known model (parsed once; a broken file is a build-time test failure, and yields an
/// empty catalog rather than a crash).
pub fn all() -> &'static [KnownModel] {
    static CATALOG: OnceLock<Vec<KnownModel>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str::<File>(include_str!("../../data/models.json"))
            .map(|f| f.models)
            .unwrap_or_else(|e| {
                tracing::error!("built-in model catalog is unreadable: {e}");
                Vec::new()
            })
    })
}

pub fn for_provider(kind: ProviderKind) -> impl Iterator<Item = &'static KnownModel> {
    all().iter().filter(move |m| m.provider == kind.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn catalog_parses_and_is_sane() {
        let models = all();
        assert!(models.len() > 20);
        for m in models {
            assert!(m.provider.parse::<ProviderKind>().is_ok(), "{}", m.provider);
            assert!(
                [
                    "chatCompletion",
                    "embedding",
                    "imageGeneration",
                    "video",
                    "audio"
                ]
                .contains(&m.kind.as_str()),
                "{}",
                m.kind
            );
            assert!(
                Decimal::from_str_exact(&m.input).is_ok()
                    && Decimal::from_str_exact(&m.output).is_ok(),
                "{}",
                m.model
            );
        }
        assert!(for_provider(ProviderKind::OpenAi).any(|m| m.model == "gpt-5-mini"));
    }
}
