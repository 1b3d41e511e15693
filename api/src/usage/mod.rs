//! Usage recording (SPEC §9, first bullet): one `model_calls` row per attempt, written by a single
//! group-commit writer.

pub mod calls;
mod insert_sqlite;
pub mod ledger_work;
pub mod meter_reports;
pub mod rebuild;
pub mod retention;
pub mod rollup;
pub mod writer;

pub use calls::{CallFinish, CallStart};
pub use writer::{Recorder, fail_interrupted};
