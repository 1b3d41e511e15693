//! The core's one error type for what callers asked that cannot be done: the `api` crate maps
//! each variant to its status and its dialect's JSON shape in one place.

use crate::db::DbError;
use crate::providers::UpstreamError;
use rust_decimal::Decimal;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The request names something that cannot work (a 400 naming `field`).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// What the request names does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// Nothing can serve it now (503): not configured, no usable key, a dependency down.
    #[error("{0}")]
    Unavailable(String),
    /// The caller's credits are used up (402); `link` is where more are bought.
    #[error("insufficient credits (balance {balance})")]
    PaymentRequired { balance: Decimal, link: String },
    /// Every attempt failed; this is the last provider's failure.
    #[error(transparent)]
    Upstream(UpstreamError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl CoreError {
    pub fn invalid(field: impl Into<String>, message: impl std::fmt::Display) -> Self {
        CoreError::Invalid {
            field: field.into(),
            message: message.to_string(),
        }
    }
}
