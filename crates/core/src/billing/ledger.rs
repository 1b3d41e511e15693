//! The built-in ledger's rules (SPEC §9, standalone or Blocklet without Payment Kit).
//!
//! - A user's balance is what is left of their unexpired grants minus their debt.
//! - A debit takes from the grant that expires first (never-expiring grants last, older first):
//!   an expiring grant that was partly spent is never counted twice. What no grant covers becomes
//!   debt, which the next grant pays first.
//! - Admission (holds of running calls, leases between instances) is `billing::funds`; this
//!   module gives it the balance, and the other instances' leases (`credit_reservations`).
//!
//! Every function runs inside one transaction whose first step is [`LedgerStore::lock_account`],
//! which serialises all ledger work on one user across instances (PostgreSQL) or is already
//! exclusive (SQLite's write transaction).

use crate::db::ledger::{GrantRow, LedgerRead, LedgerStore, TransactionRow};
use chrono::{NaiveDateTime, Timelike};
use diesel::QueryResult;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

use crate::db::credits::Credits;

/// A user's position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// What is left of unexpired grants.
    pub granted: Decimal,
    /// What calls cost beyond the grants.
    pub debt: Decimal,
    /// Held by admitted calls that have not settled.
    pub held: Decimal,
}

impl Position {
    /// The balance a user sees.
    pub fn balance(&self) -> Decimal {
        self.granted - self.debt
    }

    /// What a new call may still draw on.
    pub fn available(&self) -> Decimal {
        self.balance() - self.held
    }
}

/// Reads a user's position (no lock).
pub fn position<S: LedgerRead>(
    store: &mut S,
    user: &str,
    debt: Option<Credits>,
    now: NaiveDateTime,
) -> QueryResult<Position> {
    let debt = match debt {
        Some(d) => d,
        None => store.debt(user)?,
    };
    let granted: Credits = store
        .live_grants(user, now)?
        .iter()
        .map(|g| g.remaining)
        .sum();
    let held: Credits = store.reserved(user)?.into_iter().sum();
    Ok(Position {
        granted: granted.decimal(),
        debt: debt.decimal(),
        held: held.decimal(),
    })
}

/// What a new grant is.
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub user_did: String,
    pub amount: Decimal,
    pub category: String,
    pub expires_at: Option<NaiveDateTime>,
    pub created_by: Option<String>,
    pub description: Option<String>,
}

struct BookGrant {
    id: String,
    remaining: Decimal,
    expires_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    changed: bool,
}

/// One user's ledger inside a transaction: opened (locked and read) once, changed in memory by
/// any number of grants, debits and admissions, saved once. The rows it adds (grants,
/// transactions) are collected for one multi-row insert each.
pub struct Book {
    user: String,
    debt: Decimal,
    debt_changed: bool,
    /// Live grants in payment order.
    grants: Vec<BookGrant>,
    held: Decimal,
    pub new_grants: Vec<GrantRow>,
    pub transactions: Vec<TransactionRow>,
    /// Cost and calls per minute, added to the `usage` rows at save.
    usage: BTreeMap<NaiveDateTime, (Decimal, i64)>,
}

impl Book {
    /// Locks the user's account and reads it; `with_held` also reads the instances' lease rows
    /// (a PostgreSQL lease extension; see `billing::funds`).
    pub fn open<S: LedgerStore>(
        store: &mut S,
        user: &str,
        with_held: bool,
        now: NaiveDateTime,
    ) -> QueryResult<Book> {
        let (debt, live) = store.open_account(user, now)?;
        let debt = debt.decimal();
        let mut grants: Vec<BookGrant> = live
            .into_iter()
            .map(|g| BookGrant {
                remaining: g.remaining.decimal(),
                id: g.id,
                expires_at: g.expires_at,
                created_at: g.created_at,
                changed: false,
            })
            .collect();
        grants.sort_by(|a, b| payment_key(a).cmp(&payment_key(b)));
        let held = if with_held {
            store.reserved(user)?.into_iter().sum::<Credits>().decimal()
        } else {
            Decimal::ZERO
        };
        Ok(Book {
            user: user.to_owned(),
            debt,
            debt_changed: false,
            grants,
            held,
            new_grants: Vec::new(),
            transactions: Vec::new(),
            usage: BTreeMap::new(),
        })
    }

    pub fn position(&self) -> Position {
        Position {
            granted: self.grants.iter().map(|g| g.remaining).sum(),
            debt: self.debt,
            held: self.held,
        }
    }

    /// When the first live grant expires (the balance changes then by itself).
    pub fn next_expiry(&self) -> Option<NaiveDateTime> {
        self.grants
            .iter()
            .filter(|g| g.remaining > Decimal::ZERO)
            .filter_map(|g| g.expires_at)
            .min()
    }

