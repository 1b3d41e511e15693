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
}
