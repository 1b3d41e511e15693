//! Billing through Payment Kit (SPEC §9), when the app runs it: balances read from it and
//! cached ([`admission`]), usage reported to it from the outbox (`billing::meter_reports`),
//! starter credits as promotional grants, v1 subscriptions.

pub mod admission;
pub mod client;

pub use admission::PaymentKitFunds;
pub use client::{Meter, MeterEvent, PaymentKit, PaymentKitError};
