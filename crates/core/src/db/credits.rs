//! Money columns. Credits are stored as decimal text (no exponent, trailing zeros trimmed) so
//! SQLite and PostgreSQL hold the same exact value. [`Credits`] is the type of every such column
//! in the row structs; reading one back is checked, because a value that does not parse (a hand
//! edit, a damaged row) must stop the operation rather than count as zero in someone's balance.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use rust_decimal::Decimal;
use std::fmt;
use std::io::Write;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

/// An exact amount of credits (a decimal, never a float).
///
/// A `Text` column for diesel on both engines: written in its normalised text, read back checked.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, FromSqlRow, AsExpression,
)]
#[diesel(sql_type = Text)]
pub struct Credits(Decimal);

/// Stored text that is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unreadable credit amount '{text}': {reason}")]
pub struct UnreadableCredits {
    pub text: String,
    pub reason: String,
}

impl Credits {
    pub const ZERO: Credits = Credits(Decimal::ZERO);

    pub const fn new(value: Decimal) -> Self {
        Credits(value)
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// The stored text (what `Display` prints).
    pub fn text(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.normalize(), f)
    }
}

impl FromStr for Credits {
    type Err = UnreadableCredits;

    fn from_str(stored: &str) -> Result<Self, Self::Err> {
        Decimal::from_str(stored.trim())
            .map(Credits)
            .map_err(|e| UnreadableCredits {
                text: stored.chars().take(64).collect(),
                reason: e.to_string(),
            })
    }
}

impl<DB> FromSql<Text, DB> for Credits
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = String::from_sql(bytes)?;
        text.parse::<Credits>().map_err(|e| {
            tracing::error!(value = %e.text, "{e}");
            e.into()
        })
    }
}

impl ToSql<Text, Sqlite> for Credits {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_string());
        Ok(IsNull::No)
    }
}

impl ToSql<Text, Pg> for Credits {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.to_string().as_bytes())?;
        Ok(IsNull::No)
    }
}

// The pool's connection type hands the value to whichever engine it holds.
impl ToSql<Text, super::DbBackend> for Credits {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, super::DbBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

impl From<Decimal> for Credits {
    fn from(value: Decimal) -> Self {
        Credits(value)
    }
}

impl From<Credits> for Decimal {
    fn from(value: Credits) -> Self {
        value.0
    }
}

impl From<Credits> for String {
    fn from(value: Credits) -> Self {
        value.to_string()
    }
}

impl serde::Serialize for Credits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Add for Credits {
    type Output = Credits;
    fn add(self, rhs: Credits) -> Credits {
        Credits(self.0 + rhs.0)
    }
}

impl Sub for Credits {
    type Output = Credits;
    fn sub(self, rhs: Credits) -> Credits {
        Credits(self.0 - rhs.0)
    }
}

impl Neg for Credits {
    type Output = Credits;
    fn neg(self) -> Credits {
        Credits(-self.0)
    }
}

impl AddAssign for Credits {
    fn add_assign(&mut self, rhs: Credits) {
        self.0 += rhs.0;
    }
}

impl SubAssign for Credits {
    fn sub_assign(&mut self, rhs: Credits) {
        self.0 -= rhs.0;
    }
}

impl Sum for Credits {
    fn sum<I: Iterator<Item = Credits>>(iter: I) -> Credits {
        Credits(iter.map(|c| c.0).sum())
    }
}

/// The text stored for `credits`.
pub fn text(credits: Decimal) -> String {
    Credits(credits).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{DbError, migrated_sqlite};
    use diesel::prelude::*;
    use diesel::result::Error;

    #[test]
    fn amounts_round_trip_and_bad_text_is_an_error() {
        let d = Decimal::from_str("1.2500").unwrap();
        assert_eq!(Credits::from(d).to_string(), "1.25");
        assert_eq!("1.25".parse::<Credits>().unwrap(), Credits::from(d));
        assert_eq!(
            "-0.000001".parse::<Credits>().unwrap().decimal(),
            Decimal::from_str("-0.000001").unwrap()
        );
        assert!("1,25".parse::<Credits>().is_err());
        assert!("".parse::<Credits>().is_err());
        let sum: Credits = ["1", "2.5"].iter().map(|s| s.parse().unwrap()).sum();
        assert_eq!(sum.to_string(), "3.5");
        assert_eq!(serde_json::to_string(&sum).unwrap(), "\"3.5\"");
    }

    #[test]
    fn a_damaged_stored_amount_is_a_deserialization_error_not_zero() {
        let dir = tempfile::tempdir().unwrap();
        let db = migrated_sqlite(dir.path());
        db.run_sync(|conn| -> Result<(), DbError> {
        diesel::sql_query(
            "INSERT INTO credit_accounts (user_did, debt, updated_at) \
             VALUES ('ok', '2.50', '2026-01-01 00:00:00'), ('bad', 'two', '2026-01-01 00:00:00')",
        )
        .execute(conn)
        .unwrap();
        use crate::db::schema::credit_accounts as a;
        let ok: Credits = a::table
            .find("ok")
            .select(a::debt)
            .first(conn)
            .unwrap();
        assert_eq!(ok.to_string(), "2.5");
        let bad = a::table
            .find("bad")
            .select(a::debt)
            .first::<Credits>(conn);
        assert!(
            matches!(&bad, Err(Error::DeserializationError(e)) if format!("{e:?}").contains("\"two\"")),
            "{bad:?}"
        );
        Ok(())
        })
        .unwrap();
    }
}
