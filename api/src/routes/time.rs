//! Timestamps on the wire: RFC 3339 UTC with milliseconds.

use crate::error::{ApiError, ApiResult};
use crate::http::Params;
use chrono::{DateTime, NaiveDateTime, SecondsFormat};

pub fn iso(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn iso_opt(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(iso)
}

/// A time in the query: unix seconds or RFC 3339; `None` when absent.
pub fn param(params: &Params, name: &str) -> ApiResult<Option<NaiveDateTime>> {
    let Some(raw) = params.get(name) else {
        return Ok(None);
    };
    if let Ok(secs) = raw.parse::<i64>() {
        return DateTime::from_timestamp(secs, 0)
            .map(|t| Some(t.naive_utc()))
            .ok_or_else(|| ApiError::invalid(name, "unix seconds out of range"));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.naive_utc()))
        .map_err(|_| ApiError::invalid(name, format!("'{raw}' is not RFC 3339 or unix seconds")))
}
