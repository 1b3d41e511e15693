//! The ledger part of a writer batch (`billing::ledger`): debits of finished calls, admin
//! grants, balance loads (SQLite) and lease extensions (PostgreSQL), see `billing::funds`; all
//! inside the batch transaction, one [`Book`] per user.

use crate::billing::funds::{Funds, LEASE_CALLS, LEASE_SHARE};
use crate::billing::ledger::{Book, NewGrant};
use crate::db::credits::Credits;
use crate::db::ledger::{GrantRow, LedgerStore};
use crate::db::outbox::NewOutboxRow;
use chrono::NaiveDateTime;
use diesel::QueryResult;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use tokio::sync::oneshot;

/// Who pays for a finished attempt (billing on), and the hold the call's end releases.
#[derive(Debug, Clone)]
pub struct Bill {
    pub user_did: String,
    /// The calling app (Payment Kit reports are grouped per user and app).
    pub app_did: Option<String>,
    /// The estimate the call held (its final row only).
    pub release: Option<Decimal>,
}

/// A finished call's cost, as the row stores it and as the ledger adds it up.
#[derive(Debug, Clone)]
pub struct Debit {
    pub call_id: String,
    pub amount: Credits,
    pub bill: Bill,
}

/// A balance to load (SQLite) or a lease to extend (PostgreSQL) in the next batch.
#[derive(Debug, Clone)]
pub struct AdmitRequest {
    pub user_did: String,
    /// The user's role, for the `users` row a first call creates.
    pub role: String,
    /// What the call is expected to cost (held until it settles).
    pub estimate: Decimal,
    /// Starter credits granted once to a user never seen (0: none).
    pub starter: Decimal,
    pub instance_id: String,
}

/// What the writer answered to an [`AdmitRequest`].
#[derive(Debug)]
pub enum Decided {
    /// Admitted on a lease extended for it (PostgreSQL): its estimate is held already.
    Admitted,
    /// Nothing left to lease (PostgreSQL).
    Refused { balance: Decimal },
    /// The balance (or a new lease) is in [`Funds`] now: decide there.
    Loaded,
}

pub type DecidedReply = oneshot::Sender<Result<Decided, String>>;
pub type GrantReply = oneshot::Sender<Result<GrantRow, String>>;

/// The estimate an admitted call holds in [`Funds`], until the call's final row (whose [`Bill`]
/// carries it) commits, or until this is dropped (the call was abandoned).
pub struct Hold {
    user_did: String,
    amount: Option<Decimal>,
    funds: Arc<Funds>,
}

impl Hold {
    pub fn new(user_did: String, amount: Decimal, funds: Arc<Funds>) -> Hold {
        Hold {
            user_did,
            amount: Some(amount),
            funds,
        }
    }

    /// For the [`Bill`] of the call's final row.
    pub fn settle(mut self) -> Option<Decimal> {
        self.amount.take()
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some(amount) = self.amount.take() {
            self.funds.release(&self.user_did, amount);
        }
    }
}

/// The answer to `Recorder::admit`.
pub enum Admitted {
    Yes(Hold),
    No { balance: Decimal },
}

/// Users whose starter credits are settled (granted now or earlier): no need to ask again.
#[derive(Default)]
pub struct StarterCache {
    settled: HashSet<String>,
}

/// Answers owed once the batch's transaction has ended.
#[derive(Default)]
pub struct LedgerReplies {
    decided: Vec<(DecidedReply, Decided)>,
    grants: Vec<(GrantReply, GrantRow)>,
    /// Asked, but not decided because the transaction failed first.
    undecided: Vec<DecidedReply>,
    ungranted: Vec<GrantReply>,
}

impl LedgerReplies {
    /// After the commit (`failure` None) or the rollback: a decision is only true if committed.
    pub fn send(self, failure: Option<&str>) {
        let failed = || {
            format!(
                "the ledger could not be written: {}",
                failure.unwrap_or("no answer")
            )
        };
        for (reply, decided) in self.decided {
            let _ = reply.send(match failure {
                None => Ok(decided),
                Some(_) => Err(failed()),
            });
        }
        for (reply, row) in self.grants {
            let _ = reply.send(match failure {
                None => Ok(row),
                Some(_) => Err(failed()),
            });
        }
        for reply in self.undecided {
            let _ = reply.send(Err(failed()));
        }
        for reply in self.ungranted {
            let _ = reply.send(Err(failed()));
        }
    }
}

/// What [`Funds`] learns once the batch has ended.
#[derive(Default)]
pub struct AfterCommit {
    /// (user, cost, held) of each debit.
    settles: Vec<(String, Decimal, Decimal)>,
    grants: Vec<(String, Decimal)>,
    installs: Vec<(String, Decimal, Option<NaiveDateTime>)>,
    /// (user, lease, balance) of extended leases.
    leases: Vec<(String, Decimal, Decimal)>,
    /// Calls that asked for the leases extended now, decided once the lease is installed
    /// (under the same lock, so no call admitted meanwhile can take their room).
    lease_waiters: Vec<(String, Decimal, DecidedReply)>,
    starters: Vec<String>,
}

