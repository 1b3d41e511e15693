//! Providers configured by environment variables, as in the real Hub: `<KEY VAR>` holds one or
//! more comma-separated keys (they rotate), `<PROVIDER>_BASE_URL` overrides the base URL.

use super::ProviderKind;
use super::load::EnvSource;
use secrecy::SecretString;

/// One provider's env settings. A base URL alone still overrides the URL of a database-configured
/// provider; it makes an env provider only for Ollama (which needs no key).
#[derive(Debug, Clone)]
pub struct ProviderEnv {
    pub kind: ProviderKind,
    pub keys: Vec<SecretString>,
    pub base_url: Option<String>,
    /// `AWS_REGION` (Bedrock).
    pub region: Option<String>,
}

impl ProviderEnv {
    /// True when these variables alone make a usable provider.
    pub fn makes_provider(&self) -> bool {
        !self.keys.is_empty() || self.kind == ProviderKind::Ollama
    }
}

/// Base-URL variable names for a provider (ours, plus the real Hub's spellings).
fn base_url_vars(kind: ProviderKind) -> Vec<String> {
    let mut vars = vec![format!("{}_BASE_URL", kind.name().to_ascii_uppercase())];
    match kind {
        ProviderKind::Google => vars.push("GEMINI_BASE_URL".into()),
        ProviderKind::OpenRouter => vars.push("OPEN_ROUTER_BASE_URL".into()),
        _ => {}
    }
    vars
}

pub fn provider_envs(env: &EnvSource) -> Result<Vec<ProviderEnv>, String> {
    let mut out = Vec::new();
    for kind in ProviderKind::ALL {
        let list = |var: &str| -> Vec<String> {
            env.get(var)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let keys: Vec<SecretString> = if kind == ProviderKind::Bedrock {
            bedrock_keys(&list("AWS_ACCESS_KEY_ID"), &list("AWS_SECRET_ACCESS_KEY"))?
        } else {
            list(kind.api_key_env())
                .into_iter()
                .map(SecretString::from)
                .collect()
        };
        let region = (kind == ProviderKind::Bedrock)
            .then(|| {
                env.get("AWS_REGION")
                    .or_else(|| env.get("AWS_DEFAULT_REGION"))
            })
            .flatten()
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        let base_url = base_url_vars(kind).into_iter().find_map(|var| {
            env.get(&var)
                .map(|v| v.trim().trim_end_matches('/').to_owned())
                .filter(|v| !v.is_empty())
                .map(|v| (var, v))
        });
        if let Some((var, url)) = &base_url {
            let parsed =
                url::Url::parse(url).map_err(|e| format!("{var}: '{url}' is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("{var}: '{url}' must be an http:// or https:// URL"));
            }
        }
        if !keys.is_empty() || base_url.is_some() {
            out.push(ProviderEnv {
                kind,
                keys,
                base_url: base_url.map(|(_, url)| url),
                region,
            });
        }
    }
    Ok(out)
}

/// Bedrock's keys: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` paired by position, each pair
/// stored like an `access_key_pair` credential.
fn bedrock_keys(ids: &[String], secrets: &[String]) -> Result<Vec<SecretString>, String> {
    if ids.len() != secrets.len() {
        return Err(format!(
            "AWS_ACCESS_KEY_ID has {} keys but AWS_SECRET_ACCESS_KEY has {}: they pair by position",
            ids.len(),
            secrets.len()
        ));
    }
    Ok(ids
        .iter()
        .zip(secrets)
        .map(|(id, secret)| {
            SecretString::from(
                serde_json::json!({"access_key_id": id, "secret_access_key": secret}).to_string(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> EnvSource {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_keys_and_base_urls() {
        let found = provider_envs(&env(&[
            ("OPENAI_API_KEY", "k1, k2,"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/"),
            ("GEMINI_API_KEY", "g"),
            ("GEMINI_BASE_URL", "http://127.0.0.1:8"),
            ("OLLAMA_BASE_URL", "http://127.0.0.1:11434/v1"),
            ("DEEPSEEK_BASE_URL", "http://127.0.0.1:7"),
        ]))
        .expect("valid");
        assert_eq!(found.len(), 4);
        let openai = &found[0];
        assert_eq!(openai.kind, ProviderKind::OpenAi);
        assert_eq!(
            openai
                .keys
                .iter()
                .map(|k| k.expose_secret().to_owned())
                .collect::<Vec<_>>(),
            ["k1", "k2"]
        );
        assert_eq!(openai.base_url.as_deref(), Some("http://127.0.0.1:9/v1"));
        assert_eq!(found[1].base_url.as_deref(), Some("http://127.0.0.1:8"));
        assert_eq!(found[2].kind, ProviderKind::DeepSeek);
        assert!(found[2].keys.is_empty());
        assert_eq!(found[3].kind, ProviderKind::Ollama);
        assert!(
            provider_envs(&env(&[
                ("OPENAI_API_KEY", "k"),
                ("OPENAI_BASE_URL", "not a url")
            ]))
            .is_err()
        );
    }
}
