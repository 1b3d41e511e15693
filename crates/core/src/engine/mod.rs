//! The one attempt engine every call runs through, whatever the client's dialect or the
//! modality: plan → for each attempt (rate, admission, `processing` row, the provider call under
//! the stop's cut, failover or not) → the final row → the bill. What an attempt sends is a
//! parameter ([`Operation`]); chat JSON, chat streams and every media call differ only there.
//! Streams fail over only before their first event; their row ends in [`relay`].

pub mod chat;
pub mod context;
pub mod payer;
pub mod record;
pub mod relay;

use crate::billing::Rate;
use crate::billing::ledger_work::{AdmitRequest, Admitted, Bill};
use crate::billing::payment_kit::PaymentKitFunds;
use crate::config::Settings;
use crate::db::DbError;
use crate::error::CoreError;
use crate::providers::media::Measure;
use crate::providers::{Modality, Provider, Target, UpstreamError};
use crate::routing::catalog::ProviderEntry;
use crate::routing::{Attempt, Plan, Router};
use crate::usage::{CallFinish, CallStart, CallStatus, CallType, Ledger, Recorder};
use context::CallContext;
use futures_util::future::BoxFuture;
use payer::Payer;
use record::Ending;
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub use context::CHAT_KIND;

#[cfg(test)]
mod tests;

/// What the engine needs of the Hub, built once at start; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub settings: Arc<Settings>,
    pub router: Arc<Router>,
    /// Where rows go (the usage writer).
    pub recorder: Arc<dyn CallLog>,
    /// The built-in ledger's admission (the writer's ledger handle).
    pub ledger: Arc<dyn Admission>,
    /// Billing through Payment Kit; `None`: the built-in ledger (or billing off).
    pub payment_kit: Option<Arc<PaymentKitFunds>>,
    pub instance_id: String,
    /// Cancelled when the Hub's stop cuts off calls still running.
    pub cut: CancellationToken,
}

/// What the engine asks of the usage writer: rows written as attempts start and end. The
/// writer implements it; the engine's tests use a fake.
pub trait CallLog: Send + Sync + 'static {
    fn start_call(&self, row: CallStart);
    fn finish_call(&self, id: String, finish: CallFinish, bill: Option<Bill>);
    /// Ends a row and resolves once it is committed (before the answer goes out).
    fn finish_call_committed(
        &self,
        id: String,
        finish: CallFinish,
        bill: Option<Bill>,
    ) -> BoxFuture<'_, ()>;
    fn credential_used(&self, id: String);
}

/// The built-in ledger's admission of a call (billing on, no Payment Kit): hold its estimate
/// or say the balance is used up. The writer's ledger handle implements it.
pub trait Admission: Send + Sync + 'static {
    fn admit(&self, request: AdmitRequest) -> BoxFuture<'_, Result<Admitted, DbError>>;
}

impl Admission for Ledger {
    fn admit(&self, request: AdmitRequest) -> BoxFuture<'_, Result<Admitted, DbError>> {
        Box::pin(Ledger::admit(self, request))
    }
}

impl CallLog for Recorder {
    fn start_call(&self, row: CallStart) {
        Recorder::start_call(self, row)
    }
    fn finish_call(&self, id: String, finish: CallFinish, bill: Option<Bill>) {
        Recorder::finish_call(self, id, finish, bill)
    }
    fn finish_call_committed(
        &self,
        id: String,
        finish: CallFinish,
        bill: Option<Bill>,
    ) -> BoxFuture<'_, ()> {
        Box::pin(Recorder::finish_call_committed(self, id, finish, bill))
    }
    fn credential_used(&self, id: String) {
        Recorder::credential_used(self, id)
    }
}

/// Where one attempt goes, owned so the attempt's future borrows nothing from the engine.
pub struct Upstream {
    pub provider: Provider,
    entry: Arc<ProviderEntry>,
    api_key: SecretString,
}

impl Upstream {
    fn of(attempt: &Attempt) -> Upstream {
        Upstream {
            provider: attempt.implementation.clone(),
            entry: attempt.provider.clone(),
            api_key: attempt
                .credential
                .as_ref()
                .map_or_else(|| SecretString::from(""), |c| c.secret.clone()),
        }
    }

    pub fn kind(&self) -> crate::config::ProviderKind {
        self.entry.kind
    }

    pub fn target(&self) -> Target<'_> {
        Target {
            base_url: &self.entry.base_url,
            api_key: self.api_key.expose_secret(),
            region: self.entry.region.as_deref(),
            chat_url: self.entry.chat_url.as_ref(),
        }
    }
}

/// What an attempt's provider call gave back.
pub enum Answer<T> {
    /// The call is over: its row ends now, billed on this measure.
    Finished(T, Measure),
    /// A stream has begun: its row ends when the stream does ([`relay`]).
    Streaming(T),
}

/// One call to run: its modality (the rate's type, how it is billed), the upstream model id,
/// the estimate held at admission, and what each attempt sends.
pub struct Operation<'a, E, F> {
    pub modality: Modality,
    pub model: &'a str,
    /// Credits held at admission, from the attempt's rate and the default completion tokens.
    pub estimate: E,
    pub send: F,
}

/// A call that answered.
pub struct Done<T> {
    pub output: T,
    pub call_id: String,
    pub upstream_ms: f64,
    /// `provider/model` of the attempt that answered.
    pub model_with_provider: String,
    /// The credits billed (0 with billing off, without a rate, or for a stream still running).
    pub credits: Decimal,
    pub measure: Measure,
    /// A stream's row is still open: what its end needs.
    pub open: Option<OpenRow>,
}

/// What the end of a stream's row needs: its rate and its payer (the hold it releases).
pub struct OpenRow {
    pub rate: Option<Rate>,
    pub payer: Payer,
}