impl AfterCommit {
    pub fn apply(
        self,
        funds: &Funds,
        starters: &mut StarterCache,
        replies: &mut LedgerReplies,
        committed: bool,
    ) {
        if !committed {
            // Nothing was charged, but the calls are over: their holds end.
            for (user, _, held) in self.settles {
                funds.release(&user, held);
            }
            replies
                .undecided
                .extend(self.lease_waiters.into_iter().map(|(_, _, r)| r));
            return;
        }
        starters.settled.extend(self.starters);
        for (user, cost, held) in self.settles {
            funds.settle(&user, cost, held);
        }
        for (user, amount) in self.grants {
            funds.granted(&user, amount);
        }
        // Read inside the transaction, after this batch's other changes: they win.
        for (user, balance, next_expiry) in self.installs {
            funds.install(&user, balance, next_expiry);
        }
        let mut waiters = self.lease_waiters;
        for (user, lease, balance) in self.leases {
            let (mine, rest): (Vec<_>, Vec<_>) =
                waiters.into_iter().partition(|(u, _, _)| *u == user);
            waiters = rest;
            let estimates: Vec<Decimal> = mine.iter().map(|(_, e, _)| *e).collect();
            let admitted = funds.install_lease(&user, lease, balance, &estimates);
            for ((_, _, reply), yes) in mine.into_iter().zip(admitted) {
                // Not admitted: calls admitted meanwhile took the room; the call asks again.
                let decided = if yes {
                    Decided::Admitted
                } else {
                    Decided::Loaded
                };
                replies.decided.push((reply, decided));
            }
        }
    }
}

/// The ledger work of one batch.
#[derive(Default)]
pub struct LedgerWork {
    /// (call id, credits, bill) of finished attempts.
    pub debits: Vec<Debit>,
    pub grants: Vec<(NewGrant, GrantReply)>,
    pub admits: Vec<(AdmitRequest, DecidedReply)>,
    /// Payment Kit bills (this instance's id): debits become outbox reports instead of ledger
    /// entries.
    pub metered: Option<String>,
}

impl LedgerWork {
    pub fn is_empty(&self) -> bool {
        self.debits.is_empty() && self.grants.is_empty() && self.admits.is_empty()
    }

    /// What to tell [`Funds`] about the debits, decided before the transaction (so a failed
    /// batch still ends its calls' holds).
    pub fn after_commit(&self) -> AfterCommit {
        let settles = self
            .debits
            .iter()
            .map(|d| {
                (
                    d.bill.user_did.clone(),
                    d.amount.decimal(),
                    d.bill.release.unwrap_or_default(),
                )
            })
            .collect();
        AfterCommit {
            settles,
            ..AfterCommit::default()
        }
    }

    /// The batch failed before this work ran: every question gets the failure.
    pub fn abandon(self, replies: &mut LedgerReplies) {
        replies
            .undecided
            .extend(self.admits.into_iter().map(|(_, r)| r));
        replies
            .ungranted
            .extend(self.grants.into_iter().map(|(_, r)| r));
    }

