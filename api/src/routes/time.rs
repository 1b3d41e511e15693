//! Timestamps on the wire: RFC 3339 UTC with milliseconds.

use chrono::{NaiveDateTime, SecondsFormat};

pub fn iso(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn iso_opt(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(iso)
}
