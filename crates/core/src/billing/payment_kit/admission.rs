//! Admission against Payment Kit (SPEC §9): a user's balance is Payment Kit's (grants left −
//! events it has not applied yet) less what the Hub has not reported yet (the outbox), kept in
//! [`Funds`] for [`BALANCE_TTL`] while positive, with the estimates of running calls held
//! against it exactly as with the built-in ledger. Each finished call's cost comes off the
//! cached balance when its outbox row commits.
//!
//! When the cached balance, less what is held, is not above zero, the balance is read again
//! (a top-up counts at once); still nothing: Payment Kit's `verify-availability` decides
//! (`can_continue`, e.g. auto-recharge). Concurrent reloads of one user wait for one another
//! and use the one that finished.
//!
//! Payment Kit down: a user whose balance was read before goes on with it (checked again every
//! [`STALE_RETRY`]); a user never read gets 503. Starter credits are granted once per user
//! (`users.starter_credits_granted`, claimed in the database before the grant is asked for,
//! given back if Payment Kit refuses it).

use super::client::{PaymentKit, PaymentKitError};
use crate::billing::funds::{Decision, Funds};
use crate::billing::ledger_work::{Admitted, Hold};
use crate::db::{Db, DbError, outbox, users};
use crate::error::CoreError;
use chrono::{NaiveDateTime, Utc};
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A positive balance read from Payment Kit is used this long.
pub const BALANCE_TTL: Duration = Duration::from_secs(300);
/// An app found subscribed is not asked about again for this long.
pub const SUBSCRIPTION_TTL: Duration = Duration::from_secs(60);
/// While Payment Kit cannot be reached, a known balance is used and asked again this often.
pub const STALE_RETRY: Duration = Duration::from_secs(15);

pub struct PaymentKitFunds {
    pk: Arc<PaymentKit>,
    db: Db,
    funds: Arc<Funds>,
    starter: Decimal,
    /// One reload at a time per user.
    loading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Users whose starter credits are settled (granted now or before).
    starters: Mutex<HashSet<String>>,
    /// Apps with an active subscription, for [`SUBSCRIPTION_TTL`].
    subscribed: moka::sync::Cache<String, serde_json::Value>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Inserts only: a panic elsewhere cannot leave the map torn.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn later(now: NaiveDateTime, d: Duration) -> NaiveDateTime {
    now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero())
}

impl PaymentKitFunds {
    pub fn new(pk: Arc<PaymentKit>, db: Db, funds: Arc<Funds>, starter: Decimal) -> Self {
        PaymentKitFunds {
            pk,
            db,
            funds,
            starter,
            loading: Mutex::new(HashMap::new()),
            starters: Mutex::new(HashSet::new()),
            subscribed: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(SUBSCRIPTION_TTL)
                .build(),
        }
    }

    /// The v1 app's subscription (`active` or `trialing`), if it has one; found ones are kept
    /// for [`SUBSCRIPTION_TTL`].
    pub async fn subscription(
        &self,
        app_did: &str,
    ) -> Result<Option<serde_json::Value>, PaymentKitError> {
        if let Some(found) = self.subscribed.get(app_did) {
            return Ok(Some(found));
        }
        let found = self.pk.active_subscription(app_did).await?;
        if let Some(s) = &found {
            self.subscribed.insert(app_did.to_owned(), s.clone());
        }
        Ok(found)
    }

    /// The app's subscription as the app's status shows it: also a `past_due` one (the app
    /// should see that it must pay), asked now.
    pub async fn subscription_for_status(
        &self,
        app_did: &str,
    ) -> Result<Option<serde_json::Value>, PaymentKitError> {
        self.pk
            .subscription_in(app_did, &["active", "trialing", "past_due"])
            .await
    }

    pub fn client_arc(&self) -> Arc<PaymentKit> {
        self.pk.clone()
    }

    /// Admits a call whose cost is expected to be `estimate`, holding it; `No` is a 402.
    pub async fn admit(
        &self,
        user: &str,
        role: &str,
        estimate: Decimal,
    ) -> Result<Admitted, CoreError> {
        let started = Instant::now();
        let estimate = estimate.max(Decimal::ZERO);
        let mut reread = false;
        for _ in 0..4 {
            let now = Utc::now().naive_utc();
            match self.funds.try_admit(user, estimate, now) {
                Decision::Admitted => return Ok(Admitted::Yes(self.hold(user, estimate))),
                Decision::Load => {
                    self.reload(user, role, started).await?;
                    reread = true;
                }
                Decision::Refused { .. } if !reread => {
                    self.reload(user, role, started).await?;
                    reread = true;
                }
                Decision::Refused { balance } => {
                    return if self.can_continue(user).await {
                        self.funds.hold_anyway(user, estimate);
                        Ok(Admitted::Yes(self.hold(user, estimate)))
                    } else {
                        Ok(Admitted::No { balance })
                    };
                }
            }
        }
        Err(CoreError::Unavailable(
            "credits are being used too fast to hold this call's estimate; try again".into(),
        ))
    }

    fn hold(&self, user: &str, estimate: Decimal) -> Hold {
        Hold::new(user.to_owned(), estimate, self.funds.clone())
    }

