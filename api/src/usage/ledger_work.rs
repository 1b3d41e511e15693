//! The ledger part of a writer batch (`billing::ledger`): debits of finished calls, released
//! holds, admin grants, admissions (PostgreSQL) and balance loads (SQLite, see
//! `billing::funds`), all inside the batch transaction, one [`Book`] per user.

use super::writer::{Inbox, Op};
use crate::billing::funds::Funds;
use crate::billing::ledger::{self, Admission, Book, NewGrant};
use crate::db::ledger::{GrantRow, LedgerStore};
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
    pub release: Option<Release>,
}

/// A hold to end.
#[derive(Debug, Clone)]
pub enum Release {
    /// A `credit_reservations` row (PostgreSQL).
    Stored { id: String, amount: Decimal },
    /// An amount held in [`Funds`] (SQLite).
    Memory(Decimal),
}

/// An admission to decide (PostgreSQL) or a balance to load (SQLite) in the next batch.
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
    Admitted {
        reservation: String,
        amount: Decimal,
    },
    Refused {
        balance: Decimal,
    },
    /// The balance is in [`Funds`] now: decide there.
    Loaded,
}

pub type DecidedReply = oneshot::Sender<Result<Decided, String>>;
pub type GrantReply = oneshot::Sender<Result<GrantRow, String>>;

/// The estimate an admitted call holds, until the call's final row (whose [`Bill`] carries it)
/// commits, or until this is dropped (the call was abandoned).
pub struct Hold {
    user_did: String,
    release: Option<Release>,
    inbox: Arc<Inbox>,
    funds: Option<Arc<Funds>>,
}

impl Hold {
    pub(super) fn new(
        user_did: String,
        release: Release,
        inbox: Arc<Inbox>,
        funds: Option<Arc<Funds>>,
    ) -> Hold {
        Hold {
            user_did,
            release: Some(release),
            inbox,
            funds,
        }
    }

    /// For the [`Bill`] of the call's final row.
    pub fn settle(mut self) -> Option<Release> {
        self.release.take()
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        match self.release.take() {
            Some(Release::Memory(amount)) => {
                if let Some(funds) = &self.funds {
                    funds.release(&self.user_did, amount);
                }
            }
            Some(release) => {
                let user_did = std::mem::take(&mut self.user_did);
                self.inbox.push(Op::Release { user_did, release }, false);
            }
            None => {}
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

/// What [`Funds`] learns once the batch has ended (SQLite).
#[derive(Default)]
pub struct AfterCommit {
    /// (user, cost, held) of each debit.
    settles: Vec<(String, Decimal, Decimal)>,
    grants: Vec<(String, Decimal)>,
    installs: Vec<(String, Decimal, Option<NaiveDateTime>)>,
    starters: Vec<String>,
}

impl AfterCommit {
    pub fn apply(self, funds: Option<&Funds>, starters: &mut StarterCache, committed: bool) {
        if committed {
            starters.settled.extend(self.starters);
        }
        let Some(funds) = funds else {
            return;
        };
        if !committed {
            // Nothing was charged, but the calls are over: their holds end.
            for (user, _, held) in self.settles {
                funds.release(&user, held);
            }
            return;
        }
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
    }
}

/// The ledger work of one batch.
#[derive(Default)]
pub struct LedgerWork {
    /// (call id, credits, bill) of finished attempts.
    pub debits: Vec<(String, String, Bill)>,
    /// Holds of abandoned calls (stored ones; memory ones end at once).
    pub releases: Vec<(String, Release)>,
    pub grants: Vec<(NewGrant, GrantReply)>,
    pub admits: Vec<(AdmitRequest, DecidedReply)>,
}

impl LedgerWork {
    pub fn is_empty(&self) -> bool {
        self.debits.is_empty()
            && self.releases.is_empty()
            && self.grants.is_empty()
            && self.admits.is_empty()
    }

    /// What to tell [`Funds`] about the debits, decided before the transaction (so a failed
    /// batch still ends its calls' holds).
    pub fn after_commit(&self) -> AfterCommit {
        let settles = self
            .debits
            .iter()
            .map(|(_, credits, bill)| {
                let held = match &bill.release {
                    Some(Release::Memory(a)) => *a,
                    _ => Decimal::ZERO,
                };
                (bill.user_did.clone(), ledger::amount(credits), held)
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
    /// so two instances' writers cannot deadlock (PostgreSQL). `memory`: holds live in
    /// [`Funds`] (SQLite) and admissions are balance loads.
    pub fn apply<S: LedgerStore>(
        self,
        store: &mut S,
        memory: bool,
        now: NaiveDateTime,
        replies: &mut LedgerReplies,
        starters: &StarterCache,
        after: &mut AfterCommit,
    ) -> QueryResult<()> {
        let LedgerWork {
            debits,
            releases,
            grants,
            admits,
        } = self;
        let users: std::collections::BTreeSet<&str> = debits
            .iter()
            .map(|(_, _, b)| b.user_did.as_str())
            .chain(releases.iter().map(|(u, _)| u.as_str()))
            .chain(grants.iter().map(|(g, _)| g.user_did.as_str()))
            .chain(admits.iter().map(|(a, _)| a.user_did.as_str()))
            .collect();
        let mut books: BTreeMap<String, Book> = BTreeMap::new();
        let opened = || -> QueryResult<()> {
            for user in users {
                books.insert(user.to_owned(), Book::open(store, user, !memory, now)?);
            }
            Ok(())
        };
        if let Err(e) = opened() {
            replies.undecided.extend(admits.into_iter().map(|(_, r)| r));
            replies.ungranted.extend(grants.into_iter().map(|(_, r)| r));
            return Err(e);
        }
        let mut deletes: Vec<String> = Vec::new();
        for (_, credits, bill) in &debits {
            if let Some(book) = books.get_mut(&bill.user_did) {
                book.debit(ledger::amount(credits), now);
                if let Some(Release::Stored { id, amount }) = &bill.release {
                    deletes.push(id.clone());
                    book.release(*amount);
                }
            }
        }
        for (user, release) in &releases {
            if let (Some(book), Release::Stored { id, amount }) = (books.get_mut(user), release) {
                deletes.push(id.clone());
                book.release(*amount);
            }
        }
        for (grant, reply) in grants {
            if let Some(book) = books.get_mut(&grant.user_did) {
                let row = book.grant(&grant, now);
                after.grants.push((grant.user_did.clone(), grant.amount));
                replies.grants.push((reply, row));
            }
        }
        let mut loaded: Vec<String> = Vec::new();
        for (request, reply) in admits {
            let Some(book) = books.get_mut(&request.user_did) else {
                continue;
            };
            if let Err(e) = starter(store, book, &request, starters, after, now) {
                replies.undecided.push(reply);
                return Err(e);
            }
            let decided = if memory {
                loaded.push(request.user_did.clone());
                Decided::Loaded
            } else {
                match book.admit(
                    request.estimate,
                    Some(&request.instance_id),
                    Decimal::ZERO,
                    now,
                ) {
                    Admission::Admitted { reservation } => Decided::Admitted {
                        reservation,
                        amount: request.estimate.max(Decimal::ZERO),
                    },
                    Admission::Refused { balance } => Decided::Refused { balance },
                }
            };
            replies.decided.push((reply, decided));
        }
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
        store.delete_reservations(&deletes)?;
        Ok(())
    }
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
