//! Rollups of the calls a batch ends, held briefly and merged off the answers' commit path.

use super::ROLLUP_DELAY;
use crate::db::HeldConnection;
use crate::usage::calls::{CallFinish, CallStart};
use crate::usage::rollup::{CallFacts, CallGroups, Pending};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use std::collections::HashMap;
use std::time::Instant;

/// Rollups of committed calls, not merged into `model_call_stats` yet (see [`ROLLUP_DELAY`]).
#[derive(Default)]
pub(super) struct Rollups {
    pub(super) pending: Pending,
    pub(super) since: Option<Instant>,
}

impl Rollups {
    pub(super) fn add(&mut self, batch: CallGroups) {
        if batch.is_empty() {
            return;
        }
        self.since.get_or_insert_with(Instant::now);
        self.pending.add_groups(batch);
    }

    pub(super) fn due(&self) -> bool {
        self.since.is_some_and(|at| at.elapsed() >= ROLLUP_DELAY)
    }

    /// Merges them, in key order (two instances' writers lock rows in the same order). On
    /// failure they stay for the next try.
    pub(super) fn write(&mut self, conn: &mut HeldConnection) {
        if self.pending.is_empty() {
            return;
        }
        let result = conn.run(|c| crate::usage::rollup_store::merge_all(c, &self.pending));
        match result {
            Ok(()) => {
                self.pending = Pending::default();
                self.since = None;
            }
            Err(e) => tracing::error!("usage rollups not written (kept for the next try): {e}"),
        }
    }
}

/// Of each `processing` row written and not finished yet, what its rollup needs (an update of
/// the final row does not carry it).
#[derive(Default)]
pub(super) struct Written(pub(super) HashMap<String, CallMeta>);

pub(super) struct CallMeta {
    pub(super) user_did: String,
    pub(super) app_did: String,
    pub(super) model: String,
    pub(super) kind: String,
    pub(super) call_time: NaiveDateTime,
}

impl CallMeta {
    pub(super) fn of(row: &CallStart) -> CallMeta {
        CallMeta {
            user_did: row.user_did.clone().unwrap_or_default(),
            app_did: row.app_did.clone().unwrap_or_default(),
            model: row.model.clone(),
            kind: row.kind.clone(),
            call_time: row.call_time.0,
        }
    }

    pub(super) fn facts<'a>(&'a self, end: &CallFinish) -> QueryResult<CallFacts<'a>> {
        Ok(CallFacts {
            user_did: &self.user_did,
            app_did: &self.app_did,
            model: &self.model,
            kind: &self.kind,
            success: end.status == "success",
            call_time: self.call_time,
            usage: end.total_usage,
            credits: end.credits.decimal(),
            duration_ms: end.duration_ms,
            ttfb_ms: end.ttfb_ms,
        })
    }
}

/// What a finished row adds to its rollups.
pub(super) fn facts_of(row: &CallStart) -> QueryResult<CallFacts<'_>> {
    Ok(CallFacts {
        user_did: row.user_did.as_deref().unwrap_or_default(),
        app_did: row.app_did.as_deref().unwrap_or_default(),
        model: &row.model,
        kind: &row.kind,
        success: row.status == "success",
        call_time: row.call_time.0,
        usage: row.total_usage,
        credits: row.credits.decimal(),
        duration_ms: row.duration_ms,
        ttfb_ms: row.ttfb_ms,
    })
}