    /// Runs inside the batch transaction. Every user's account is locked first, in one order,
    /// so two instances' writers cannot deadlock (PostgreSQL).
    pub fn apply<S: LedgerStore>(
        self,
        store: &mut S,
        funds: &Funds,
        now: NaiveDateTime,
        replies: &mut LedgerReplies,
        starters: &StarterCache,
        after: &mut AfterCommit,
    ) -> QueryResult<()> {
        let LedgerWork {
            debits,
            grants,
            admits,
            metered,
        } = self;
        if let Some(instance) = metered {
            return report(store, &debits, &instance, now);
        }
        let leased = funds.is_leased();
        let users: std::collections::BTreeSet<&str> = debits
            .iter()
            .map(|d| d.bill.user_did.as_str())
            .chain(grants.iter().map(|(g, _)| g.user_did.as_str()))
            .chain(admits.iter().map(|(a, _)| a.user_did.as_str()))
            .collect();
        let extending: HashSet<&str> = if leased {
            admits.iter().map(|(a, _)| a.user_did.as_str()).collect()
        } else {
            HashSet::new()
        };
        let mut books: BTreeMap<String, Book> = BTreeMap::new();
        let opened = || -> QueryResult<()> {
            for user in users {
                // A lease extension counts what every instance holds (their lease rows).
                let with_held = extending.contains(user);
                books.insert(user.to_owned(), Book::open(store, user, with_held, now)?);
            }
            Ok(())
        };
        if let Err(e) = opened() {
            replies.undecided.extend(admits.into_iter().map(|(_, r)| r));
            replies.ungranted.extend(grants.into_iter().map(|(_, r)| r));
            return Err(e);
        }
        // Estimates of the calls settling now, per user (they leave the holds and the leases).
        let mut settling: BTreeMap<String, Decimal> = BTreeMap::new();
        for d in &debits {
            if let Some(book) = books.get_mut(&d.bill.user_did) {
                book.debit(d.amount.decimal(), now);
                *settling.entry(d.bill.user_did.clone()).or_default() +=
                    d.bill.release.unwrap_or_default();
            }
        }
        for (grant, reply) in grants {
            if let Some(book) = books.get_mut(&grant.user_did) {
                let row = book.grant(&grant, now);
                after.grants.push((grant.user_did.clone(), grant.amount));
                replies.grants.push((reply, row));
            }
        }
        // What the calls asking now would hold, per user.
        let mut demand: BTreeMap<String, Decimal> = BTreeMap::new();
        for (request, _) in &admits {
            *demand.entry(request.user_did.clone()).or_default() +=
                request.estimate.max(Decimal::ZERO);
        }
        // The leases extended now.
        let mut extended: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut loaded: Vec<String> = Vec::new();
        for (request, reply) in admits {
            let user = request.user_did.clone();
            let Some(book) = books.get_mut(&user) else {
                continue;
            };
            if let Err(e) = starter(store, book, &request, starters, after, now) {
                replies.undecided.push(reply);
                return Err(e);
            }
            if !leased {
                loaded.push(user);
                replies.decided.push((reply, Decided::Loaded));
                continue;
            }
            if extended.contains_key(&user) {
                after
                    .lease_waiters
                    .push((user, request.estimate.max(Decimal::ZERO), reply));
                continue;
            }
            // Extend this instance's lease from what is left once the other instances' leases
            // and what this one holds are taken out: by the most of twice what is asking now,
            // LEASE_CALLS estimates, what it holds already and a LEASE_SHARE-th of what is
            // left (so a busy instance comes back rarely, and others still find most of a
            // large balance).
            let (_, held_here) =
                funds.lease_after(&user, settling.get(&user).copied().unwrap_or_default());
            let own_row = store.lease_of(&request.instance_id, &user)?.decimal();
            let position = book.position();
            let others = position.held - own_row;
            let free = position.balance() - others - held_here;
            if free <= Decimal::ZERO {
                replies.decided.push((
                    reply,
                    Decided::Refused {
                        balance: position.balance(),
                    },
                ));
                continue;
            }
            let asking = demand.get(&user).copied().unwrap_or_default();
            let chunk = (asking * Decimal::TWO)
                .max(request.estimate.max(Decimal::ZERO) * Decimal::from(LEASE_CALLS))
                .max(held_here)
                .max(free / Decimal::from(LEASE_SHARE));
            let lease = held_here + free.min(chunk);
            store.set_lease(&request.instance_id, &user, lease.into(), now)?;
            after.leases.push((user.clone(), lease, position.balance()));
            after
                .lease_waiters
                .push((user.clone(), request.estimate.max(Decimal::ZERO), reply));
            extended.insert(user, lease);
        }
        // The lease rows are not lowered as calls settle: a row larger than what this instance
        // still needs only makes others see less (conservative); it is set again when the lease
        // is extended or returned.
        for user in loaded {
            if let Some(book) = books.get(&user) {
                after
                    .installs
                    .push((user.clone(), book.position().balance(), book.next_expiry()));
            }
        }
        for book in books.values_mut() {
            book.save(store, now)?;
        }
        Ok(())
    }
}

/// Payment Kit: each billed call's cost becomes an outbox row, in this transaction.
fn report<S: LedgerStore>(
    store: &mut S,
    debits: &[Debit],
    instance: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let rows: Vec<NewOutboxRow<'_>> = debits
        .iter()
        .filter(|d| d.amount > Credits::ZERO)
        .map(|d| NewOutboxRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_did: &d.bill.user_did,
            app_did: d.bill.app_did.as_deref(),
            amount: d.amount,
            model_call_id: Some(&d.call_id),
            status: "pending",
            attempts: 0,
            created_at: now,
            instance_id: Some(instance),
        })
        .collect();
    store.insert_reports(&rows)
}

/// Grants starter credits the first time a user is seen with billing on, once: the `users`
/// row's flag is claimed by a conditional update, which only one transaction (of any instance)
/// wins.
fn starter<S: LedgerStore>(
    store: &mut S,
    book: &mut Book,
    request: &AdmitRequest,
    starters: &StarterCache,
    after: &mut AfterCommit,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if request.starter <= Decimal::ZERO
        || starters.settled.contains(&request.user_did)
        || after.starters.contains(&request.user_did)
    {
        return Ok(());
    }
    if store.claim_starter(&request.user_did, &request.role, now)? {
        book.grant(
            &NewGrant {
                user_did: request.user_did.clone(),
                amount: request.starter,
                category: "promotional".into(),
                expires_at: None,
                created_by: None,
                description: Some("starter credits".into()),
            },
            now,
        );
        after
            .grants
            .push((request.user_did.clone(), request.starter));
    }
    after.starters.push(request.user_did.clone());
    Ok(())
}
