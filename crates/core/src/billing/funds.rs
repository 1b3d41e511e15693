//! Balances and holds in memory, for admission without a database round trip.
//!
//! SQLite: one process owns the database and every ledger write goes through its writer
//! thread, so a copy of each user's balance kept here, changed by the writer right after each
//! commit, is exact. Admission then decides under one short lock: admitted while the balance
//! less what is held is above zero, and the call's estimate is held until its debit commits (or
//! the call is abandoned). A user is loaded by the writer the first time they are seen, and
//! again once one of their grants has expired.
//!
//! PostgreSQL (several instances write the ledger): leases. An instance admits locally only
//! against a lease it took from the user's available balance in the database (its own
//! `credit_reservations` row, which every instance counts as held): admitted while the lease
//! less what is held is above zero. A call that settles uses up its estimate of the lease. When
//! the lease runs out the writer extends it from what is left (balance − the other instances'
//! leases − what this instance holds): by the most of [`LEASE_CALLS`] estimates, twice what is
//! asking, what is held already and 1/[`LEASE_SHARE`] of what is left, so a busy instance comes
//! back rarely; nothing left is a 402. A lease unused for
//! [`LEASE_IDLE`] shrinks back to what is held, so other instances can have the rest.

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A lease extension covers at most this many estimates of the call that asked.
pub const LEASE_CALLS: u32 = 16;
/// A lease extension takes at least this fraction (1/n) of what is left.
pub const LEASE_SHARE: u32 = 8;
/// A lease nobody admitted against for this long shrinks to what is held.
pub const LEASE_IDLE: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Account {
    /// Unexpired grants left minus debt, as committed.
    balance: Decimal,
    /// Estimates of admitted calls whose debit has not committed.
    held: Decimal,
    /// When the balance changes by itself (a grant expires): reload then.
    next_expiry: Option<NaiveDateTime>,
    /// Loaded from the database at least once.
    loaded: bool,
    /// Leases (PostgreSQL): what this instance may hold for the user.
    lease: Decimal,
    last_admit: Option<Instant>,
    /// When the balance was last installed (Payment Kit: coalesces concurrent reloads).
    loaded_at: Option<Instant>,
}

#[derive(Default)]
pub struct Funds {
    accounts: Mutex<HashMap<String, Account>>,
    /// PostgreSQL: admit against leases (this instance's rows), not against the balance.
    leased: Option<String>,
}

/// What [`Funds::try_admit`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Admitted,
    Refused {
        balance: Decimal,
    },
    /// Not loaded, or a grant expired since: the writer must load it first.
    Load,
}

impl Funds {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Account>> {
        // Every change under the lock is a single arithmetic step: a panic cannot leave it torn.
        self.accounts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Funds for several instances sharing a database (PostgreSQL); `instance_id` names this
    /// instance's lease rows.
    pub fn leased(instance_id: &str) -> Funds {
        Funds {
            leased: Some(instance_id.to_owned()),
            ..Funds::default()
        }
    }

    pub fn is_leased(&self) -> bool {
        self.leased.is_some()
    }

    /// The instance whose leases these are (PostgreSQL).
    pub fn instance_id(&self) -> Option<&str> {
        self.leased.as_deref()
    }

    pub fn try_admit(&self, user: &str, estimate: Decimal, now: NaiveDateTime) -> Decision {
        let mut accounts = self.lock();
        let Some(a) = accounts.get_mut(user).filter(|a| a.loaded) else {
            return Decision::Load;
        };
        if self.leased.is_some() {
            if a.lease - a.held <= Decimal::ZERO {
                return Decision::Load;
            }
            a.held += estimate.max(Decimal::ZERO);
            a.last_admit = Some(Instant::now());
            return Decision::Admitted;
        }
        if a.next_expiry.is_some_and(|e| e <= now) {
            return Decision::Load;
        }
        if a.balance - a.held <= Decimal::ZERO {
            return Decision::Refused { balance: a.balance };
        }
        a.held += estimate.max(Decimal::ZERO);
        Decision::Admitted
    }

    /// A hold ends without a debit (the call was abandoned, or its batch failed).
    pub fn release(&self, user: &str, held: Decimal) {
        if let Some(a) = self.lock().get_mut(user) {
            a.held -= held;
        }
    }

    /// After a commit: a call's debit, and the end of its hold, at once (leased: the hold's
    /// part of the lease is used up).
    pub fn settle(&self, user: &str, cost: Decimal, held: Decimal) {
        if let Some(a) = self.lock().get_mut(user) {
            a.balance -= cost;
            a.held -= held;
            if self.leased.is_some() {
                a.lease = (a.lease - held).max(Decimal::ZERO);
            }
        }
    }

    /// The lease as it will be once `settling` (estimates of calls settling in this batch) is
    /// used up, and what is held apart from them.
    pub fn lease_after(&self, user: &str, settling: Decimal) -> (Decimal, Decimal) {
        self.lock()
            .get(user)
            .map_or((Decimal::ZERO, Decimal::ZERO), |a| {
                (
                    (a.lease - settling).max(Decimal::ZERO),
                    (a.held - settling).max(Decimal::ZERO),
                )
            })
    }

    /// After a commit: the extended lease and the balance read with it, and the calls that
    /// asked for it admitted on it at once, under the same lock (so calls admitted elsewhere
    /// cannot take their room in between), while lease − held > 0. Returns which were admitted.
    pub fn install_lease(
        &self,
        user: &str,
        lease: Decimal,
        balance: Decimal,
        asking: &[Decimal],
    ) -> Vec<bool> {
        let mut accounts = self.lock();
        let a = accounts.entry(user.to_owned()).or_default();
        a.lease = lease;
        a.balance = balance;
        a.loaded = true;
        asking
            .iter()
            .map(|estimate| {
                if a.lease - a.held <= Decimal::ZERO {
                    return false;
                }
                a.held += *estimate;
                a.last_admit = Some(Instant::now());
                true
            })
            .collect()
    }