    /// The balance as Payment Kit and the outbox tell it now (the user API's answer).
    pub async fn balance(&self, user: &str, role: &str) -> Result<Decimal, CoreError> {
        let balance = self.read(user, role).await.map_err(unavailable)?;
        self.funds.install(
            user,
            balance,
            Some(later(Utc::now().naive_utc(), BALANCE_TTL)),
        );
        Ok(balance)
    }

    /// What the user's active grants at Payment Kit were granted, and how many they are.
    pub async fn grant_totals(&self, user: &str) -> Result<(Decimal, i64), CoreError> {
        let read = async {
            let meter = self.pk.meter().await?;
            let customer = self.pk.customer_id(user).await?;
            self.pk.grant_totals(&meter, &customer).await
        };
        read.await
            .map_err(|e| unavailable(ReadError::PaymentKit(e)))
    }

    /// A page of the user's credit grants at Payment Kit (`{count, list}`).
    pub async fn grants(
        &self,
        user: &str,
        page: i64,
        page_size: i64,
    ) -> Result<serde_json::Value, CoreError> {
        let read = async {
            let customer = self.pk.customer_id(user).await?;
            self.pk.grants(&customer, page, page_size).await
        };
        read.await
            .map_err(|e| unavailable(ReadError::PaymentKit(e)))
    }

    /// A page of the user's credit transactions at Payment Kit (`{count, list}`).
    pub async fn transactions(
        &self,
        user: &str,
        page: i64,
        page_size: i64,
    ) -> Result<serde_json::Value, CoreError> {
        let read = async {
            let meter = self.pk.meter().await?;
            let customer = self.pk.customer_id(user).await?;
            self.pk
                .transactions(&meter, &customer, page, page_size)
                .await
        };
        read.await
            .map_err(|e| unavailable(ReadError::PaymentKit(e)))
    }

    /// Reads the balance into [`Funds`] unless someone else did since `started`.
    async fn reload(&self, user: &str, role: &str, started: Instant) -> Result<(), CoreError> {
        let gate = lock(&self.loading)
            .entry(user.to_owned())
            .or_default()
            .clone();
        let _one = gate.lock().await;
        if self.funds.loaded_at(user).is_some_and(|t| t >= started) {
            return Ok(());
        }
        let now = Utc::now().naive_utc();
        match self.read(user, role).await {
            Ok(balance) => {
                self.funds
                    .install(user, balance, Some(later(now, BALANCE_TTL)));
                Ok(())
            }
            Err(e) if self.funds.keep_until(user, later(now, STALE_RETRY)) => {
                tracing::warn!(
                    user,
                    "credit balance not refreshed, the cached one is used: {e}"
                );
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn read(&self, user: &str, role: &str) -> Result<Decimal, ReadError> {
        self.starter(user, role).await;
        let meter = self.pk.meter().await?;
        let customer = self.pk.customer_id(user).await?;
        let owned = user.to_owned();
        let (left, unreported) = tokio::join!(
            self.pk.balance(&meter, &customer),
            self.db
                .run(move |c| { outbox::unreported(c, &owned).map_err(DbError::from) })
        );
        Ok(left? - unreported?)
    }

    /// Whether Payment Kit lets a user with nothing left go on; false when it cannot be asked.
    async fn can_continue(&self, user: &str) -> bool {
        let meter = match self.pk.meter().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("availability not checked: {e}");
                return false;
            }
        };
        let owned = user.to_owned();
        let unreported = self
            .db
            .run(move |c| outbox::unreported(c, &owned).map_err(DbError::from))
            .await
            .unwrap_or_default();
        let pending = unreported + self.funds.held(user);
        match self.pk.can_continue(&meter, user, pending).await {
            Ok(yes) => yes,
            Err(e) => {
                tracing::warn!(user, "availability not checked: {e}");
                false
            }
        }
    }

    /// Grants starter credits the first time a user is seen, once: the database claim decides
    /// (one winner across instances); a grant Payment Kit refuses gives the claim back.
    async fn starter(&self, user: &str, role: &str) {
        if self.starter <= Decimal::ZERO || lock(&self.starters).contains(user) {
            return;
        }
        let (owned, role_owned) = (user.to_owned(), role.to_owned());
        let claimed = self
            .db
            .run(move |c| {
                users::claim_starter(c, &owned, &role_owned, Utc::now().naive_utc())
                    .map_err(DbError::from)
            })
            .await;
        let claimed = match claimed {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(user, "starter credits not claimed: {e}");
                return;
            }
        };
        if claimed && let Err(e) = self.grant_starter(user).await {
            tracing::warn!(user, "starter credits not granted (asked again later): {e}");
            let owned = user.to_owned();
            let released = self
                .db
                .run(move |c| users::release_starter(c, &owned).map_err(DbError::from))
                .await;
            if let Err(e) = released {
                tracing::error!(user, "starter credit claim not given back: {e}");
            }
            return;
        }
        lock(&self.starters).insert(user.to_owned());
    }

    async fn grant_starter(&self, user: &str) -> Result<(), PaymentKitError> {
        let meter = self.pk.meter().await?;
        let customer = self.pk.customer_id(user).await?;
        self.pk
            .grant_promotional(&meter, &customer, user, self.starter)
            .await
    }
}

#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    PaymentKit(#[from] PaymentKitError),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn unavailable(e: ReadError) -> CoreError {
    match e {
        ReadError::Db(e) => CoreError::from(e),
        ReadError::PaymentKit(e) => {
            CoreError::Unavailable(format!("the credit balance cannot be checked now: {e}"))
        }
    }
}
