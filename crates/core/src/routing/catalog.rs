//! The routing snapshot: enabled providers with their usable credentials (decrypted once, held
//! as secrets), read by the hot path without touching the database. Rebuilt after every admin
//! change on this instance and every few seconds for changes made by other instances.

use super::aliases::Aliases;
use crate::billing::Rate;
use crate::config::ProviderEnv;
use crate::db::credentials::CredentialRow;
use crate::db::model_statuses::ModelStatusRow;
use crate::db::providers::ProviderRow;
use crate::db::rates::RateRow;
use crate::db::schema::{ai_credentials, ai_model_rates, ai_providers};
use crate::db::{DbConnection, DbError};
use crate::providers::ProviderKind;
use crate::secrets::Cipher;
use diesel::prelude::*;
use secrecy::SecretString;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct CredentialEntry {
    /// Database id, or `env:<provider>:<n>` for env keys.
    pub id: String,
    pub secret: SecretString,
    pub weight: i64,
    pub from_db: bool,
}

#[derive(Debug, Clone)]
pub struct ProviderEntry {
    pub kind: ProviderKind,
    /// Database id, or `env:<provider>`.
    pub id: String,
    pub base_url: String,
    /// The provider's region (Bedrock): the row's, else `AWS_REGION`.
    pub region: Option<String>,
    pub credentials: Vec<CredentialEntry>,
    /// Rates of this provider's models, by (model, type).
    pub rates: HashMap<(String, String), Rate>,
    /// The chat endpoint, parsed once per snapshot (OpenAI-compatible providers).
    pub chat_url: Option<reqwest::Url>,
    /// Models marked unavailable on this provider, by (model, type) (`ai_model_statuses`).
    pub down: HashSet<(String, String)>,
}

impl ProviderEntry {
    /// The rate of `model` as a call of `kind` (`chatCompletion`, …).
    pub fn rate(&self, model: &str, kind: &str) -> Option<&Rate> {
        self.rates.get(&(model.to_owned(), kind.to_owned()))
    }

    /// Whether `model` is marked unavailable here as a call of `kind`.
    pub fn is_down(&self, model: &str, kind: &str) -> bool {
        !self.down.is_empty() && self.down.contains(&(model.to_owned(), kind.to_owned()))
    }

    /// Ollama may run without a key; everyone else needs one.
    pub fn usable(&self) -> bool {
        !self.credentials.is_empty() || self.kind == ProviderKind::Ollama
    }
}

/// Entries are shared: a plan holds the snapshot's own entries, never copies of them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub providers: Vec<Arc<ProviderEntry>>,
    pub aliases: Aliases,
    /// Every model status, for lists and the console.
    pub model_statuses: Vec<ModelStatusRow>,
}

impl Catalog {
    pub fn get(&self, kind: ProviderKind) -> Option<&Arc<ProviderEntry>> {
        self.providers.iter().find(|p| p.kind == kind)
    }
}

/// Reads the snapshot. A credential that cannot be decrypted is left out (and logged).
pub fn load(
    conn: &mut DbConnection,
    cipher: &Cipher,
    env: &[ProviderEnv],
) -> Result<Catalog, DbError> {
    let rows: Vec<ProviderRow> = ai_providers::table
        .select(ProviderRow::as_select())
        .load(conn)?;
    let creds: Vec<CredentialRow> = ai_credentials::table
        .filter(ai_credentials::active.eq(true))
        .select(CredentialRow::as_select())
        .order(ai_credentials::created_at.asc())
        .load(conn)?;
    let rate_rows: Vec<RateRow> = ai_model_rates::table
        .select(RateRow::as_select())
        .load(conn)?;
    let mut rates: HashMap<String, HashMap<(String, String), Rate>> = HashMap::new();
    for r in rate_rows {
        match Rate::from_columns(&r.input_rate, &r.output_rate, r.caching.as_deref()) {
            Ok(rate) => {
                rates
                    .entry(r.provider_id)
                    .or_default()
                    .insert((r.model, r.kind), rate);
            }
            Err(e) => tracing::warn!(rate = %r.id, "model rate skipped: {e}"),
        }
    }
    let model_statuses = crate::db::model_statuses::all(conn)?;
    let mut providers = Vec::new();
    for row in rows.iter().filter(|r| r.enabled) {
        let Ok(kind) = row.name.parse::<ProviderKind>() else {
            continue;
        };
        let credentials = creds
            .iter()
            .filter(|c| c.provider_id == row.id)
            .filter_map(|c| match cipher.decrypt(&c.credential_value, &c.id) {
                Ok(secret) => Some(CredentialEntry {
                    id: c.id.clone(),
                    secret: SecretString::from(secret),
                    weight: c.weight.max(1),
                    from_db: true,
                }),
                Err(e) => {
                    tracing::warn!(credential = %c.id, provider = kind.name(), "credential skipped: {e}");
                    None
                }
            })
            .collect();
        let base_url = row
            .base_url
            .clone()
            .unwrap_or_else(|| default_base_url(kind, env));
        providers.push(Arc::new(ProviderEntry {
            kind,
            id: row.id.clone(),
            chat_url: crate::providers::chat_url(kind, &base_url),
            base_url,
            region: row.region.clone().or_else(|| default_region(kind, env)),
            credentials,
            rates: rates.remove(&row.id).unwrap_or_default(),
            down: model_statuses
                .iter()
                .filter(|s| s.provider_id == row.id && !s.available)
                .map(|s| (s.model.clone(), s.type_.clone()))
                .collect(),
        }));
    }
    // Env providers fill in for kinds without any database row (enabled or not).
    for e in env.iter().filter(|e| e.makes_provider()) {
        if rows.iter().any(|r| r.name == e.kind.name()) {
            continue;
        }
        let credentials = e
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| CredentialEntry {
                id: format!("env:{}:{i}", e.kind.name()),
                secret: k.clone(),
                weight: 100,
                from_db: false,
            })
            .collect();
        let base_url = default_base_url(e.kind, env);
        providers.push(Arc::new(ProviderEntry {
            kind: e.kind,
            id: format!("env:{}", e.kind.name()),
            chat_url: crate::providers::chat_url(e.kind, &base_url),
            base_url,
            region: default_region(e.kind, env),
            credentials,
            // Rates belong to provider rows: a provider known only from the env has none.
            rates: HashMap::new(),
            // Statuses belong to provider rows too.
            down: HashSet::new(),
        }));
    }
    let aliases = Aliases::build(crate::db::aliases::all(conn)?);
    Ok(Catalog {
        providers,
        aliases,
        model_statuses,
    })
}

/// `AWS_REGION` for Bedrock.
pub fn default_region(kind: ProviderKind, env: &[ProviderEnv]) -> Option<String> {
    env.iter()
        .find(|e| e.kind == kind)
        .and_then(|e| e.region.clone())
}

/// `<PROVIDER>_BASE_URL` if set, else the provider's public API.
pub fn default_base_url(kind: ProviderKind, env: &[ProviderEnv]) -> String {
    env.iter()
        .find(|e| e.kind == kind)
        .and_then(|e| e.base_url.clone())
        .unwrap_or_else(|| kind.default_base_url().to_owned())
}
