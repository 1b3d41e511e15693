//! The list prices the Hub holds (built-in catalog, overlaid by the operator's LiteLLM pricing
//! file) and the periodic rate check that compares every rate with them.

use crate::billing::price_list::{PriceList, PricingError};
use crate::billing::rate_check::{self, Report};
use crate::config::PricingSettings;
use crate::db::DbError;
use crate::state::AppState;
use actix_web::web;
use arc_swap::ArcSwap;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The current price list and when it was loaded.
pub struct Pricing {
    list: ArcSwap<Loaded>,
    /// The rates the last periodic check found below cost (only new ones are notified).
    below_cost: Mutex<BTreeSet<String>>,
}

pub struct Loaded {
    pub list: PriceList,
    /// `built-in`, `file` or `url`.
    pub source: &'static str,
    pub loaded_at: chrono::DateTime<chrono::Utc>,
}

impl Pricing {
    /// The built-in catalog, with the pricing file laid over it when it exists. A file that
    /// exists and cannot be used stops the start (the operator put it there to be used).
    pub fn load(settings: &PricingSettings) -> anyhow::Result<Pricing> {
        let loaded = match std::fs::read(&settings.file) {
            Ok(bytes) => Loaded::new(
                PriceList::with_litellm(&bytes)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", settings.file.display()))?,
                "file",
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Loaded::new(PriceList::built_in(), "built-in")
            }
            Err(e) => anyhow::bail!("pricing file {}: {e}", settings.file.display()),
        };
        Ok(Pricing {
            list: ArcSwap::from_pointee(loaded),
            below_cost: Mutex::default(),
        })
    }

    pub fn current(&self) -> Arc<Loaded> {
        self.list.load_full()
    }

    /// Checks a pricing document, writes it to `file` (atomically: a reader never sees half a
    /// file) and uses it from now on.
    pub async fn replace(
        &self,
        bytes: Vec<u8>,
        file: &Path,
        source: &'static str,
    ) -> Result<Arc<Loaded>, PricingError> {
        let list = PriceList::with_litellm(&bytes)?;
        let tmp = file.with_extension("json.tmp");
        let io = |e: std::io::Error| PricingError(format!("cannot write {}: {e}", file.display()));
        if let Some(dir) = file.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        tokio::fs::write(&tmp, &bytes).await.map_err(io)?;
        tokio::fs::rename(&tmp, file).await.map_err(io)?;
        let loaded = Arc::new(Loaded::new(list, source));
        self.list.store(loaded.clone());
        Ok(loaded)
    }
}

impl Loaded {
    fn new(list: PriceList, source: &'static str) -> Loaded {
        Loaded {
            list,
            source,
            loaded_at: chrono::Utc::now(),
        }
    }
}

/// Checks every stored rate against the current prices.
pub async fn check(state: &AppState) -> Result<Report, DbError> {
    let (rates, providers) = state
        .db
        .run(|conn| {
            let rates = crate::db::rates::all(conn)?;
            let providers = crate::db::providers::all(conn)?;
            Ok::<_, DbError>((rates, providers))
        })
        .await?;
    let names: HashMap<String, String> = providers.into_iter().map(|p| (p.id, p.name)).collect();
    let pricing = &state.settings.pricing;
    Ok(rate_check::check(
        &rates,
        &names,
        &state.pricing.current().list,
        pricing.credit_price,
        pricing.drift_percent,
    ))
}

/// At start and every `pricing.check_every`: logs what the check finds and tells the operators
/// about rates that fell below cost since the last check.
pub async fn run_checks(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(state.settings.pricing.check_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let report = match check(&state).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("rate check failed: {e}");
                continue;
            }
        };
        if !report.below_cost.is_empty() || !report.drift.is_empty() {
            tracing::warn!(
                below_cost = report.below_cost.len(),
                drift = report.drift.len(),
                "rate check: rates below cost or with stale unit costs (GET /api/ai-providers/rate-check)"
            );
        }
        let now: BTreeSet<String> = report
            .below_cost
            .iter()
            .map(|f| f.rate_id.clone())
            .collect();
        let new: Vec<_> = {
            let mut seen = state
                .pricing
                .below_cost
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let new = report
                .below_cost
                .iter()
                .filter(|f| !seen.contains(&f.rate_id))
                .cloned()
                .collect();
            *seen = now;
            new
        };
        if !new.is_empty() {
            crate::notify::rates_below_cost(&state, &new).await;
        }
    }
}
