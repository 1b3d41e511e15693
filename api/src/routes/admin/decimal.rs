//! Exact decimals on the wire: accepted as strings or numbers, returned as strings (SPEC §5.1).

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use std::str::FromStr;

/// A non-negative exact decimal read from a JSON string or number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireDecimal(pub Decimal);

impl<'de> Deserialize<'de> for WireDecimal {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = match serde_json::Value::deserialize(de)? {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => {
                return Err(D::Error::custom(format!(
                    "expected a decimal string or number, got {other}"
                )));
            }
        };
        let text = text.trim();
        let value = Decimal::from_str_exact(text)
            .or_else(|_| Decimal::from_scientific(text))
            .or_else(|_| Decimal::from_str(text))
            .map_err(|_| D::Error::custom(format!("'{text}' is not a decimal number")))?;
        if value.is_sign_negative() && !value.is_zero() {
            return Err(D::Error::custom(format!("'{text}' is negative")));
        }
        Ok(WireDecimal(value.normalize()))
    }
}

/// The stored and returned text of a decimal.
pub fn text(d: Decimal) -> String {
    d.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<String, String> {
        serde_json::from_str::<WireDecimal>(json)
            .map(|d| text(d.0))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn strings_numbers_and_scientific() {
        assert_eq!(parse(r#""0.0000025""#), Ok("0.0000025".into()));
        assert_eq!(parse("0.0000025"), Ok("0.0000025".into()));
        assert_eq!(parse("2.5e-6"), Ok("0.0000025".into()));
        assert_eq!(parse(r#""10.500""#), Ok("10.5".into()));
        assert_eq!(parse("3"), Ok("3".into()));
        assert_eq!(parse("0.1"), Ok("0.1".into()));
        assert!(parse(r#""-1""#).is_err());
        assert!(parse(r#""abc""#).is_err());
        assert!(parse("true").is_err());
    }
}
