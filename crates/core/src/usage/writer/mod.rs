//! The group-commit writer: one thread owns the writes to `model_calls`; callers queue work
//! without waiting, except for the final row of an answer, which the caller awaits before the
//! last byte goes out (so a client that saw a complete answer always has its row). Each batch
//! is one transaction.
//!
//! The built-in ledger is written here too (`billing::ledger`): admissions, grants and the debit
//! of every finished call run in the same batch transaction as the call rows, so a call's debit
//! and its final row commit together, and admissions are serialised with settlements.
//!
//! A `processing` row is held in memory for up to [`START_DELAY`] before it is written: when the
//! call ends within that time (most non-streaming calls), one insert of the final row replaces an
//! insert and an update. Consequence, accepted on purpose: an attempt cut off by a crash within
//! its first 200 ms leaves no row at all (its client got no answer either); any longer attempt
//! leaves a `processing` row that the next start marks `failed`.

mod batch;
mod inbox;
mod ledger;
mod recorder;
mod rollups;
mod thread;

pub use batch::fail_interrupted;
pub use ledger::Ledger;
pub use recorder::Recorder;

use std::time::Duration;

pub(super) const BATCH: usize = 512;
/// Rows per multi-row INSERT on PostgreSQL (22 parameters each).
pub(super) const INSERT_ROWS: usize = 256;
/// How long a `processing` row waits in memory for its finish before it is written.
pub const START_DELAY: Duration = Duration::from_millis(200);
/// How often the writer looks at its inbox when nothing urgent arrives: the longest a held row
/// or an unawaited finish waits past its time.
pub(super) const TICK: Duration = Duration::from_millis(50);
/// How long finished calls' rollups wait in memory before they are merged into
/// `model_call_stats`, in their own transaction after the calls' (so usage charts lag by at
/// most this, and the merge is off the answers' commit path). A crash loses at most this much
/// of the rollups (`aigne-hub stats rebuild` restores them from the calls); a stop writes them.
pub const ROLLUP_DELAY: Duration = Duration::from_millis(250);

#[cfg(test)]
mod tests {
    use super::inbox::{Inbox, Op};
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};
    use tokio::sync::oneshot;

    fn flush() -> Op {
        Op::Flush(oneshot::channel().0)
    }

    /// A sleeping writer is woken once, by the first urgent push; the pushes that follow before
    /// it runs (and the non-urgent ones) make no futex call.
    #[test]
    fn one_wake_per_sleep() {
        let inbox = Inbox::default();
        inbox.lock().writer_waiting = true;
        assert!(inbox.push(flush(), false));
        assert_eq!(
            inbox.wakes.load(Ordering::Relaxed),
            0,
            "non-urgent work woke it"
        );
        for _ in 0..3 {
            assert!(inbox.push(flush(), true));
        }
        assert_eq!(inbox.wakes.load(Ordering::Relaxed), 1);
        assert_eq!(inbox.lock().ops.len(), 4);
    }

    /// The writer asleep in `take` wakes at an urgent push, long before its tick.
    #[test]
    fn urgent_push_wakes_a_sleeping_writer() {
        let inbox = Arc::new(Inbox::default());
        let writer = {
            let inbox = inbox.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut ops = Vec::new();
                while ops.is_empty() {
                    inbox.take(Duration::from_secs(30), &mut ops);
                }
                (started.elapsed(), ops.len())
            })
        };
        while !inbox.lock().writer_waiting {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(inbox.push(flush(), true));
        let (waited, taken) = writer.join().expect("writer");
        assert_eq!(taken, 1);
        assert!(waited < Duration::from_secs(25), "woken only by the tick");
    }

    /// A stored response whose insert fails (here: its id is taken) fails alone: the call row
    /// finished in the same batch is committed, and so is the first response.
    #[tokio::test]
    async fn a_failed_stored_response_keeps_the_batch() {
        use crate::db::responses::{self, StoredResponse};
        use crate::usage::{CallFinish, CallStart, Recorder};
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::db::migrated_sqlite(dir.path());
        let recorder = Recorder::start(db.clone(), "test", false).expect("writer");
        let now = chrono::Utc::now().naive_utc();
        let (key, id) = responses::new_turn_id();
        let stored = |id: &str| StoredResponse {
            turn_key: key,
            id: id.into(),
            user_did: "zUser".into(),
            previous_response_id: None,
            input: "[]".into(),
            output: "[]".into(),
            body: "{}".into(),
            created_at: now,
        };
        recorder
            .store_response(stored(&id))
            .await
            .expect("first stored");
        recorder.start_call(CallStart {
            id: "call-1".into(),
            provider_id: None,
            model: "openai/gpt-5-mini".into(),
            credential_id: None,
            kind: "chatCompletion".into(),
            status: "processing".into(),
            total_usage: 0,
            usage_metrics: None,
            credits: "0".parse().expect("credits"),
            duration_ms: None,
            ttfb_ms: None,
            provider_ttfb_ms: None,
            error_reason: None,
            app_did: None,
            user_did: Some("zUser".into()),
            request_id: None,
            trace_id: None,
            metadata: None,
            call_time: now.into(),
            created_at: now.into(),
            instance_id: None,
            dialect: Some("responses".into()),
        });
        // Not urgent: it waits in the inbox and joins the duplicate's batch.
        recorder.finish_call(
            "call-1".into(),
            CallFinish {
                status: "success".into(),
                total_usage: 9,
                usage_metrics: None,
                credits: "0".parse().expect("credits"),
                duration_ms: Some(1),
                ttfb_ms: None,
                provider_ttfb_ms: None,
                error_reason: None,
            },
            None,
        );
        let err = recorder
            .store_response(stored(&id))
            .await
            .expect_err("a taken id");
        assert!(err.to_lowercase().contains("unique"), "{err}");
        recorder.flush().await;
        let (status, first) = db
            .run_sync(|c| {
                use crate::db::schema::model_calls;
                use diesel::prelude::*;
                let status: String = model_calls::table
                    .find("call-1")
                    .select(model_calls::status)
                    .first(c)?;
                let first = responses::get(c, "zUser", &id)?;
                Ok::<_, crate::db::DbError>((status, first))
            })
            .expect("read");
        assert_eq!(status, "success");
        assert!(first.is_some());
    }
}
