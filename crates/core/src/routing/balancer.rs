//! Per-instance rotation state (SPEC §6): smooth weighted round-robin over a provider's
//! credentials, the 429 weight penalty, credentials set aside after 401/403/402, provider
//! cool-downs, and the round-robin start for unprefixed models.

use super::catalog::{CredentialEntry, ProviderEntry};
use crate::providers::{FailureClass, ProviderKind};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

pub const RATE_LIMIT_WEIGHT: i64 = 10;
pub const RATE_LIMIT_PENALTY: Duration = Duration::from_secs(180);
pub const PROVIDER_429_COOLDOWN: Duration = Duration::from_secs(90);
pub const PROVIDER_FAILURE_COOLDOWN: Duration = Duration::from_secs(180);
pub const FAILURES_BEFORE_COOLDOWN: u32 = 3;

#[derive(Default)]
struct CredState {
    current: i64,
    penalty_until: Option<Instant>,
    /// Set aside after an auth failure, until the snapshot drops it or a re-check restores it.
    disabled: bool,
    last_success: Option<SystemTime>,
    last_failure: Option<(SystemTime, String)>,
}

/// What this instance knows of one credential (`GET /api/ai-providers/health`).
#[derive(Debug, Clone, Default)]
pub struct CredentialHealth {
    /// Weighted down after a 429 until then.
    pub penalty_until: Option<SystemTime>,
    /// Set aside here (the database's `active` says the same once written).
    pub disabled: bool,
    pub last_success: Option<SystemTime>,
    pub last_failure: Option<(SystemTime, String)>,
}

/// An `Instant` in the future as wall-clock time.
fn wall(until: Instant, now: Instant) -> Option<SystemTime> {
    (until > now).then(|| SystemTime::now() + (until - now))
}

#[derive(Default)]
struct ProviderState {
    cooldown_until: Option<Instant>,
    failures: u32,
}

#[derive(Default)]
pub struct Balancer {
    creds: Mutex<HashMap<String, CredState>>,
    providers: Mutex<HashMap<ProviderKind, ProviderState>>,
    rotation: AtomicUsize,
}

impl Balancer {
    /// Picks a credential of `provider` by smooth weighted round-robin, skipping `tried` ones and
    /// those set aside. `None` when nothing is left.
    pub fn pick(&self, provider: &ProviderEntry, tried: &[String]) -> Option<CredentialEntry> {
        let now = Instant::now();
        let mut creds = self.creds.lock().unwrap_or_else(|p| p.into_inner());
        let mut total = 0;
        let mut best: Option<(usize, i64)> = None;
        for (i, c) in provider.credentials.iter().enumerate() {
            if tried.contains(&c.id) {
                continue;
            }
            let state = creds.entry(c.id.clone()).or_default();
            if state.disabled {
                continue;
            }
            let weight = match state.penalty_until {
                Some(until) if until > now => c.weight.min(RATE_LIMIT_WEIGHT),
                _ => c.weight,
            };
            state.current += weight;
            total += weight;
            if best.is_none_or(|(_, cur)| state.current > cur) {
                best = Some((i, state.current));
            }
        }
        let (index, _) = best?;
        let chosen = &provider.credentials[index];
        if let Some(state) = creds.get_mut(&chosen.id) {
            state.current -= total;
        }
        Some(chosen.clone())
    }

    /// Usable credentials left for `provider` (bounds the attempts of a prefixed model).
    pub fn available(&self, provider: &ProviderEntry) -> usize {
        let creds = self.creds.lock().unwrap_or_else(|p| p.into_inner());
        provider
            .credentials
            .iter()
            .filter(|c| !creds.get(&c.id).is_some_and(|s| s.disabled))
            .count()
    }

    pub fn in_cooldown(&self, kind: ProviderKind) -> bool {
        let providers = self.providers.lock().unwrap_or_else(|p| p.into_inner());
        providers
            .get(&kind)
            .and_then(|s| s.cooldown_until)
            .is_some_and(|t| t > Instant::now())
    }

    /// The next start index of the unprefixed rotation.
    pub fn rotate(&self, len: usize) -> usize {
        if len == 0 {
            0
        } else {
            self.rotation.fetch_add(1, Ordering::Relaxed) % len
        }
    }

    /// This instance's view of credential `id`.
    pub fn credential_health(&self, id: &str) -> CredentialHealth {
        let now = Instant::now();
        let creds = self.creds.lock().unwrap_or_else(|p| p.into_inner());
        creds
            .get(id)
            .map(|s| CredentialHealth {
                penalty_until: s.penalty_until.and_then(|t| wall(t, now)),
                disabled: s.disabled,
                last_success: s.last_success,
                last_failure: s.last_failure.clone(),
            })
            .unwrap_or_default()
    }

    /// Until when `kind` is cooling down (none: it is not).
    pub fn cooldown_until(&self, kind: ProviderKind) -> Option<SystemTime> {
        let providers = self.providers.lock().unwrap_or_else(|p| p.into_inner());
        providers
            .get(&kind)
            .and_then(|s| s.cooldown_until)
            .and_then(|t| wall(t, Instant::now()))
    }

