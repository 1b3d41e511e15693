//! Who pays for one gateway call (SPEC §9, billing on): admission before the first upstream
//! byte, the estimate held while the call runs, and the [`Bill`] each attempt's row carries.
//! With billing off a payer does nothing.

use super::call::CallContext;
use crate::billing::{Rate, credits};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::usage::ledger_work::{AdmitRequest, Admitted, Bill, Hold};

pub struct Payer {
    user_did: Option<String>,
    app_did: Option<String>,
    role: &'static str,
    hold: Option<Hold>,
    admitted: bool,
    /// Where a 402 sends the user (under the Hub's mount point).
    payment_link: String,
}

impl Payer {
    pub fn new(state: &AppState, ctx: &CallContext) -> Payer {
        Payer {
            user_did: state.settings.billing.enabled.then(|| ctx.user_did.clone()),
            app_did: ctx.app_did.clone(),
            role: ctx.role,
            hold: None,
            admitted: false,
            payment_link: crate::http::mount::under(
                &ctx.mount,
                &state.settings.billing.payment_link,
            ),
        }
    }

    /// Admits the call once (at its first priced attempt): 402 when the user's balance, less what
    /// their running calls hold, is not above zero; otherwise the call's estimate is held.
    pub async fn admit(
        &mut self,
        state: &AppState,
        rate: Option<&Rate>,
        estimate: impl FnOnce(&Rate, u64) -> rust_decimal::Decimal,
    ) -> ApiResult<()> {
        let (Some(user_did), Some(rate)) = (&self.user_did, rate) else {
            return Ok(());
        };
        if self.admitted {
            return Ok(());
        }
        let billing = &state.settings.billing;
        let estimate = estimate(rate, billing.estimate_completion_tokens);
        let admitted = match &state.payment_kit {
            Some(pk) => pk.admit(user_did, self.role, estimate).await?,
            None => {
                self.admit_on_ledger(state, user_did.clone(), estimate)
                    .await?
            }
        };
        match admitted {
            Admitted::Yes(hold) => {
                self.hold = Some(hold);
                self.admitted = true;
                Ok(())
            }
            Admitted::No { balance } => {
                Err(not_enough(&credits::text(balance), &self.payment_link))
            }
        }
    }

    async fn admit_on_ledger(
        &self,
        state: &AppState,
        user_did: String,
        estimate: rust_decimal::Decimal,
    ) -> ApiResult<Admitted> {
        let billing = &state.settings.billing;
        let request = AdmitRequest {
            user_did,
            role: self.role.to_owned(),
            estimate,
            starter: billing.new_user_credits,
            instance_id: state.instance_id.clone(),
        };
        Ok(state.recorder.admit(request).await?)
    }

    /// The bill of an attempt's row; `last` when the row ends the call (it releases the hold).
    pub fn bill(&mut self, last: bool) -> Option<Bill> {
        let user_did = self.user_did.clone()?;
        let release = if last {
            self.hold.take().and_then(Hold::settle)
        } else {
            None
        };
        Some(Bill {
            user_did,
            app_did: self.app_did.clone(),
            release,
        })
    }
}

/// The 402 of a user without credits, in the one error shape every client format reads
/// (`error.message` carries the link too, for clients that show only the message).
pub fn not_enough(balance: &str, link: &str) -> ApiError {
    ApiError::PaymentRequired {
        kind: "NOT_ENOUGH",
        message: format!(
            "Insufficient credits (balance {balance}): buy credits to continue at {link}"
        ),
        link: link.to_owned(),
    }
}
