//! Credits (SPEC §9): what a call costs, in exact decimals.

pub mod credits;
pub mod funds;
pub mod ledger;
pub mod ledger_work;
pub mod meter_reports;
pub mod payment_kit;
pub mod price_list;
pub mod rate_check;

pub use credits::Rate;
