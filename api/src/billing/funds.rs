//! Balances in memory, for admission without a database round trip (SQLite).
//!
//! On SQLite one process owns the database and every ledger write goes through its writer
//! thread, so a copy of each user's balance kept here, changed by the writer right after each
//! commit, is exact. Admission then decides under one short lock: admitted while the balance
//! less what is held is above zero, and the call's estimate is held until its debit commits (or
//! the call is abandoned). A user is loaded by the writer the first time they are seen, and again once one of their grants has
//! expired. (PostgreSQL, where other instances write too, keeps holds as rows instead.)

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

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
}

#[derive(Default)]
pub struct Funds {
    accounts: Mutex<HashMap<String, Account>>,
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

    pub fn try_admit(&self, user: &str, estimate: Decimal, now: NaiveDateTime) -> Decision {
        let mut accounts = self.lock();
        let Some(a) = accounts.get_mut(user).filter(|a| a.loaded) else {
            return Decision::Load;
        };
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

    /// After a commit: a call's debit, and the end of its hold, at once.
    pub fn settle(&self, user: &str, cost: Decimal, held: Decimal) {
        if let Some(a) = self.lock().get_mut(user) {
            a.balance -= cost;
            a.held -= held;
        }
    }

    /// After a commit: a grant (paying debt first changes the balance by the same amount).
    pub fn granted(&self, user: &str, amount: Decimal) {
        if let Some(a) = self.lock().get_mut(user) {
            a.balance += amount;
        }
    }

    /// After a commit: the balance as read inside it (holds stay as they are).
    pub fn install(&self, user: &str, balance: Decimal, next_expiry: Option<NaiveDateTime>) {
        let mut accounts = self.lock();
        let a = accounts.entry(user.to_owned()).or_default();
        a.balance = balance;
        a.next_expiry = next_expiry;
        a.loaded = true;
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
}
