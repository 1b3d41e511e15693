//! The engine for calls with one answer and no stream: embeddings, images, video and audio. Same
//! rules as chat (SPEC §6, §9): attempts with failover, a rate per attempt when billing is on,
//! admission before the first upstream byte, a row per attempt, the final row committed before
//! the answer is returned.

use super::call::{self, CallContext};
use super::engine::{not_answered, on_failure, on_success, rate_of, unless_cut};
use super::payer::Payer;
use crate::billing::Rate;
use crate::error::ApiResult;
use crate::providers::media::Measure;
use crate::providers::{Modality, Provider, Target, UpstreamError};
use crate::routing::{Attempt, Plan};
use crate::state::AppState;
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use std::future::Future;
use std::time::Instant;

/// Where one attempt goes, owned so the attempt's future borrows nothing from the engine.
pub struct Upstream {
    pub provider: Provider,
    base_url: String,
    api_key: String,
    region: Option<String>,
}

impl Upstream {
    fn of(attempt: &Attempt) -> Upstream {
        Upstream {
            provider: attempt.implementation.clone(),
            base_url: attempt.provider.base_url.clone(),
            api_key: attempt
                .credential
                .as_ref()
                .map_or_else(String::new, |c| c.secret.expose_secret().to_owned()),
            region: attempt.provider.region.clone(),
        }
    }

    pub fn target(&self) -> Target<'_> {
        Target {
            base_url: &self.base_url,
            api_key: &self.api_key,
            region: self.region.as_deref(),
            chat_url: None,
        }
    }
}

/// A finished call.
pub struct Done<T> {
    pub output: T,
    pub call_id: String,
    pub upstream_ms: f64,
    /// `provider/model` of the attempt that answered.
    pub model_with_provider: String,
    /// The credits billed (0 with billing off or without a rate).
    pub credits: Decimal,
    pub measure: Measure,
}

/// Runs `op` on the plan's attempts until one answers; its row is committed before this returns.
/// `estimate` gives the credits held at admission from the attempt's rate.
pub async fn run<T, F, Fut>(
    state: &AppState,
    ctx: &CallContext,
    modality: Modality,
    model: &str,
    plan: &mut Plan,
    estimate: impl Fn(&Rate) -> Decimal,
    mut op: F,
) -> ApiResult<Done<T>>
where
    F: FnMut(Upstream) -> Fut,
    Fut: Future<Output = Result<(T, Measure), UpstreamError>>,
{
    let mut last: Option<UpstreamError> = None;
    let mut unpriced = None;
    let mut payer = Payer::new(state, ctx);
    while let Some(attempt) = state.router.next(plan) {
        let rate = match rate_of(state, &attempt, model, modality.call_type()) {
            Ok(rate) => rate,
            Err(e) => {
                unpriced = Some(e);
                continue;
            }
        };
        payer
            .admit(state, rate.as_ref(), |r, _| estimate(r))
            .await?;
        let id = uuid::Uuid::now_v7().to_string();
        state
            .recorder
            .start_call(ctx.start_row(&id, &attempt, model));
        let sent = Instant::now();
        match unless_cut(state, op(Upstream::of(&attempt))).await {
            Ok((output, measure)) => {
                let upstream_ms = sent.elapsed().as_secs_f64() * 1000.0;
                on_success(state, &attempt);
                let end = call::finish_measured(
                    modality,
                    &measure,
                    ctx,
                    upstream_ms as i64,
                    rate.as_ref(),
                );
                let credits = rate.as_ref().map_or(Decimal::ZERO, |r| {
                    call::measured_credits(modality, &measure, r)
                });
                state
                    .recorder
                    .finish_call_committed(id.clone(), end, payer.bill(true))
                    .await;
                return Ok(Done {
                    output,
                    call_id: id,
                    upstream_ms,
                    model_with_provider: format!("{}/{model}", attempt.provider.kind.name()),
                    credits,
                    measure,
                });
            }
            Err(err) => {
                on_failure(state, ctx, &attempt, id, &err, payer.bill(false));
                let retry = err.retryable();
                last = Some(err);
                if !retry {
                    break;
                }
            }
        }
    }
    Err(not_answered(last, unpriced))
}
