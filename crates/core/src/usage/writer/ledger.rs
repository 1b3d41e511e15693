//! The built-in ledger's handle on the writer: billing's work (admissions, grants) runs in the
//! writer's batches so that a call's debit and its final row commit in one transaction; this
//! handle is how billing asks for it, apart from the recorder that writes call rows.

use super::inbox::{Inbox, Op};
use super::recorder::push;
use crate::billing::funds::{Decision, Funds};
use crate::billing::ledger::NewGrant;
use crate::billing::ledger_work::{AdmitRequest, Admitted, Decided, Hold};
use crate::db::DbError;
use crate::db::ledger::GrantRow;
use chrono::Utc;
use rust_decimal::Decimal;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Cheap to clone.
#[derive(Clone)]
pub struct Ledger {
    pub(super) inbox: Arc<Inbox>,
    pub(super) funds: Arc<Funds>,
}

impl Ledger {
    /// Admits a call (billing on) and holds its estimate, in memory: SQLite while the user's
    /// balance minus what their running calls hold is above zero (the writer loads the balance
    /// the first time); PostgreSQL while this instance's lease minus what it holds is (the writer
    /// extends the lease when it runs out, or answers that nothing is left).
    pub async fn admit(&self, request: AdmitRequest) -> Result<Admitted, DbError> {
        let user_did = request.user_did.clone();
        let estimate = request.estimate.max(Decimal::ZERO);
        // A load is needed at most once per call but for races (a lease used up by others
        // meanwhile, a grant expiring).
        for _ in 0..8 {
            match self
                .funds
                .try_admit(&user_did, estimate, Utc::now().naive_utc())
            {
                Decision::Admitted => {
                    return Ok(Admitted::Yes(Hold::new(
                        user_did,
                        estimate,
                        self.funds.clone(),
                    )));
                }
                Decision::Refused { balance } => return Ok(Admitted::No { balance }),
                Decision::Load => match self.decide(request.clone()).await? {
                    Decided::Refused { balance } => return Ok(Admitted::No { balance }),
                    Decided::Admitted => {
                        return Ok(Admitted::Yes(Hold::new(
                            user_did,
                            estimate,
                            self.funds.clone(),
                        )));
                    }
                    Decided::Loaded => {}
                },
            }
        }
        Err(DbError::Unavailable(
            "credits are being used too fast to hold this call's estimate; try again".into(),
        ))
    }

    async fn decide(&self, request: AdmitRequest) -> Result<Decided, DbError> {
        let (reply, wait) = oneshot::channel();
        if !push(&self.inbox, Op::Admit { request, reply }, true) {
            return Err(DbError::Unavailable("the usage writer stopped".into()));
        }
        match wait.await {
            Ok(Ok(decided)) => Ok(decided),
            Ok(Err(e)) => Err(DbError::Unavailable(e)),
            Err(_) => Err(DbError::Unavailable("the usage writer stopped".into())),
        }
    }

    /// The balances and holds admission decides on.
    pub fn funds(&self) -> Arc<Funds> {
        self.funds.clone()
    }

    /// What running calls hold for `user` (SQLite, where holds live only in memory; PostgreSQL
    /// leases are rows).
    pub fn held_in_memory(&self, user: &str) -> Option<Decimal> {
        (!self.funds.is_leased()).then(|| self.funds.held(user))
    }

    /// Adds a grant to the built-in ledger (committed when this returns).
    pub async fn grant(&self, grant: NewGrant) -> Result<GrantRow, DbError> {
        let (reply, wait) = oneshot::channel();
        if !push(&self.inbox, Op::Grant { grant, reply }, true) {
            return Err(DbError::Unavailable("the usage writer stopped".into()));
        }
        match wait.await {
            Ok(Ok(row)) => Ok(row),
            Ok(Err(e)) => Err(DbError::Unavailable(e)),
            Err(_) => Err(DbError::Unavailable("the usage writer stopped".into())),
        }
    }
}
