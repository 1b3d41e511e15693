//! The one error type of the HTTP layer and its one JSON shape (SPEC §5.1):
//! `{"error":{"message","type","code"?,"param"?,"link"?,"timestamp"?}}`.
//!
//! Policy: a handler returns `Result<_, ApiError>`. Client mistakes carry a message that names the
//! field; internal failures are logged with their detail and answered with a generic message, so
//! nothing internal (SQL, paths, credentials) reaches the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with the offending field (`param`).
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
        code: &'static str,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Unavailable(String),
    /// 402: no credits (`NOT_ENOUGH`) or no subscription (`UNSUBSCRIBED`); `link` is where to
    /// buy.
    #[error("{message}")]
    PaymentRequired {
        kind: &'static str,
        message: String,
        link: String,
    },
    /// 429 from the Hub itself (a limit of its own), with the seconds to wait (`Retry-After`).
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// An upstream failure after every allowed attempt; the message names the provider.
    #[error("{message}")]
    Upstream { status: u16, message: String },
    /// Anything unexpected; the detail is logged, the client sees a generic message.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A 400 naming `field`: the message reads "`field`: message".
    pub fn invalid(field: impl Into<String>, message: impl fmt::Display) -> Self {
        let field = field.into();
        ApiError::Invalid {
            message: format!("{field}: {message}"),
            field: Some(field),
            code: "invalid_value",
        }
    }

    /// A 400 that is not about one field.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: None,
            message: message.into(),
            code,
        }
    }

    /// The one error body every dialect reads today (`{"error": {message, type, code, …}}`);
    /// an internal error is logged here, where it is answered.
    pub fn body(&self) -> String {
        if let ApiError::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
        error_json_linked(
            &self.to_string(),
            self.kind(),
            Some(self.code()),
            self.param(),
            self.link(),
        )
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(err.into())
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::PaymentRequired {
                kind: "UNSUBSCRIBED",
                ..
            } => "unsubscribed",
            ApiError::PaymentRequired { .. } => "insufficient_credits",
            ApiError::Upstream { status: 429, .. } | ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Upstream { status: 504, .. } => "upstream_timeout",
            ApiError::Upstream { .. } => "upstream_error",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// OpenAI-style `type`, which the SDKs surface.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Invalid { .. }
            | ApiError::UnsupportedMediaType(_)
            | ApiError::MethodNotAllowed(_)
            | ApiError::NotFound(_) => "invalid_request_error",
            ApiError::Unauthorized(_) => "authentication_error",
            ApiError::Forbidden(_) => "permission_error",
            ApiError::Conflict(_) => "conflict_error",
            ApiError::PaymentRequired { kind, .. } => kind,
            ApiError::PayloadTooLarge { .. } => "request_too_large",
            ApiError::Upstream { status: 429, .. } | ApiError::RateLimited { .. } => {
                "rate_limit_error"
            }
            ApiError::Upstream { status, .. } if *status < 500 => "invalid_request_error",
            ApiError::Unavailable(_) | ApiError::Internal(_) | ApiError::Upstream { .. } => {
                "api_error"
            }
        }
    }

    fn param(&self) -> Option<&str> {
        match self {
            ApiError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    fn link(&self) -> Option<&str> {
        match self {
            ApiError::PaymentRequired { link, .. } => Some(link),
            _ => None,
        }
    }
}

/// The core's errors, mapped here and nowhere else.
impl From<hub_core::error::CoreError> for ApiError {
    fn from(e: hub_core::error::CoreError) -> Self {
        use hub_core::error::CoreError;
        match e {
            CoreError::Invalid { field, message } => ApiError::invalid(field, message),
            CoreError::NotFound(m) => ApiError::NotFound(m),
            CoreError::Unavailable(m) => ApiError::Unavailable(m),
            CoreError::Db(e) => ApiError::from(e),
            CoreError::PaymentRequired { balance, link } => {
                not_enough(&crate::billing::credits::text(balance), &link)
            }
            CoreError::Upstream(e) => upstream(&e),
        }
    }
}

/// The 402 of a user without credits, in the one error shape every client format reads
/// (`error.message` carries the link too, for clients that show only the message).
pub fn not_enough(balance: &str, link: &str) -> ApiError {
    ApiError::PaymentRequired {
        kind: "NOT_ENOUGH",
        message: format!(
            "Insufficient credits (balance {balance}): buy credits to continue at {link}"
        ),
        link: link.to_owned(),
    }
}

/// What the client sees for an upstream failure: the provider's message, except for rejected
/// keys, whose messages may quote part of the key.
pub fn upstream(err: &crate::providers::UpstreamError) -> ApiError {
    use crate::providers::{FailureClass, UpstreamError};
    if matches!(err, UpstreamError::Stopped) {
        return ApiError::Unavailable(err.to_string());
    }
    let message = match (err, err.class()) {
        (
            UpstreamError::Status {
                provider,
                status,
                cause: crate::providers::cause::Cause::Billing,
                ..
            },
            FailureClass::Credential,
        ) => {
            format!(
                "{provider} refused the hub's credential ({status}): its account cannot pay; an administrator must check it"
            )
        }
        (
            UpstreamError::Status {
                provider, status, ..
            },
            FailureClass::Credential,
        ) => {
            format!(
                "{provider} rejected the hub's credential ({status}); an administrator must check it"
            )
        }
        _ => err.to_string(),
    };
    ApiError::Upstream {
        status: err.client_status(),
        message,
    }
}

impl From<crate::routing::model_name::InvalidModel> for ApiError {
    fn from(e: crate::routing::model_name::InvalidModel) -> Self {
        ApiError::invalid("model", e)
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(err: crate::db::DbError) -> Self {
        match err {
            crate::db::DbError::Unavailable(e) => {
                tracing::error!(error = %e, "database unavailable");
                ApiError::Unavailable("the database is unavailable, try again shortly".into())
            }
            crate::db::DbError::Query(e) => ApiError::Internal(e.into()),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

/// The wire shape.
#[derive(Serialize)]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

#[derive(Serialize)]
pub struct ErrorDetail<'a> {
    pub message: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<&'a str>,
    pub timestamp: String,
}

/// Serialises the JSON error shape (also used for framework errors).
pub fn error_json(message: &str, kind: &str, code: Option<&str>, param: Option<&str>) -> String {
    error_json_linked(message, kind, code, param, None)
}

/// [`error_json`] with a `link` (where to buy credits).
pub fn error_json_linked(
    message: &str,
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
    link: Option<&str>,
) -> String {
    let body = ErrorBody {
        error: ErrorDetail {
            message,
            kind,
            code,
            param,
            link,
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
    };
    serde_json::to_string(&body).unwrap_or_else(|_| {
        r#"{"error":{"message":"internal error","type":"api_error"}}"#.to_owned()
    })
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PaymentRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Upstream { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        if let ApiError::RateLimited { retry_after, .. } = self {
            res.insert_header(("retry-after", retry_after.to_string()));
        }
        res.content_type("application/json").body(self.body())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => ApiError::NotFound("the requested record does not exist".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                ApiError::Conflict("a record with the same unique fields already exists".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                ApiError::bad_request("invalid_reference", "a referenced record does not exist")
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

/// Maps a unique violation to `conflict()`, anything else as usual.
pub fn unique_or(
    conflict: impl FnOnce() -> ApiError,
) -> impl FnOnce(diesel::result::Error) -> ApiError {
    move |e| match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => conflict(),
        other => ApiError::from(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn invalid_names_the_field() {
        let res = ApiError::invalid("name", "is required").error_response();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body = to_bytes(res.into_body()).await.expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["error"]["message"], "name: is required");
        assert_eq!(v["error"]["param"], "name");
        assert_eq!(v["error"]["type"], "invalid_request_error");
    }

    #[actix_web::test]
    async fn internal_hides_detail() {
        let res = ApiError::internal(anyhow::anyhow!("SELECT secret FROM x")).error_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(res.into_body()).await.expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("SELECT"), "{text}");
        assert!(text.contains("internal error"));
    }
}
