//! Routing (SPEC §6): from a model name to an ordered series of attempts, each a provider and one
//! of its credentials, read from the in-memory catalog; failures feed the balancer.

pub mod aliases;
mod balancer;
pub mod catalog;
pub mod model_health;
pub mod model_name;
mod recheck;
pub mod seed;
pub mod test_models;

pub use balancer::{Balancer, CredentialHealth};
pub use catalog::{Catalog, CredentialEntry, ProviderEntry};
pub use model_name::{ModelRef, parse as parse_model};

use crate::config::ProviderEnv;
use crate::db::{Db, DbError};
use crate::error::CoreError;
use crate::providers::{FailureClass, Modality, Provider, ProviderKind};
use crate::secrets::Cipher;
use arc_swap::ArcSwap;
use std::sync::Arc;

/// The routing snapshot and rotation state, shared by every worker.
pub struct Router {
    catalog: ArcSwap<Catalog>,
    pub balancer: Balancer,
    models: model_health::ModelHealth,
    events: tokio::sync::broadcast::Sender<KeyEvent>,
    db: Db,
    cipher: Arc<Cipher>,
    env: Vec<ProviderEnv>,
    http: reqwest::Client,
    recheck_base: std::time::Duration,
    model_recheck: std::time::Duration,
    check_timeouts: crate::providers::Timeouts,
}

/// One attempt: where it goes and with which key.
pub struct Attempt {
    pub number: u32,
    pub provider: Arc<ProviderEntry>,
    pub credential: Option<CredentialEntry>,
    pub implementation: Provider,
}

/// The kind a stored provider row names.
fn kind_of(row: &crate::db::providers::ProviderRow) -> Result<ProviderKind, CoreError> {
    row.name
        .parse()
        .map_err(|_| CoreError::invalid("name", format!("unknown provider {}", row.name)))
}

/// What [`Router::test_credential`] found.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialTest {
    pub ok: bool,
    /// The provider refused the key itself (invalid, or its account cannot pay): a key that
    /// would be disabled at its first call.
    pub rejected: bool,
    /// What the provider's error said (`auth`, `billing`, `region`, …; see `providers::cause`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<&'static str>,
    /// The model a chat call was made to (none: the provider's free key check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub latency_ms: u64,
    /// Why it failed (the provider's answer; never the key).
    pub message: Option<String>,
}

/// A stored credential left or came back into rotation (for notifications).
#[derive(Debug, Clone)]
pub enum KeyEvent {
    Disabled {
        credential_id: String,
        provider: ProviderKind,
        reason: String,
    },
    Restored {
        credential_id: String,
        provider: ProviderKind,
    },
}

/// What [`Router::check_model`] found: the status, and whether it was kept (a failure that is
/// the key's or the request's is answered but says nothing about the model).
pub struct ModelCheck {
    pub row: crate::db::model_statuses::ModelStatusRow,
    pub recorded: bool,
}

/// The attempts for one request, produced lazily so each sees the latest balancer state.
pub struct Plan {
    candidates: Vec<Arc<ProviderEntry>>,
    prefixed: bool,
    max_attempts: u32,
    tried_credentials: Vec<String>,
    tried_providers: Vec<ProviderKind>,
    attempts: u32,
}

impl Plan {
    /// The providers it may try, in order.
    pub fn providers(&self) -> &[Arc<ProviderEntry>] {
        &self.candidates
    }
}

impl Router {
    /// Loads the first snapshot (start-up, before serving).
    pub fn new(
        db: Db,
        cipher: Arc<Cipher>,
        env: Vec<ProviderEnv>,
        http: reqwest::Client,
        upstream: &crate::config::UpstreamSettings,
    ) -> Result<Router, DbError> {
        let catalog = db.run_sync(|conn| catalog::load(conn, &cipher, &env))?;
        let check = upstream
            .ttfb_timeout
            .min(std::time::Duration::from_secs(30));
        Ok(Router {
            catalog: ArcSwap::from_pointee(catalog),
            balancer: Balancer::default(),
            models: model_health::ModelHealth::default(),
            events: tokio::sync::broadcast::channel(256).0,
            db,
            cipher,
            env,
            http,
            recheck_base: upstream.recheck_base,
            model_recheck: upstream.model_recheck,
            check_timeouts: crate::providers::Timeouts {
                ttfb: check,
                idle: check,
            },
        })
    }