    /// Adds a grant; it pays the user's debt first.
    pub fn grant(&mut self, new: &NewGrant, now: NaiveDateTime) -> GrantRow {
        let paid = self.debt.min(new.amount).max(Decimal::ZERO);
        if paid > Decimal::ZERO {
            self.debt -= paid;
            self.debt_changed = true;
        }
        let row = GrantRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_did: self.user.clone(),
            amount: new.amount.into(),
            category: new.category.clone(),
            expires_at: new.expires_at,
            created_by: new.created_by.clone(),
            created_at: now,
            remaining: (new.amount - paid).into(),
        };
        if new.amount > paid && new.expires_at.is_none_or(|e| e > now) {
            let grant = BookGrant {
                id: row.id.clone(),
                remaining: new.amount - paid,
                expires_at: new.expires_at,
                created_at: now,
                // Inserted with its remaining amount; only later debits change it.
                changed: false,
            };
            let at = self
                .grants
                .partition_point(|g| payment_key(g) <= payment_key(&grant));
            self.grants.insert(at, grant);
        }
        self.transactions.push(TransactionRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_did: self.user.clone(),
            kind: "grant".into(),
            amount: row.amount,
            grant_id: Some(row.id.clone()),
            model_call_id: None,
            description: new
                .description
                .clone()
                .or_else(|| Some(new.category.clone())),
            created_at: now,
            call_count: 0,
        });
        self.new_grants.push(row.clone());
        row
    }

    /// Charges a finished call from the grants that expire first; returns the part no grant
    /// covered (added to the debt). The call counts in the user's `usage` row of the minute.
    pub fn debit(&mut self, cost: Decimal, now: NaiveDateTime) -> Decimal {
        if cost <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        let mut left = cost;
        for g in &mut self.grants {
            if left <= Decimal::ZERO {
                break;
            }
            if g.remaining <= Decimal::ZERO {
                continue;
            }
            let take = g.remaining.min(left);
            g.remaining -= take;
            g.changed = true;
            left -= take;
        }
        if left > Decimal::ZERO {
            self.debt += left;
            self.debt_changed = true;
        }
        let minute = now
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(now);
        let usage = self.usage.entry(minute).or_default();
        usage.0 += cost;
        usage.1 += 1;
        left
    }

    /// Writes what changed: grant remainders, the debt, and the collected rows.
    pub fn save<S: LedgerStore>(&mut self, store: &mut S, now: NaiveDateTime) -> QueryResult<()> {
        let remaining: Vec<(String, Credits)> = self
            .grants
            .iter_mut()
            .filter(|g| g.changed)
            .map(|g| {
                g.changed = false;
                (g.id.clone(), g.remaining.into())
            })
            .collect();
        let usage: Vec<(NaiveDateTime, Credits, i64)> = std::mem::take(&mut self.usage)
            .into_iter()
            .map(|(minute, (cost, calls))| (minute, cost.into(), calls))
            .collect();
        store.save_debits(&self.user, &remaining, &usage)?;
        if self.debt_changed {
            store.set_debt(&self.user, self.debt.into(), now)?;
            self.debt_changed = false;
        }
        store.insert_grants(&std::mem::take(&mut self.new_grants))?;
        store.insert_transactions(&std::mem::take(&mut self.transactions))?;
        Ok(())
    }
}

/// Payment order: first to expire first, never-expiring last, older first.
fn payment_key(g: &BookGrant) -> (bool, Option<NaiveDateTime>, NaiveDateTime, &str) {
    (g.expires_at.is_none(), g.expires_at, g.created_at, &g.id)
}

/// Adds a grant (one-operation transaction).
pub fn grant<S: LedgerStore>(
    store: &mut S,
    new: &NewGrant,
    now: NaiveDateTime,
) -> QueryResult<GrantRow> {
    let mut book = Book::open(store, &new.user_did, false, now)?;
    let row = book.grant(new, now);
    book.save(store, now)?;
    Ok(row)
}

