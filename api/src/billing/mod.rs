//! Credits (SPEC §9): what a call costs, in exact decimals.

pub mod credits;

pub use credits::Rate;
