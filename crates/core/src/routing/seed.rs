//! `[[providers]]` of the TOML file, upserted at start: the provider row (created, or updated with
//! the fields the file sets) and its `config-<n>` credentials (encrypted; replaced when the key
//! changes, removed when it leaves the file). Credentials added through the admin API are kept.

use crate::config::ProviderSeed;
use crate::db::credentials::{self, CredentialChanges, CredentialRow};
use crate::db::providers::{self, ProviderChanges, ProviderRow};
use crate::db::{DbConnection, DbError};
use crate::secrets::Cipher;
use chrono::Utc;
use secrecy::ExposeSecret;

const PREFIX: &str = "config-";

pub fn apply(
    conn: &mut DbConnection,
    cipher: &Cipher,
    seeds: &[ProviderSeed],
) -> Result<usize, DbError> {
    let now = Utc::now().naive_utc();
    crate::db::write_transaction(conn, |c| {
        let mut changed = 0;
        for seed in seeds {
            let Some(kind) = seed.kind() else { continue };
            let base_url = seed
                .base_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_owned());
            let provider_id = match providers::by_name(c, kind.name())? {
                Some(row) => {
                    let changes = ProviderChanges {
                        display_name: seed.display_name.clone(),
                        base_url: base_url.clone().map(Some),
                        region: seed.region.clone().map(Some),
                        enabled: seed.enabled,
                        config: None,
                        updated_at: Some(now),
                    };
                    providers::update(c, &row.id, &changes)?;
                    row.id
                }
                None => {
                    let row = ProviderRow {
                        id: uuid::Uuid::now_v7().to_string(),
                        name: kind.name().to_owned(),
                        display_name: seed
                            .display_name
                            .clone()
                            .unwrap_or_else(|| kind.display_name().to_owned()),
                        base_url,
                        region: seed.region.clone(),
                        enabled: seed.enabled.unwrap_or(true),
                        config: None,
                        created_at: now,
                        updated_at: now,
                    };
                    providers::insert(c, &row)?;
                    changed += 1;
                    row.id
                }
            };
            let existing: Vec<CredentialRow> =
                credentials::for_providers(c, std::slice::from_ref(&provider_id))?;
            for (i, key) in seed.keys.iter().enumerate() {
                let name = format!("{PREFIX}{i}");
                let key = key.expose_secret();
                match existing.iter().find(|cr| cr.name == name) {
                    Some(cr)
                        if cipher.decrypt(&cr.credential_value, &cr.id).as_deref() == Ok(key) => {}
                    Some(cr) => {
                        let changes = CredentialChanges {
                            credential_value: Some(cipher.encrypt(key, &cr.id)),
                            credential_type: Some("api_key".into()),
                            active: Some(true),
                            error: Some(None),
                            updated_at: Some(now),
                            ..CredentialChanges::default()
                        };
                        credentials::update(c, &provider_id, &cr.id, &changes)?;
                        changed += 1;
                    }
                    None => {
                        let id = uuid::Uuid::now_v7().to_string();
                        credentials::insert(
                            c,
                            &CredentialRow {
                                credential_value: cipher.encrypt(key, &id),
                                id,
                                provider_id: provider_id.clone(),
                                name,
                                credential_type: "api_key".into(),
                                active: true,
                                last_used_at: None,
                                usage_count: 0,
                                error: None,
                                weight: 100,
                                created_at: now,
                                updated_at: now,
                            },
                        )?;
                        changed += 1;
                    }
                }
            }
            for cr in &existing {
                let index = cr
                    .name
                    .strip_prefix(PREFIX)
                    .and_then(|n| n.parse::<usize>().ok());
                if index.is_some_and(|n| n >= seed.keys.len()) {
                    credentials::delete(c, &provider_id, &cr.id)?;
                    changed += 1;
                }
            }
        }
        Ok(changed)
    })
}