    /// Leases nobody admitted against for `idle`: shrunk to what is held at once (so no
    /// admission can use the part being returned), to be written by the caller.
    pub fn shrink_idle(&self, idle: Duration) -> Vec<(String, Decimal)> {
        let mut out = Vec::new();
        for (user, a) in self.lock().iter_mut() {
            if a.lease > a.held && a.last_admit.is_none_or(|t| t.elapsed() >= idle) {
                a.lease = a.held.max(Decimal::ZERO);
                out.push((user.clone(), a.lease));
            }
        }
        out
    }

    /// After a commit: a grant (paying debt first changes the balance by the same amount).
    pub fn granted(&self, user: &str, amount: Decimal) {
        if let Some(a) = self.lock().get_mut(user) {
            a.balance += amount;
        }
    }

    /// After a commit: the balance as read inside it (holds stay as they are). Payment Kit:
    /// the balance it answered, good until `next_expiry`.
    pub fn install(&self, user: &str, balance: Decimal, next_expiry: Option<NaiveDateTime>) {
        let mut accounts = self.lock();
        let a = accounts.entry(user.to_owned()).or_default();
        a.balance = balance;
        a.next_expiry = next_expiry;
        a.loaded = true;
        a.loaded_at = Some(Instant::now());
    }

    /// When `user`'s balance was last installed.
    pub fn loaded_at(&self, user: &str) -> Option<Instant> {
        self.lock().get(user).and_then(|a| a.loaded_at)
    }

    /// Keeps using a balance past its time (its source cannot be reached): true when there is
    /// one to keep.
    pub fn keep_until(&self, user: &str, until: NaiveDateTime) -> bool {
        match self.lock().get_mut(user).filter(|a| a.loaded) {
            Some(a) => {
                a.next_expiry = Some(until);
                true
            }
            None => false,
        }
    }

    /// Holds an estimate whatever the balance (Payment Kit said the user may go on).
    pub fn hold_anyway(&self, user: &str, estimate: Decimal) {
        self.lock().entry(user.to_owned()).or_default().held += estimate.max(Decimal::ZERO);
    }

    /// What running calls hold for `user`.
    pub fn held(&self, user: &str) -> Decimal {
        self.lock().get(user).map_or(Decimal::ZERO, |a| a.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .expect("time")
    }

    #[test]
    fn holds_settle_and_expiry() {
        let f = Funds::default();
        assert_eq!(f.try_admit("u", d("1"), at(0)), Decision::Load);
        f.install("u", d("0.25"), Some(at(5)));
        for _ in 0..3 {
            assert_eq!(f.try_admit("u", d("0.1"), at(1)), Decision::Admitted);
        }
        // 0.25 − 0.3 ≤ 0
        assert_eq!(
            f.try_admit("u", d("0.1"), at(1)),
            Decision::Refused { balance: d("0.25") }
        );
        f.settle("u", d("0.05"), d("0.1"));
        assert_eq!(f.held("u"), d("0.2"));
        // 0.2 − 0.2 ≤ 0 still; a release frees room.
        assert!(matches!(
            f.try_admit("u", d("0.1"), at(1)),
            Decision::Refused { .. }
        ));
        f.release("u", d("0.1"));
        assert_eq!(f.try_admit("u", d("0.1"), at(1)), Decision::Admitted);
        f.granted("u", d("1"));
        assert_eq!(f.try_admit("u", d("0.1"), at(1)), Decision::Admitted);
        // A grant expired: reload, holds kept.
        assert_eq!(f.try_admit("u", d("0.1"), at(5)), Decision::Load);
        f.install("u", d("1"), None);
        assert_eq!(f.held("u"), d("0.3"));
    }

    #[test]
    fn leases_bound_admission_and_shrink_when_idle() {
        let f = Funds::leased("i");
        assert_eq!(f.try_admit("u", d("0.1"), at(0)), Decision::Load);
        assert_eq!(
            f.install_lease("u", d("0.25"), d("5"), &[]),
            Vec::<bool>::new()
        );
        for _ in 0..3 {
            assert_eq!(f.try_admit("u", d("0.1"), at(0)), Decision::Admitted);
        }
        // Lease used: extend, whatever the balance.
        assert_eq!(f.try_admit("u", d("0.1"), at(0)), Decision::Load);
        assert_eq!(f.lease_after("u", d("0.1")), (d("0.15"), d("0.2")));
        f.settle("u", d("0.05"), d("0.1"));
        // 0.15 − 0.2 ≤ 0
        assert_eq!(f.try_admit("u", d("0.1"), at(0)), Decision::Load);
        f.release("u", d("0.1"));
        assert_eq!(f.try_admit("u", d("0.1"), at(0)), Decision::Admitted);
        assert!(f.shrink_idle(Duration::from_secs(60)).is_empty());
        f.release("u", d("0.1"));
        assert_eq!(
            f.shrink_idle(Duration::ZERO),
            vec![("u".to_owned(), d("0.1"))]
        );
        assert_eq!(f.try_admit("u", d("0.1"), at(0)), Decision::Load);
        // Calls asking for an extension are admitted on it while room is left.
        assert_eq!(
            f.install_lease(
                "u",
                d("0.25"),
                d("5"),
                &[d("0.1"), d("0.1"), d("0.1"), d("0.1")]
            ),
            vec![true, true, false, false]
        );
    }
}
