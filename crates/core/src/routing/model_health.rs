//! Per-model availability (`ai_model_statuses`), learned from call outcomes and re-checks and
//! shared by every instance through the database.
//!
//! A model becomes unavailable on its provider when the provider says it does not exist (404)
//! or after [`FAILURES_BEFORE_DOWN`] transient failures in a row (5xx, timeouts, unreachable);
//! one answer makes it available again. Key and caller problems (401, 429, 400, content
//! refusals) say nothing about the model. Only changes are written: the hot path reads the
//! routing snapshot and writes nothing while a model keeps answering.

use crate::db::model_statuses::ModelStatusRow;
use crate::providers::{FailureClass, UpstreamError};
use std::collections::HashMap;
use std::sync::Mutex;

/// Transient failures in a row (on one instance) before a model is marked unavailable.
pub const FAILURES_BEFORE_DOWN: u32 = 3;

/// Why a model is unavailable; the names are the real Hub's `ModelErrorType`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Down {
    NotFound,
    Unavailable,
    Timeout,
    Unreachable,
}

impl Down {
    pub fn code(self) -> &'static str {
        match self {
            Down::NotFound => "Model Not Found",
            Down::Unavailable => "Model Unavailable",
            Down::Timeout => "Network Timeout",
            Down::Unreachable => "Connection Error",
        }
    }

    /// What `err` says about the model: `Some` when it counts against it, and whether one
    /// such failure is enough.
    pub fn of(err: &UpstreamError) -> Option<(Down, bool)> {
        match err {
            UpstreamError::Status { status: 404, .. } => Some((Down::NotFound, true)),
            UpstreamError::Timeout(..) => Some((Down::Timeout, false)),
            UpstreamError::Connect(..) => Some((Down::Unreachable, false)),
            e if e.class() == FailureClass::Transient => Some((Down::Unavailable, false)),
            _ => None,
        }
    }
}

/// The real Hub's name for a failure that is not the model's (a check's answer).
pub fn other_code(err: &UpstreamError) -> &'static str {
    match err.class() {
        FailureClass::Credential => "Invalid API Key",
        FailureClass::RateLimited => "Rate Limit Exceeded",
        FailureClass::Refused => "Expired Credential",
        FailureClass::Request => "Invalid Argument",
        FailureClass::Transient => "Model Unavailable",
    }
}

/// (provider id, model, rate type).
type Key = (String, String, &'static str);

/// This instance's memory of recent outcomes; the truth is the database row, read into the
/// routing snapshot.
#[derive(Default)]
pub struct ModelHealth {
    /// Transient failures in a row, per model.
    streaks: Mutex<HashMap<Key, u32>>,
    /// States written since the snapshot was last read, so one change is written once.
    written: Mutex<HashMap<Key, bool>>,
}

/// A change to write.
pub struct Change {
    pub available: bool,
    pub error: Option<(&'static str, String)>,
}

impl ModelHealth {
    /// After an answer: a change when the snapshot says the model is down (`down`) and this
    /// instance has not already written it back up.
    pub fn answered(&self, key: impl FnOnce() -> Key, down: bool) -> Option<Change> {
        let streaks_empty = lock(&self.streaks).is_empty();
        if !down && streaks_empty {
            return None;
        }
        let key = key();
        lock(&self.streaks).remove(&key);
        if !down {
            return None;
        }
        self.mark(key, true).then_some(Change {
            available: true,
            error: None,
        })
    }

    /// After a failure: a change when it makes the model unavailable (and it is not already).
    pub fn failed(&self, key: Key, down: bool, err: &UpstreamError) -> Option<Change> {
        let (why, at_once) = Down::of(err)?;
        let enough = at_once || {
            let mut streaks = lock(&self.streaks);
            let n = streaks.entry(key.clone()).or_default();
            *n += 1;
            *n >= FAILURES_BEFORE_DOWN
        };
        if !enough || down {
            return None;
        }
        lock(&self.streaks).remove(&key);
        self.mark(key, false).then(|| Change {
            available: false,
            error: Some((why.code(), err.to_string())),
        })
    }

    /// The snapshot was re-read: what was written is in it (or will be seen at the next read).
    pub fn snapshot_read(&self) {
        lock(&self.written).clear();
    }

    /// Records a state to write; `false` if this instance wrote it already.
    fn mark(&self, key: Key, available: bool) -> bool {
        lock(&self.written).insert(key, available) != Some(available)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The row for a change (or a re-check's result).
pub fn row(
    provider_id: &str,
    model: &str,
    kind: &str,
    available: bool,
    error: Option<(&str, String)>,
    response_ms: Option<i64>,
) -> ModelStatusRow {
    ModelStatusRow {
        id: uuid::Uuid::now_v7().to_string(),
        provider_id: provider_id.to_owned(),
        model: model.to_owned(),
        type_: kind.to_owned(),
        available,
        error: error.map(|(code, message)| {
            serde_json::json!({"code": code, "message": message.chars().take(500).collect::<String>()})
                .to_string()
        }),
        response_time: response_ms,
        checked_at: chrono::Utc::now().naive_utc(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::cause::Cause;

    fn status(code: u16) -> UpstreamError {
        UpstreamError::Status {
            provider: "openai",
            status: code,
            message: "boom".into(),
            retry_after: None,
            cause: Cause::Unknown,
        }
    }

    fn key() -> Key {
        ("p".into(), "m".into(), "chatCompletion")
    }

    #[test]
    fn a_missing_model_is_down_at_once() {
        let h = ModelHealth::default();
        let change = h.failed(key(), false, &status(404)).expect("a change");
        assert!(!change.available);
        assert_eq!(change.error.map(|e| e.0), Some(Down::NotFound.code()));
        // Written once: the same failure again before the snapshot shows it writes nothing.
        assert!(h.failed(key(), false, &status(404)).is_none());
    }

    #[test]
    fn transient_failures_count_and_an_answer_resets_them() {
        let h = ModelHealth::default();
        assert!(h.failed(key(), false, &status(503)).is_none());
        assert!(h.failed(key(), false, &status(502)).is_none());
        assert!(h.answered(key, false).is_none());
        assert!(h.failed(key(), false, &status(500)).is_none());
        assert!(h.failed(key(), false, &status(500)).is_none());
        let change = h
            .failed(key(), false, &status(500))
            .expect("third in a row");
        assert_eq!(change.error.map(|e| e.0), Some(Down::Unavailable.code()));
    }

    #[test]
    fn key_and_caller_failures_say_nothing_about_the_model() {
        let h = ModelHealth::default();
        for code in [400, 401, 402, 403, 429] {
            for _ in 0..5 {
                assert!(h.failed(key(), false, &status(code)).is_none(), "{code}");
            }
        }
    }

    #[test]
    fn a_down_model_that_answers_is_written_up_once_per_snapshot() {
        let h = ModelHealth::default();
        assert!(h.answered(key, true).expect("a change").available);
        assert!(h.answered(key, true).is_none());
        h.snapshot_read();
        assert!(h.answered(key, true).is_some());
        assert!(h.answered(key, false).is_none());
    }
}
