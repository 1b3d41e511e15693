//! Reports billed usage to Payment Kit (SPEC §9) from `meter_event_outbox`, in the background:
//! every [`EVERY`], the rows that have no identifier get one per (user, app) group
//! (`db::outbox::assign`, committed before anything is sent), then each identified group is
//! posted as one meter event and marked sent once Payment Kit has it. A report that fails
//! keeps its identifier, so its retry can only be counted once.
//!
//! Payment Kit unreachable (or failing, 5xx): the round stops and the next waits 1 s, then twice
//! as long after each failed round (up to [`MAX_BACKOFF`]); rows keep accumulating in the outbox, which a restart does not
//! lose. A report Payment Kit refuses (4xx) is tried again later on its own schedule
//! (`next_attempt_at`, doubling up to an hour) without holding back the others.

use crate::billing::payment_kit::{MeterEvent, PaymentKit, PaymentKitError};
use crate::db::outbox::{self, Report};
use crate::db::{Db, DbError};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;

pub const EVERY: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Longest wait before a refused report is tried again.
const MAX_RETRY: Duration = Duration::from_secs(3600);

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub refused: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RoundError {
    #[error(transparent)]
    PaymentKit(#[from] PaymentKitError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One round: identify, then report what is due.
pub async fn round(db: &Db, pk: &PaymentKit, instance: &str) -> Result<Round, RoundError> {
    let me = instance.to_owned();
    db.run(move |c| outbox::assign(c, &me, Utc::now().naive_utc()).map_err(DbError::from))
        .await?;
    let me = instance.to_owned();
    let due: Vec<Report> = db
        .run(move |c| outbox::due(c, &me, Utc::now().naive_utc()).map_err(DbError::from))
        .await?;
    let mut done = Round::default();
    if due.is_empty() {
        return Ok(done);
    }
    let meter = pk.meter().await?;
    for report in due {
        let event = MeterEvent {
            user_did: &report.user_did,
            app_did: report.app_did.as_deref(),
            value: report.value,
            identifier: &report.identifier,
            timestamp: report.last_at.and_utc().timestamp(),
            calls: report.calls,
        };
        match pk.report(&meter, &event).await {
            Ok(()) => {
                let id = report.identifier.clone();
                db.run(move |c| {
                    outbox::mark_sent(c, &id, Utc::now().naive_utc()).map_err(DbError::from)
                })
                .await?;
                done.sent += 1;
            }
            Err(e) => {
                let id = report.identifier.clone();
                let retry_after = if e.is_down() {
                    EVERY
                } else {
                    retry_delay(report.attempts)
                };
                let retry_at = Utc::now().naive_utc()
                    + chrono::Duration::from_std(retry_after).unwrap_or(chrono::Duration::zero());
                let text = e.to_string();
                db.run(move |c| {
                    outbox::mark_failed(c, &id, &text, retry_at).map_err(DbError::from)
                })
                .await?;
                if e.is_down() {
                    return Err(e.into());
                }
                tracing::warn!(identifier = %report.identifier, "usage report refused: {e}");
                done.refused += 1;
            }
        }
    }
    Ok(done)
}

/// How long a report refused `attempts` times before waits.
fn retry_delay(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 12)).unwrap_or(12);
    (EVERY * 2u32.pow(exp)).min(MAX_RETRY)
}

/// The background task.
pub async fn run(db: Db, pk: Arc<PaymentKit>, instance: String) {
    // The meter and its currency, looked up (or created) at start; a failure here is retried by
    // the rounds, which need it.
    if let Err(e) = pk.meter().await {
        tracing::warn!("Payment Kit meter not ready yet: {e}");
    }
    let mut wait = EVERY;
    let mut failures: u32 = 0;
    loop {
        tokio::time::sleep(wait).await;
        match round(&db, &pk, &instance).await {
            Ok(r) => {
                if r.sent > 0 {
                    tracing::debug!(sent = r.sent, "usage reported to Payment Kit");
                }
                failures = 0;
                wait = EVERY;
            }
            Err(e) => {
                // 1 s, 2 s, 4 s … after consecutive failed rounds.
                wait = (EVERY * 2u32.pow(failures.min(6))).min(MAX_BACKOFF);
                failures += 1;
                tracing::warn!(
                    retry_in_s = wait.as_secs(),
                    "usage not reported to Payment Kit (kept in the outbox): {e}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_reports_back_off_to_an_hour() {
        assert_eq!(retry_delay(0), Duration::from_secs(1));
        assert_eq!(retry_delay(3), Duration::from_secs(8));
        assert_eq!(retry_delay(40), MAX_RETRY);
        assert_eq!(retry_delay(-1), Duration::from_secs(1));
    }
}
