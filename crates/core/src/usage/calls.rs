//! `model_calls` rows: what an attempt writes when it starts and when it ends.

use crate::db::credits::Credits;
use crate::db::schema::model_calls;
use crate::db::stamp::Stamp;
use diesel::prelude::*;

/// `model_calls.status`, stored as its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStatus {
    Processing,
    Success,
    Failed,
}

impl CallStatus {
    pub const ALL: [CallStatus; 3] = [
        CallStatus::Processing,
        CallStatus::Success,
        CallStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Processing => "processing",
            CallStatus::Success => "success",
            CallStatus::Failed => "failed",
        }
    }
}

/// The row of an attempt as it starts (`processing`).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = model_calls)]
// None is NULL (no optional column has a default): every row has the same INSERT text, so
// SQLite's one-row statement is prepared once and PostgreSQL can take many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct CallStart {
    pub id: String,
    pub provider_id: Option<String>,
    pub model: String,
    pub credential_id: Option<String>,
    #[diesel(column_name = type_)]
    pub kind: String,
    pub status: String,
    pub total_usage: i64,
    pub usage_metrics: Option<String>,
    pub credits: Credits,
    pub duration_ms: Option<i64>,
    pub ttfb_ms: Option<i64>,
    pub provider_ttfb_ms: Option<i64>,
    pub error_reason: Option<String>,
    pub app_did: Option<String>,
    pub user_did: Option<String>,
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
    pub metadata: Option<String>,
    pub call_time: Stamp,
    pub created_at: Stamp,
    /// The Hub instance that made the call.
    pub instance_id: Option<String>,
    /// The client dialect the call came in on.
    pub dialect: Option<String>,
}

/// The end of an attempt.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = model_calls)]
pub struct CallFinish {
    pub status: String,
    pub total_usage: i64,
    pub usage_metrics: Option<String>,
    pub credits: Credits,
    pub duration_ms: Option<i64>,
    pub ttfb_ms: Option<i64>,
    pub provider_ttfb_ms: Option<i64>,
    pub error_reason: Option<String>,
}

pub const MAX_ERROR_REASON: usize = 1000;

impl CallFinish {
    /// Truncates the error reason to the column's limit (on a char boundary).
    pub fn with_error(mut self, reason: &str) -> Self {
        self.error_reason = Some(reason.chars().take(MAX_ERROR_REASON).collect());
        self
    }

    /// Applies the end to a start row (when both are written in one batch).
    pub fn apply(self, row: &mut CallStart) {
        row.status = self.status;
        row.total_usage = self.total_usage;
        row.usage_metrics = self.usage_metrics;
        row.credits = self.credits;
        row.duration_ms = self.duration_ms;
        row.ttfb_ms = self.ttfb_ms;
        row.provider_ttfb_ms = self.provider_ttfb_ms;
        row.error_reason = self.error_reason;
    }
}