    /// Notes a call that `credential_id` answered.
    pub fn credential_succeeded(&self, credential_id: &str) {
        let mut creds = self.creds.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = creds.get_mut(credential_id) {
            s.last_success = Some(SystemTime::now());
        }
    }

    /// Notes why `credential_id` last failed (the reason as recorded, never the key).
    pub fn credential_failed(&self, credential_id: &str, reason: &str) {
        let mut creds = self.creds.lock().unwrap_or_else(|p| p.into_inner());
        creds
            .entry(credential_id.to_owned())
            .or_default()
            .last_failure = Some((SystemTime::now(), reason.chars().take(500).collect()));
    }

    pub fn success(&self, kind: ProviderKind) {
        let mut providers = self.providers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = providers.get_mut(&kind) {
            s.failures = 0;
        }
    }

    /// Updates state after a failed attempt.
    pub fn failure(&self, kind: ProviderKind, credential_id: &str, class: FailureClass) {
        let now = Instant::now();
        match class {
            FailureClass::Credential => {
                let mut creds = self.creds.lock().unwrap_or_else(|p| p.into_inner());
                creds.entry(credential_id.to_owned()).or_default().disabled = true;
            }
            FailureClass::RateLimited => {
                {
                    let mut creds = self.creds.lock().unwrap_or_else(|p| p.into_inner());
                    creds
                        .entry(credential_id.to_owned())
                        .or_default()
                        .penalty_until = Some(now + RATE_LIMIT_PENALTY);
                }
                let mut providers = self.providers.lock().unwrap_or_else(|p| p.into_inner());
                providers.entry(kind).or_default().cooldown_until =
                    Some(now + PROVIDER_429_COOLDOWN);
            }
            FailureClass::Transient => {
                let mut providers = self.providers.lock().unwrap_or_else(|p| p.into_inner());
                let s = providers.entry(kind).or_default();
                s.failures += 1;
                if s.failures >= FAILURES_BEFORE_COOLDOWN {
                    s.cooldown_until = Some(now + PROVIDER_FAILURE_COOLDOWN);
                    s.failures = 0;
                }
            }
            // Neither the key's fault nor the provider's health.
            FailureClass::Request | FailureClass::Refused => {}
        }
    }

    /// Forgets the set-aside flag (the credential was re-enabled or replaced).
    pub fn restore(&self, credential_id: &str) {
        let mut creds = self.creds.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = creds.get_mut(credential_id) {
            s.disabled = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn provider(weights: &[i64]) -> ProviderEntry {
        ProviderEntry {
            kind: ProviderKind::OpenAi,
            id: "p".into(),
            base_url: "http://x".into(),
            region: None,
            chat_url: None,
            credentials: weights
                .iter()
                .enumerate()
                .map(|(i, w)| CredentialEntry {
                    id: format!("c{i}"),
                    secret: SecretString::from("k"),
                    weight: *w,
                    from_db: true,
                })
                .collect(),
            rates: Default::default(),
            down: Default::default(),
        }
    }

    fn picks(b: &Balancer, p: &ProviderEntry, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| b.pick(p, &[]).expect("a credential").id)
            .collect()
    }

    #[test]
    fn smooth_weighted_round_robin() {
        let b = Balancer::default();
        let p = provider(&[5, 1, 1]);
        // The classic nginx sequence for weights 5,1,1.
        assert_eq!(picks(&b, &p, 7), ["c0", "c0", "c1", "c0", "c2", "c0", "c0"]);
    }

    #[test]
    fn skips_tried_and_disabled_and_penalises_429() {
        let b = Balancer::default();
        let p = provider(&[100, 100]);
        assert_eq!(b.pick(&p, &["c0".into()]).expect("c1").id, "c1");
        assert!(b.pick(&p, &["c0".into(), "c1".into()]).is_none());
        b.failure(ProviderKind::OpenAi, "c0", FailureClass::Credential);
        assert_eq!(picks(&b, &p, 3), ["c1", "c1", "c1"]);
        assert_eq!(b.available(&p), 1);
        b.restore("c0");
        b.failure(ProviderKind::OpenAi, "c1", FailureClass::RateLimited);
        assert!(b.in_cooldown(ProviderKind::OpenAi));
        let counts = picks(&b, &p, 110).iter().filter(|id| *id == "c1").count();
        assert_eq!(counts, 10, "weight 10 against 100 → 10 of 110");
    }

    #[test]
    fn three_transient_failures_cool_a_provider_down() {
        let b = Balancer::default();
        for _ in 0..2 {
            b.failure(ProviderKind::Xai, "c", FailureClass::Transient);
        }
        assert!(!b.in_cooldown(ProviderKind::Xai));
        b.failure(ProviderKind::Xai, "c", FailureClass::Transient);
        assert!(b.in_cooldown(ProviderKind::Xai));
    }
}
