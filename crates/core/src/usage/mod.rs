//! Usage recording (SPEC §9, first bullet): one `model_calls` row per attempt, written by a single
//! group-commit writer.

pub mod calls;
mod insert_sqlite;
pub mod rebuild;
pub mod retention;
pub mod rollup;
pub mod rollup_store;
pub mod writer;

pub use crate::db::model_calls::CallType;
pub use calls::{CallFinish, CallStart, CallStatus};
pub use writer::{Ledger, Recorder, fail_interrupted};