impl Engine {
    /// Runs `op` on the plan's attempts until one answers. A finished answer's row is committed
    /// before this returns; a stream's row is left open ([`Done::open`]). Every failed
    /// attempt's row is written, the route is penalised by its failure class, and a failure
    /// that another attempt cannot fix (a bad request) ends the call.
    pub async fn run<T, E, F, Fut>(
        &self,
        ctx: &CallContext,
        plan: &mut Plan,
        mut op: Operation<'_, E, F>,
    ) -> Result<Done<T>, CoreError>
    where
        E: Fn(&Rate, u64) -> Decimal,
        F: FnMut(Upstream) -> Fut,
        Fut: Future<Output = Result<Answer<T>, UpstreamError>>,
    {
        let mut last: Option<UpstreamError> = None;
        let mut unpriced: Option<CoreError> = None;
        let mut payer = Payer::new(self, ctx);
        while let Some(attempt) = self.router.next(plan) {
            let rate = match self.rate_of(&attempt, op.model, op.modality.call_type()) {
                Ok(rate) => rate,
                Err(e) => {
                    unpriced = Some(e);
                    continue;
                }
            };
            payer.admit(self, rate.as_ref(), &op.estimate).await?;
            let id = uuid::Uuid::now_v7().to_string();
            self.recorder
                .start_call(ctx.start_row(&id, &attempt, op.model));
            let sent = Instant::now();
            match self.unless_cut((op.send)(Upstream::of(&attempt))).await {
                Ok(answer) => {
                    let upstream_ms = sent.elapsed().as_secs_f64() * 1000.0;
                    self.succeeded(&attempt);
                    self.router.model_answered(
                        &attempt,
                        op.model,
                        op.modality.call_type().as_str(),
                        upstream_ms as i64,
                    );
                    let model_with_provider =
                        format!("{}/{}", attempt.provider.kind.name(), op.model);
                    let (output, measure) = match answer {
                        Answer::Streaming(output) => {
                            return Ok(Done {
                                output,
                                call_id: id,
                                upstream_ms,
                                model_with_provider,
                                credits: Decimal::ZERO,
                                measure: Measure::default(),
                                open: Some(OpenRow { rate, payer }),
                            });
                        }
                        Answer::Finished(output, measure) => (output, measure),
                    };
                    let end = Ending {
                        status: CallStatus::Success,
                        modality: op.modality,
                        measure: &measure,
                        estimated: false,
                        ttfb_ms: Some(ctx.elapsed_ms()),
                        provider_ttfb_ms: Some(upstream_ms as i64),
                    };
                    let row = end.row(ctx.started, rate.as_ref());
                    if ctx.row_committed_by_route {
                        self.recorder
                            .finish_call(id.clone(), row, payer.bill_final());
                    } else {
                        self.recorder
                            .finish_call_committed(id.clone(), row, payer.bill_final())
                            .await;
                    }
                    return Ok(Done {
                        credits: record::cost(op.modality, &measure, rate.as_ref()),
                        output,
                        call_id: id,
                        upstream_ms,
                        model_with_provider,
                        measure,
                        open: None,
                    });
                }
                Err(err) => {
                    self.failed(ctx, &attempt, id, &err, &mut payer);
                    if !matches!(err, UpstreamError::Stopped) {
                        self.router.model_failed(
                            &attempt,
                            op.model,
                            op.modality.call_type().as_str(),
                            &err,
                        );
                    }
                    let retry = err.retryable();
                    last = Some(err);
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(match (last, unpriced) {
            (Some(e), _) => CoreError::Upstream(e),
            (None, Some(e)) => e,
            (None, None) => {
                CoreError::Unavailable("no usable credential is left for this model".into())
            }
        })
    }

    /// Runs an upstream call unless the Hub's stop cuts it off first.
    pub async fn unless_cut<T>(
        &self,
        call: impl Future<Output = Result<T, UpstreamError>>,
    ) -> Result<T, UpstreamError> {
        tokio::select! {
            biased;
            result = call => result,
            () = self.cut.cancelled() => Err(UpstreamError::Stopped),
        }
    }

    /// The attempt's rate. With billing on, an attempt whose model has no rate on its provider
    /// is not sent: it would be billed as 0.
    fn rate_of(
        &self,
        attempt: &Attempt,
        model: &str,
        kind: CallType,
    ) -> Result<Option<Rate>, CoreError> {
        let rate = attempt.provider.rate(model, kind.as_str()).cloned();
        if rate.is_none() && self.settings.billing.enabled {
            return Err(CoreError::invalid(
                "model",
                format!(
                    "'{}/{model}' has no rate, and billing is on: an administrator must set its \
                     {} rate (POST /api/ai-providers/{}/model-rates) before it can be used",
                    attempt.provider.kind.name(),
                    kind.as_str(),
                    attempt.provider.id
                ),
            ));
        }
        Ok(rate)
    }

    fn succeeded(&self, attempt: &Attempt) {
        self.router.succeeded(attempt);
        if let Some(c) = attempt.credential.as_ref().filter(|c| c.from_db) {
            self.recorder.credential_used(c.id.clone());
        }
    }

    fn failed(
        &self,
        ctx: &CallContext,
        attempt: &Attempt,
        id: String,
        err: &UpstreamError,
        payer: &mut Payer,
    ) {
        let reason = record::reason(err, attempt);
        self.recorder
            .finish_call(id, record::failed(&reason, ctx), payer.bill_attempt());
        // A call the Hub cut off while stopping says nothing about the route.
        if !matches!(err, UpstreamError::Stopped) {
            self.router.failed(attempt, err, &reason);
        }
    }
}