/// Charges a finished call (one-operation transaction). Returns the uncovered part.
pub fn debit<S: LedgerStore>(
    store: &mut S,
    user: &str,
    cost: Decimal,
    now: NaiveDateTime,
) -> QueryResult<Decimal> {
    let mut book = Book::open(store, user, false, now)?;
    let left = book.debit(cost, now);
    book.save(store, now)?;
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ledger::LiveGrant;
    use std::collections::HashMap;
    use std::str::FromStr;

    /// The ledger's rows in memory, to check the rules without a database.
    #[derive(Default)]
    struct Memory {
        debt: HashMap<String, Credits>,
        grants: Vec<GrantRow>,
        held: Vec<(String, Credits)>,
        transactions: Vec<TransactionRow>,
        usage: Vec<(NaiveDateTime, Credits, i64)>,
    }

    impl LedgerRead for Memory {
        fn debt(&mut self, user: &str) -> QueryResult<Credits> {
            Ok(self.debt.get(user).copied().unwrap_or_default())
        }
        fn live_grants(&mut self, user: &str, now: NaiveDateTime) -> QueryResult<Vec<LiveGrant>> {
            Ok(self
                .grants
                .iter()
                .filter(|g| g.user_did == user && !g.remaining.is_zero())
                .filter(|g| g.expires_at.is_none_or(|e| e > now))
                .map(|g| LiveGrant {
                    id: g.id.clone(),
                    remaining: g.remaining,
                    expires_at: g.expires_at,
                    created_at: g.created_at,
                })
                .collect())
        }
        fn reserved(&mut self, user: &str) -> QueryResult<Vec<Credits>> {
            Ok(self
                .held
                .iter()
                .filter(|(u, _)| u == user)
                .map(|(_, amount)| *amount)
                .collect())
        }
    }

    impl LedgerStore for Memory {
        fn lock_account(&mut self, user: &str, _: NaiveDateTime) -> QueryResult<Credits> {
            Ok(*self.debt.entry(user.to_owned()).or_default())
        }
        fn set_debt(&mut self, user: &str, debt: Credits, _: NaiveDateTime) -> QueryResult<()> {
            self.debt.insert(user.to_owned(), debt);
            Ok(())
        }
        fn set_remaining(&mut self, grant: &str, remaining: Credits) -> QueryResult<()> {
            for g in &mut self.grants {
                if g.id == grant {
                    g.remaining = remaining;
                }
            }
            Ok(())
        }
        fn insert_grants(&mut self, rows: &[GrantRow]) -> QueryResult<()> {
            self.grants.extend_from_slice(rows);
            Ok(())
        }
        fn insert_transactions(&mut self, rows: &[TransactionRow]) -> QueryResult<()> {
            self.transactions.extend_from_slice(rows);
            Ok(())
        }
        fn add_usage(
            &mut self,
            _: &str,
            minute: NaiveDateTime,
            cost: Credits,
            calls: i64,
        ) -> QueryResult<()> {
            self.usage.push((minute, cost, calls));
            Ok(())
        }
        fn lease_of(&mut self, _: &str, _: &str) -> QueryResult<Credits> {
            Ok(Credits::ZERO)
        }
        fn set_lease(&mut self, _: &str, _: &str, _: Credits, _: NaiveDateTime) -> QueryResult<()> {
            Ok(())
        }
        fn claim_starter(&mut self, _: &str, _: &str, _: NaiveDateTime) -> QueryResult<bool> {
            Ok(false)
        }
        fn insert_reports(&mut self, _: &[crate::db::outbox::NewOutboxRow<'_>]) -> QueryResult<()> {
            Ok(())
        }
    }

    fn at(day: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 1, day)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("date")
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    fn give(m: &mut Memory, amount: &str, expires: Option<NaiveDateTime>, now: NaiveDateTime) {
        grant(
            m,
            &NewGrant {
                user_did: "u".into(),
                amount: d(amount),
                category: "paid".into(),
                expires_at: expires,
                created_by: None,
                description: None,
            },
            now,
        )
        .expect("grant");
    }

    fn balance(m: &mut Memory, now: NaiveDateTime) -> Decimal {
        position(m, "u", None, now).expect("position").balance()
    }

    #[test]
    fn debits_take_from_the_grant_that_expires_first() {
        let mut m = Memory::default();
        give(&mut m, "10", None, at(1));
        give(&mut m, "5", Some(at(10)), at(2));
        assert_eq!(balance(&mut m, at(3)), d("15"));
        // 3 comes out of the expiring grant.
        debit(&mut m, "u", d("3"), at(3)).expect("debit");
        assert_eq!(balance(&mut m, at(3)), d("12"));
        // When it expires, only its unspent 2 go with it: 10 remain, not 15 - 5 - 3 = 7.
        assert_eq!(balance(&mut m, at(11)), d("10"));
        // A debit larger than the expiring grant spills into the next one.
        debit(&mut m, "u", d("4"), at(4)).expect("debit");
        assert_eq!(balance(&mut m, at(4)), d("8"));
        assert_eq!(balance(&mut m, at(11)), d("8"));
        // One usage row per minute: days 3 and 4.
        assert_eq!(
            m.usage,
            vec![(at(3), d("3").into(), 1), (at(4), d("4").into(), 1)]
        );
    }

    #[test]
    fn overdraft_becomes_debt_that_the_next_grant_pays() {
        let mut m = Memory::default();
        give(&mut m, "1", None, at(1));
        let uncovered = debit(&mut m, "u", d("1.25"), at(2)).expect("debit");
        assert_eq!(uncovered, d("0.25"));
        assert_eq!(balance(&mut m, at(2)), d("-0.25"));
        give(&mut m, "2", None, at(3));
        assert_eq!(balance(&mut m, at(3)), d("1.75"));
        assert!(m.debt["u"].is_zero());
        assert_eq!(m.grants[1].remaining.to_string(), "1.75");
        assert_eq!(m.grants[1].amount.to_string(), "2");
    }
}
