//! Who pays for one gateway call (SPEC §9, billing on): admission before the first upstream
//! byte, the estimate held while the call runs, and the [`Bill`] each attempt's row carries.
//! With billing off a payer does nothing.

use super::Engine;
use super::context::CallContext;
use crate::billing::Rate;
use crate::billing::ledger_work::{AdmitRequest, Admitted, Bill, Hold};
use crate::error::CoreError;
use rust_decimal::Decimal;

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
    pub fn new(engine: &Engine, ctx: &CallContext) -> Payer {
        let billing = &engine.settings.billing;
        Payer {
            user_did: billing.enabled.then(|| ctx.user_did.clone()),
            app_did: ctx.app_did.clone(),
            role: ctx.role,
            hold: None,
            admitted: false,
            payment_link: under(&ctx.mount, &billing.payment_link),
        }
    }

    /// Admits the call once (at its first priced attempt): 402 when the user's balance, less what
    /// their running calls hold, is not above zero; otherwise the call's estimate is held.
    pub async fn admit(
        &mut self,
        engine: &Engine,
        rate: Option<&Rate>,
        estimate: impl FnOnce(&Rate, u64) -> Decimal,
    ) -> Result<(), CoreError> {
        let (Some(user_did), Some(rate)) = (&self.user_did, rate) else {
            return Ok(());
        };
        if self.admitted {
            return Ok(());
        }
        let billing = &engine.settings.billing;
        let estimate = estimate(rate, billing.estimate_completion_tokens);
        let admitted = match &engine.payment_kit {
            Some(pk) => pk.admit(user_did, self.role, estimate).await?,
            None => {
                let request = AdmitRequest {
                    user_did: user_did.clone(),
                    role: self.role.to_owned(),
                    estimate,
                    starter: billing.new_user_credits,
                    instance_id: engine.instance_id.clone(),
                };
                engine.ledger.admit(request).await?
            }
        };
        match admitted {
            Admitted::Yes(hold) => {
                self.hold = Some(hold);
                self.admitted = true;
                Ok(())
            }
            Admitted::No { balance } => Err(CoreError::PaymentRequired {
                balance,
                link: self.payment_link.clone(),
            }),
        }
    }

    /// The bill of a failed attempt's row: the call goes on, its hold stays.
    pub fn bill_attempt(&self) -> Option<Bill> {
        self.bill_releasing(None)
    }

    /// The bill of the row that ends the call: it releases the hold.
    pub fn bill_final(&mut self) -> Option<Bill> {
        let release = self.hold.take().and_then(Hold::settle);
        self.bill_releasing(release)
    }

    fn bill_releasing(&self, release: Option<rust_decimal::Decimal>) -> Option<Bill> {
        Some(Bill {
            user_did: self.user_did.clone()?,
            app_did: self.app_did.clone(),
            release,
        })
    }
}

/// `link` under the mount prefix `prefix` when it is a path on this Hub (absolute and
/// protocol-relative URLs stay as they are).
pub fn under(prefix: &str, link: &str) -> String {
    if link.starts_with('/') && !link.starts_with("//") {
        format!("{prefix}{link}")
    } else {
        link.to_owned()
    }
}
