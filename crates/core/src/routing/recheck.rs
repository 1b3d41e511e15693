//! Credentials disabled (an invalid key, an account that cannot pay) are re-checked in the background with backoff
//! (base + 2^n seconds, at most 3 hours apart); a key that works again is re-enabled. The check
//! stops when an administrator deletes, re-enables or replaces the credential.

use super::Router;
use crate::db::DbError;
use crate::providers::{FailureClass, Provider, Target};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;

const MAX_DELAY: Duration = Duration::from_secs(3 * 3600);

/// What the re-check needs to know about the disabled credential.
pub struct Disabled {
    pub credential_id: String,
    pub kind: crate::providers::ProviderKind,
    pub provider: Provider,
    pub base_url: String,
    pub region: Option<String>,
    pub secret: SecretString,
    /// The stored (encrypted) value when it was disabled: a different value means it was replaced.
    pub stored_value: Option<String>,
    /// Re-check with a one-token chat call to this model instead of the free key check (a key
    /// disabled because its account could not pay).
    pub probe_model: Option<&'static str>,
}

pub fn delay(base: Duration, attempt: u32) -> Duration {
    let exp = Duration::from_secs(1u64.checked_shl(attempt.min(20)).unwrap_or(u64::MAX));
    (base + exp).min(MAX_DELAY)
}

enum RowState {
    /// Still disabled with the same value: keep checking.
    Waiting,
    /// Deleted, re-enabled or replaced: stop.
    TakenOver,
}

pub fn spawn(router: Arc<Router>, http: reqwest::Client, disabled: Disabled) {
    tokio::spawn(async move {
        let base = router.recheck_base;
        let timeouts = router.check_timeouts;
        for attempt in 0u32.. {
            tokio::time::sleep(delay(base, attempt)).await;
            let id = disabled.credential_id.clone();
            let expected = disabled.stored_value.clone();
            let state = router
                .db
                .run(move |conn| {
                    let row = crate::db::credentials::state(conn, &id)?;
                    Ok::<_, DbError>(match row {
                        Some((false, value)) if expected.as_deref().is_none_or(|e| e == value) => {
                            RowState::Waiting
                        }
                        _ => RowState::TakenOver,
                    })
                })
                .await;
            match state {
                Ok(RowState::TakenOver) => return,
                Ok(RowState::Waiting) => {}
                Err(e) => {
                    tracing::warn!("credential re-check could not read the database: {e}");
                    continue;
                }
            }
            let target = Target {
                base_url: &disabled.base_url,
                api_key: disabled.secret.expose_secret(),
                region: disabled.region.as_deref(),
                chat_url: None,
            };
            let outcome = match disabled.probe_model {
                Some(model) => disabled
                    .provider
                    .infer(&http, &target, &super::test_models::ping(model), &timeouts)
                    .await
                    .map(drop),
                None => disabled.provider.check(&http, &target, &timeouts).await,
            };
            match outcome {
                Ok(()) => {
                    let id = disabled.credential_id.clone();
                    let restored = router
                        .db
                        .run(move |conn| {
                            crate::db::credentials::reenable(conn, &id).map_err(DbError::from)
                        })
                        .await;
                    if let Err(e) = restored {
                        tracing::warn!("could not re-enable credential: {e}");
                        continue;
                    }
                    tracing::info!(credential = %disabled.credential_id, "credential works again and is re-enabled");
                    router.key_event(super::KeyEvent::Restored {
                        credential_id: disabled.credential_id.clone(),
                        provider: disabled.kind,
                    });
                    if let Err(e) = router.reload().await {
                        tracing::warn!("routing snapshot reload failed: {e}");
                    }
                    return;
                }
                Err(e) if e.class() == FailureClass::Credential => {
                    tracing::debug!(credential = %disabled.credential_id, attempt, "credential still rejected");
                }
                Err(e) => {
                    tracing::debug!(credential = %disabled.credential_id, "re-check inconclusive: {e}")
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_secs(5);
        assert_eq!(delay(base, 0), Duration::from_secs(6));
        assert_eq!(delay(base, 3), Duration::from_secs(13));
        assert_eq!(delay(base, 40), MAX_DELAY);
    }
}
