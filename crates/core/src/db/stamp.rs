//! [`Stamp`]: a `TIMESTAMP` bound without chrono's format-string machinery.
//!
//! On SQLite a timestamp is text. diesel writes a `NaiveDateTime` as
//! `format("%F %T%.f").to_string()`, which parses the format string for every value: two of them
//! per `model_calls` row were ~5% of the usage writer's time. [`Stamp`] writes the same text
//! directly (identical bytes, so text comparisons and range queries see no difference; checked
//! against chrono in the tests below). PostgreSQL gets the binary value as before.

use chrono::{Datelike, NaiveDateTime, Timelike};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

/// A UTC time written to a `TIMESTAMP` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Timestamp)]
pub struct Stamp(pub NaiveDateTime);

impl From<NaiveDateTime> for Stamp {
    fn from(t: NaiveDateTime) -> Stamp {
        Stamp(t)
    }
}

/// `t` as chrono's `%F %T%.f` writes it.
fn sqlite_text(t: NaiveDateTime) -> String {
    let year = t.year();
    let nanos = t.nanosecond();
    // Outside four-digit years, and for leap seconds, chrono's own rules apply.
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return t.format("%F %T%.f").to_string();
    }
    let mut out = String::with_capacity(29);
    push_digits(&mut out, year as u32, 4);
    out.push('-');
    push_digits(&mut out, t.month(), 2);
    out.push('-');
    push_digits(&mut out, t.day(), 2);
    out.push(' ');
    push_digits(&mut out, t.hour(), 2);
    out.push(':');
    push_digits(&mut out, t.minute(), 2);
    out.push(':');
    push_digits(&mut out, t.second(), 2);
    // `%.f`: nothing for whole seconds, else 3, 6 or 9 digits, the fewest that are exact.
    if nanos != 0 {
        out.push('.');
        if nanos.is_multiple_of(1_000_000) {
            push_digits(&mut out, nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            push_digits(&mut out, nanos / 1_000, 6);
        } else {
            push_digits(&mut out, nanos, 9);
        }
    }
    out
}

/// `value` in `width` decimal digits, zero-padded (`value` has at most `width` digits).
fn push_digits(out: &mut String, value: u32, width: usize) {
    let mut buf = [b'0'; 9];
    let mut v = value;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    for &b in &buf[..width] {
        out.push(char::from(b));
    }
}

impl ToSql<Timestamp, Sqlite> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(sqlite_text(self.0));
        Ok(IsNull::No)
    }
}

impl ToSql<Timestamp, Pg> for Stamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <NaiveDateTime as ToSql<Timestamp, Pg>>::to_sql(&self.0, &mut out.reborrow())
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_text;
    use chrono::{NaiveDate, NaiveDateTime, Utc};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_nano_opt(h, mi, s, nanos))
            .expect("valid time")
    }

    #[test]
    fn same_text_as_chrono() {
        let mut times = vec![
            at(2026, 11, 24, 15, 25, 9, 563_903_726),
            at(2026, 1, 2, 3, 4, 5, 0),
            at(2026, 12, 31, 23, 59, 59, 120_000_000),
            at(2026, 6, 7, 8, 9, 10, 123_456_000),
            at(2026, 6, 7, 8, 9, 10, 1),
            at(999, 6, 7, 0, 0, 0, 5_000_000),
            at(10_000, 1, 1, 0, 0, 0, 0),
            at(-5, 1, 1, 0, 0, 0, 0),
            // A leap second.
            at(2016, 12, 31, 23, 59, 59, 1_500_000_000),
            Utc::now().naive_utc(),
        ];
        for n in 0..2000u32 {
            times.push(at(
                2026,
                1 + n % 12,
                1 + n % 28,
                n % 24,
                n % 60,
                (n * 7) % 60,
                n * 499_999,
            ));
        }
        for t in times {
            assert_eq!(sqlite_text(t), t.format("%F %T%.f").to_string(), "{t:?}");
        }
    }
}
