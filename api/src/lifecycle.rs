//! Stopping without losing a call.
//!
//! A stop (SIGTERM or SIGINT: Blocklet Server sends SIGINT to the whole process tree and kills
//! it about 1.6 s later) goes through three states:
//! 1. **draining**: the listener is closed, requests that arrive on open connections are refused
//!    (503, `Connection: close`), and requests in flight run on, for at most the grace period
//!    (`shutdown_timeout_secs`);
//! 2. **cut**: what is still running ends the way a client disconnect does — streams send their
//!    dialect's error frame and end, one-answer calls answer 503 — and each call gets its
//!    `failed` row with the tokens seen so far and its bill;
//! 3. the usage writer and the Payment Kit outbox are flushed and the process exits 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Shared by every worker: cheap to clone.
#[derive(Clone, Default)]
pub struct Lifecycle {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    draining: AtomicBool,
    in_flight: AtomicUsize,
    idle: Notify,
    cut: CancellationToken,
}

/// Held for as long as a request (its answer's body included) runs.
pub struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// How a stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Requests still running when the grace period ended (then cut).
    pub cut: usize,
    /// Requests still running after the cut had its time (left to the process exit).
    pub abandoned: usize,
}

impl Lifecycle {
    /// Counts a request; refused (`None`) once the stop began.
    pub fn enter(&self) -> Option<InFlight> {
        if self.is_draining() {
            return None;
        }
        self.inner.in_flight.fetch_add(1, Ordering::AcqRel);
        Some(InFlight(self.inner.clone()))
    }

    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::Acquire)
    }

    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Acquire)
    }

    /// Resolves when the running calls must end now.
    pub fn cut(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.inner.cut.cancelled()
    }

    /// The token the cut cancels, for the engine (which must not know this type).
    pub fn cut_token(&self) -> CancellationToken {
        self.inner.cut.clone()
    }

    pub fn is_cut(&self) -> bool {
        self.inner.cut.is_cancelled()
    }

    /// Drains: refuses new requests at once, waits up to `grace` for those in flight, then cuts
    /// the rest and waits up to `cut_wait` for them to write their ends.
    pub async fn drain(&self, grace: Duration, cut_wait: Duration) -> Drained {
        self.inner.draining.store(true, Ordering::Release);
        let cut = if self.idle_within(grace).await {
            0
        } else {
            self.in_flight()
        };
        if cut > 0 {
            self.inner.cut.cancel();
        }
        let abandoned = if cut == 0 || self.idle_within(cut_wait).await {
            0
        } else {
            self.in_flight()
        };
        Drained { cut, abandoned }
    }

    async fn idle_within(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            // Registered before the check, so a drop in between is not missed.
            let idle = self.inner.idle.notified();
            if self.in_flight() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.in_flight() == 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_with_nothing_running_is_immediate() {
        let life = Lifecycle::default();
        let d = life
            .drain(Duration::from_secs(30), Duration::from_secs(30))
            .await;
        assert_eq!(
            d,
            Drained {
                cut: 0,
                abandoned: 0
            }
        );
        assert!(
            life.enter().is_none(),
            "a draining Hub takes no new request"
        );
        assert!(!life.is_cut());
    }

    #[tokio::test]
    async fn requests_that_finish_within_the_grace_are_not_cut() {
        let life = Lifecycle::default();
        let req = life.enter().expect("accepting");
        let waiter = {
            let life = life.clone();
            tokio::spawn(async move {
                life.drain(Duration::from_secs(30), Duration::from_secs(30))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(life.is_draining());
        drop(req);
        let d = waiter.await.expect("drain");
        assert_eq!(
            d,
            Drained {
                cut: 0,
                abandoned: 0
            }
        );
        assert!(!life.is_cut());
    }

    #[tokio::test]
    async fn requests_past_the_grace_are_cut_and_waited_for() {
        let life = Lifecycle::default();
        let req = life.enter().expect("accepting");
        // The request ends as soon as it is cut, as the gateway's calls do.
        let call = {
            let life = life.clone();
            tokio::spawn(async move {
                life.cut().await;
                drop(req);
            })
        };
        let d = life
            .drain(Duration::from_millis(50), Duration::from_secs(30))
            .await;
        assert_eq!(
            d,
            Drained {
                cut: 1,
                abandoned: 0
            }
        );
        assert!(life.is_cut());
        call.await.expect("call");
    }

    #[tokio::test]
    async fn a_request_that_ignores_the_cut_is_abandoned_after_the_wait() {
        let life = Lifecycle::default();
        let _stuck = life.enter().expect("accepting");
        let d = life
            .drain(Duration::from_millis(20), Duration::from_millis(20))
            .await;
        assert_eq!(
            d,
            Drained {
                cut: 1,
                abandoned: 1
            }
        );
    }
}