    /// Rebuilds the snapshot from the database (after admin changes, and periodically).
    pub async fn reload(&self) -> Result<(), DbError> {
        let cipher = self.cipher.clone();
        let env = self.env.clone();
        let catalog = self
            .db
            .run(move |conn| catalog::load(conn, &cipher, &env))
            .await?;
        for provider in &catalog.providers {
            for c in &provider.credentials {
                self.balancer.restore(&c.id);
            }
        }
        self.catalog.store(Arc::new(catalog));
        self.models.snapshot_read();
        Ok(())
    }

    /// Credentials disabled and restored by this instance from now on.
    pub fn key_events(&self) -> tokio::sync::broadcast::Receiver<KeyEvent> {
        self.events.subscribe()
    }

    fn key_event(&self, event: KeyEvent) {
        // No listener (tests, tools) is fine.
        let _ = self.events.send(event);
    }

    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog.load_full()
    }

    /// The model a requested name means: the name is checked, then an operator's alias (exact,
    /// else the most specific glob) replaces it with its `provider/model`; without one, the name
    /// routes as written.
    pub fn resolve(&self, requested: &str) -> Result<ModelRef, model_name::InvalidModel> {
        let requested = requested.trim();
        model_name::validate(requested)?;
        match self.catalog.load().aliases.resolve(requested) {
            Some(target) => model_name::parse(target),
            None => model_name::parse(requested),
        }
    }

    /// Plans the attempts for `model`. Errors: 404 when no provider serves an unprefixed model,
    /// 503 when the named provider is not configured, has no usable key or no adapter yet.
    pub fn plan(&self, model: &ModelRef) -> Result<Plan, CoreError> {
        self.plan_for(model, Modality::Chat)
    }

    /// Plans the attempts of a call of `modality`: providers that cannot serve it for this model
    /// are left out, and a prefixed model whose provider cannot is a 400 naming `model`.
    pub fn plan_for(&self, model: &ModelRef, modality: Modality) -> Result<Plan, CoreError> {
        let catalog = self.catalog.load();
        let (candidates, prefixed) = match model.provider {
            Some(kind) => {
                let provider = catalog.get(kind).ok_or_else(|| {
                    CoreError::Unavailable(format!(
                        "provider '{kind}' is not configured on this hub"
                    ))
                })?;
                let Some(implementation) = Provider::for_kind(kind) else {
                    return Err(CoreError::Unavailable(format!(
                        "provider '{kind}' cannot serve {} on this hub yet",
                        modality.verb()
                    )));
                };
                if !implementation.supports(modality, &model.model) {
                    return Err(CoreError::invalid(
                        "model",
                        format!(
                            "'{kind}/{}' cannot {}: choose a model that can",
                            model.model,
                            modality.verb()
                        ),
                    ));
                }
                if !provider.usable()
                    || (self.balancer.available(provider) == 0 && kind != ProviderKind::Ollama)
                {
                    return Err(CoreError::Unavailable(format!(
                        "provider '{kind}' has no active credential"
                    )));
                }
                (vec![provider.clone()], true)
            }
            None => {
                let mut found: Vec<Arc<ProviderEntry>> =
                    model_name::candidates_by_pattern(&model.model)
                        .iter()
                        .filter_map(|k| catalog.get(*k))
                        .filter(|p| {
                            p.usable()
                                && Provider::for_kind(p.kind)
                                    .is_some_and(|i| i.supports(modality, &model.model))
                        })
                        .cloned()
                        .collect();
                if found.is_empty() {
                    return Err(CoreError::NotFound(format!(
                        "no configured provider serves model '{}'; prefix it with a provider, e.g. openai/{}",
                        model.model, model.model
                    )));
                }
                let start = self.balancer.rotate(found.len());
                found.rotate_left(start);
                // Providers cooling down go last: tried only when nothing else is left.
                found.sort_by_key(|p| self.balancer.in_cooldown(p.kind));
                (found, false)
            }
        };
        let max_attempts = if prefixed {
            (self.balancer.available(&candidates[0]).max(1)) as u32
        } else {
            candidates.len() as u32
        };
        Ok(Plan {
            candidates,
            prefixed,
            max_attempts,
            tried_credentials: Vec::new(),
            tried_providers: Vec::new(),
            attempts: 0,
        })
    }

    /// The next attempt, or `None` when the plan is spent.
    pub fn next(&self, plan: &mut Plan) -> Option<Attempt> {
        while plan.attempts < plan.max_attempts {
            let provider = plan
                .candidates
                .iter()
                .find(|p| plan.prefixed || !plan.tried_providers.contains(&p.kind))?
                .clone();
            let credential = if provider.credentials.is_empty() {
                None
            } else {
                match self.balancer.pick(&provider, &plan.tried_credentials) {
                    Some(c) => Some(c),
                    None => {
                        plan.tried_providers.push(provider.kind);
                        if plan.prefixed {
                            return None;
                        }
                        continue;
                    }
                }
            };
            plan.attempts += 1;
            plan.tried_providers.push(provider.kind);
            if let Some(c) = &credential {
                plan.tried_credentials.push(c.id.clone());
            }
            let implementation = Provider::for_kind(provider.kind)?;
            return Some(Attempt {
                number: plan.attempts,
                provider,
                credential,
                implementation,
            });
        }
        None
    }

    /// Tries a stored credential against its provider now, whatever its state; changes
    /// nothing. Without `test_model`, the provider's cheapest authenticated request (as the
    /// background re-check makes it, free); with one, a one-token chat call to that model, which
    /// also finds an account that cannot pay. The answer never carries the key.
    pub async fn test_credential(
        &self,
        provider_id: &str,
        credential_id: &str,
        test_model: Option<&str>,
    ) -> Result<CredentialTest, CoreError> {
        let (pid, cid) = (provider_id.to_owned(), credential_id.to_owned());
        let (row, credential) = self
            .db
            .run(move |conn| {
                let row = crate::db::providers::get(conn, &pid)?;
                let credential = crate::db::credentials::get(conn, &pid, &cid)?;
                Ok::<_, DbError>((row, credential))
            })
            .await?;
        let row =
            row.ok_or_else(|| CoreError::NotFound(format!("provider {provider_id} not found")))?;
        let credential = credential
            .ok_or_else(|| CoreError::NotFound(format!("credential {credential_id} not found")))?;
        let secret = match self
            .cipher
            .decrypt(&credential.credential_value, &credential.id)
        {
            Ok(s) => secrecy::SecretString::from(s),
            Err(e) => {
                return Ok(CredentialTest {
                    ok: false,
                    rejected: false,
                    cause: None,
                    model: None,
                    latency_ms: 0,
                    message: Some(format!("the stored value cannot be used: {e}")),
                });
            }
        };
        self.probe(&row, kind_of(&row)?, &secret, test_model).await
    }

    /// Tries a value that is not stored (yet) against provider `provider_id`: a one-token chat
    /// call to `test_model`, or the provider's default test model
    /// ([`test_models::default_for`]).
    pub async fn test_value(
        &self,
        provider_id: &str,
        secret: &secrecy::SecretString,
        test_model: Option<&str>,
    ) -> Result<CredentialTest, CoreError> {
        let pid = provider_id.to_owned();
        let row = self
            .db
            .run(move |conn| crate::db::providers::get(conn, &pid).map_err(DbError::from))
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("provider {provider_id} not found")))?;
        let kind = kind_of(&row)?;
        let model = test_model.or_else(|| test_models::default_for(kind));
        self.probe(&row, kind, secret, model).await
    }

    async fn probe(
        &self,
        row: &crate::db::providers::ProviderRow,
        kind: ProviderKind,
        secret: &secrecy::SecretString,
        test_model: Option<&str>,
    ) -> Result<CredentialTest, CoreError> {
        let provider = crate::providers::Provider::for_kind(kind).ok_or_else(|| {
            CoreError::invalid(
                "name",
                format!("{} credentials cannot be tested yet", kind.name()),
            )
        })?;
        let base_url = row
            .base_url
            .clone()
            .unwrap_or_else(|| catalog::default_base_url(kind, &self.env));
        let region = row
            .region
            .clone()
            .or_else(|| catalog::default_region(kind, &self.env));
        let target = crate::providers::Target {
            base_url: &base_url,
            api_key: secrecy::ExposeSecret::expose_secret(secret),
            region: region.as_deref(),
            chat_url: None,
        };
        let started = std::time::Instant::now();
        let outcome = match test_model {
            Some(model) => provider
                .infer(
                    &self.http,
                    &target,
                    &test_models::ping(model),
                    &self.check_timeouts,
                )
                .await
                .map(drop),
            None => {
                provider
                    .check(&self.http, &target, &self.check_timeouts)
                    .await
            }
        };
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let err = outcome.err();
        Ok(CredentialTest {
            ok: err.is_none(),
            rejected: err
                .as_ref()
                .is_some_and(|e| e.class() == FailureClass::Credential),
            cause: err.as_ref().and_then(|e| match e {
                crate::providers::UpstreamError::Status { cause, .. } => Some(cause.as_str()),
                _ => None,
            }),
            model: test_model.map(str::to_owned),
            latency_ms,
            message: err.map(|e| {
                crate::secrets::scrub(&e.to_string(), secrecy::ExposeSecret::expose_secret(secret))
            }),
        })
    }

    /// Records the outcome of a failed attempt. A rejected stored key is marked inactive in the
    /// database (with the upstream's reason) and re-checked in the background.
    pub fn failed(
        self: &Arc<Self>,
        attempt: &Attempt,
        err: &crate::providers::UpstreamError,
        message: &str,
    ) {
        let Some(credential) = &attempt.credential else {
            return;
        };
        let class = err.class();
        self.balancer.credential_failed(&credential.id, message);
        // A key whose account could not pay still passes the free key check: it is re-checked
        // with a one-token call instead, so it comes back only once the account can pay.
        let probe_model = match err {
            crate::providers::UpstreamError::Status {
                cause: crate::providers::cause::Cause::Billing,
                ..
            } => test_models::default_for(attempt.provider.kind),
            _ => None,
        };
        self.balancer
            .failure(attempt.provider.kind, &credential.id, class);
        if class != FailureClass::Credential || !credential.from_db {
            return;
        }
        let id = credential.id.clone();
        let reason: String = crate::secrets::scrub(
            message,
            secrecy::ExposeSecret::expose_secret(&credential.secret),
        )
        .chars()
        .take(500)
        .collect();
        tracing::warn!(credential = %id, provider = attempt.provider.kind.name(), "credential disabled: {reason}");
        let router = self.clone();
        let Some(provider) = Provider::for_kind(attempt.provider.kind) else {
            return;
        };
        let base_url = attempt.provider.base_url.clone();
        let region = attempt.provider.region.clone();
        let secret = credential.secret.clone();
        let kind = attempt.provider.kind;
        tokio::spawn(async move {
            let row_id = id.clone();
            let told = reason.clone();
            let stored = router
                .db
                .run(move |conn| {
                    crate::db::credentials::disable(conn, &row_id, &reason).map_err(DbError::from)
                })
                .await;
            match stored {
                Ok(stored_value) => {
                    router.key_event(KeyEvent::Disabled {
                        credential_id: id.clone(),
                        provider: kind,
                        reason: told,
                    });
                    let disabled = recheck::Disabled {
                        credential_id: id,
                        kind,
                        provider,
                        base_url,
                        region,
                        secret,
                        stored_value,
                        probe_model,
                    };
                    recheck::spawn(router.clone(), router.http.clone(), disabled);
                }
                Err(e) => tracing::error!("could not record the disabled credential: {e}"),
            }
        });
    }

    /// A model answered through `attempt` in `ms`: marks it available again if it was not.
    pub fn model_answered(&self, attempt: &Attempt, model: &str, kind: &'static str, ms: i64) {
        let provider = &attempt.provider;
        let down = provider.is_down(model, kind);
        let key = || (provider.id.clone(), model.to_owned(), kind);
        if let Some(change) = self.models.answered(key, down) {
            self.write_model_status(model_health::row(
                &provider.id,
                model,
                kind,
                change.available,
                change.error,
                Some(ms),
            ));
        }
    }

    /// A model failed through `attempt`: marks it unavailable when the failure is the model's
    /// ([`model_health`]).
    pub fn model_failed(
        &self,
        attempt: &Attempt,
        model: &str,
        kind: &'static str,
        err: &crate::providers::UpstreamError,
    ) {
        let provider = &attempt.provider;
        if provider.id.starts_with("env:") {
            return;
        }
        let down = provider.is_down(model, kind);
        let key = (provider.id.clone(), model.to_owned(), kind);
        if let Some(change) = self.models.failed(key, down, err) {
            tracing::warn!(
                provider = provider.kind.name(),
                model,
                kind,
                "model marked unavailable: {err}"
            );
            self.write_model_status(model_health::row(
                &provider.id,
                model,
                kind,
                change.available,
                change.error,
                None,
            ));
        }
    }

    /// Checks again every chat model marked unavailable whose last check is older than
    /// `upstream.model_recheck` (the background task calls this every little while; instances
    /// share the rows, so a model one instance checked is not checked by the others).
    pub async fn recheck_models(&self) {
        let cutoff = chrono::Utc::now().naive_utc()
            - chrono::Duration::from_std(self.model_recheck).unwrap_or(chrono::Duration::MAX);
        let due: Vec<(String, String)> = self
            .catalog()
            .model_statuses
            .iter()
            .filter(|s| !s.available && s.type_ == "chatCompletion" && s.checked_at < cutoff)
            .map(|s| (s.provider_id.clone(), s.model.clone()))
            .collect();
        for (provider_id, model) in due {
            match self.check_model(&provider_id, &model).await {
                Ok(check) if check.row.available => {
                    tracing::info!(provider = %provider_id, model, "model answers again");
                }
                Ok(_) => tracing::debug!(provider = %provider_id, model, "model still unavailable"),
                Err(e) => {
                    tracing::debug!(provider = %provider_id, model, "model re-check skipped: {e}")
                }
            }
        }
    }

    /// How often [`Router::recheck_models`] finds work.
    pub fn model_recheck_every(&self) -> std::time::Duration {
        self.model_recheck
    }

    /// Writes a status in the background (the call does not wait for it).
    fn write_model_status(&self, row: crate::db::model_statuses::ModelStatusRow) {
        let db = self.db.clone();
        tokio::spawn(async move {
            let written = db
                .run(move |conn| {
                    crate::db::model_statuses::upsert(conn, &row).map_err(DbError::from)
                })
                .await;
            if let Err(e) = written {
                tracing::warn!("could not record a model status: {e}");
            }
        });
    }

    /// Checks `model` of provider `provider_id` now with a one-token chat call through one of
    /// its usable keys, records the result, and answers it.
    pub async fn check_model(
        &self,
        provider_id: &str,
        model: &str,
    ) -> Result<ModelCheck, CoreError> {
        const KIND: &str = "chatCompletion";
        let catalog = self.catalog();
        let provider = catalog
            .providers
            .iter()
            .find(|p| p.id == provider_id && !p.id.starts_with("env:"))
            .ok_or_else(|| {
                CoreError::NotFound(format!(
                    "provider {provider_id} is not configured, enabled and stored on this hub"
                ))
            })?;
        let implementation = Provider::for_kind(provider.kind).ok_or_else(|| {
            CoreError::invalid(
                "providerId",
                format!("{} has no chat to check", provider.kind),
            )
        })?;
        let credential = if provider.credentials.is_empty() {
            None
        } else {
            Some(self.balancer.pick(provider, &[]).ok_or_else(|| {
                CoreError::Unavailable(format!("{} has no usable credential", provider.kind))
            })?)
        };
        let target = crate::providers::Target {
            base_url: &provider.base_url,
            api_key: credential
                .as_ref()
                .map_or("", |c| secrecy::ExposeSecret::expose_secret(&c.secret)),
            region: provider.region.as_deref(),
            chat_url: provider.chat_url.as_ref(),
        };
        let started = std::time::Instant::now();
        let outcome = implementation
            .infer(
                &self.http,
                &target,
                &test_models::ping(model),
                &self.check_timeouts,
            )
            .await;
        let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (row, recorded) = match outcome {
            Ok(_) => (
                model_health::row(provider_id, model, KIND, true, None, Some(ms)),
                true,
            ),
            Err(err) => {
                let secret = credential
                    .as_ref()
                    .map_or("", |c| secrecy::ExposeSecret::expose_secret(&c.secret));
                let message = crate::secrets::scrub(&err.to_string(), secret);
                // A key or request problem says nothing about the model: answered, not kept.
                let (code, recorded) = match model_health::Down::of(&err) {
                    Some((why, _)) => (why.code(), true),
                    None => (model_health::other_code(&err), false),
                };
                let row = model_health::row(
                    provider_id,
                    model,
                    KIND,
                    false,
                    Some((code, message)),
                    Some(ms),
                );
                (row, recorded)
            }
        };
        if recorded {
            let stored = row.clone();
            self.db
                .run(move |conn| {
                    crate::db::model_statuses::upsert(conn, &stored).map_err(DbError::from)
                })
                .await?;
            self.reload().await?;
        }
        Ok(ModelCheck { row, recorded })
    }

    pub fn succeeded(&self, attempt: &Attempt) {
        self.balancer.success(attempt.provider.kind);
        if let Some(c) = &attempt.credential {
            self.balancer.credential_succeeded(&c.id);
        }
    }
}
