//! What can go wrong talking to an upstream, and how routing should react to it.

use super::cause::Cause;
use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// The upstream answered with an HTTP error.
    #[error("{provider} answered {status}: {message}")]
    Status {
        provider: &'static str,
        status: u16,
        message: String,
        retry_after: Option<Duration>,
        /// What the answer's body says about the key and the call.
        cause: Cause,
    },
    #[error("{0} did not answer within {1:?}")]
    Timeout(&'static str, Duration),
    #[error("cannot reach {0}: {1}")]
    Connect(&'static str, String),
    /// The answer could not be understood (or a stream broke).
    #[error("{0}: {1}")]
    Protocol(&'static str, String),
    /// The provider (or this model of it) cannot do what was asked, e.g. images from a chat-only
    /// provider. Nothing was sent.
    #[error("{0} cannot {1} on this hub")]
    Unsupported(&'static str, &'static str),
    /// An asynchronous job (a video) failed or took too long at the provider.
    #[error("{0} job failed: {1}")]
    Job(&'static str, String),
    /// The Hub itself is stopping and cut the call off (not the provider's fault: no penalty).
    #[error("the call was cut off because the Hub is stopping; send it again")]
    Stopped,
}

/// How routing treats a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The key is invalid or its account cannot pay (see [`Cause`]): disable it and try the next.
    Credential,
    /// 429: back off this credential/provider and try the next.
    RateLimited,
    /// 5xx, timeout, connection error, broken answer: try the next.
    Transient,
    /// 400 and other client errors, and content the provider refused: the request itself is
    /// wrong; no retry.
    Request,
    /// The provider refused for a reason that is not the key's fault and not the caller's
    /// (a region it does not serve, a model this key may not use, an unexplained 403): the key
    /// stays in rotation and the next candidate is tried.
    Refused,
}

impl UpstreamError {
    pub fn class(&self) -> FailureClass {
        match self {
            UpstreamError::Status { status, cause, .. } => match (cause, status) {
                (Cause::Auth | Cause::Billing, _) => FailureClass::Credential,
                (Cause::Policy, _) => FailureClass::Request,
                (Cause::Region | Cause::Permission, _) => FailureClass::Refused,
                (Cause::Unknown, 401 | 402) => FailureClass::Credential,
                (Cause::Unknown, 403) => FailureClass::Refused,
                (_, 429) => FailureClass::RateLimited,
                (_, s) if *s >= 500 => FailureClass::Transient,
                (_, 408) => FailureClass::Transient,
                _ => FailureClass::Request,
            },
            UpstreamError::Timeout(..)
            | UpstreamError::Connect(..)
            | UpstreamError::Protocol(..) => FailureClass::Transient,
            UpstreamError::Unsupported(..) | UpstreamError::Job(..) | UpstreamError::Stopped => {
                FailureClass::Request
            }
        }
    }

    /// Worth another candidate?
    pub fn retryable(&self) -> bool {
        self.class() != FailureClass::Request
    }

    /// The HTTP status the client sees when this is the last failure.
    pub fn client_status(&self) -> u16 {
        match self {
            UpstreamError::Status {
                status,
                cause: Cause::Policy,
                ..
            } => match status {
                // The caller's content was refused: theirs to change (403 is OpenAI SDKs'
                // PermissionDeniedError, Anthropic's permission_error).
                400 | 422 => 400,
                _ => 403,
            },
            UpstreamError::Status { status, .. } => match status {
                429 => 429,
                400 | 404 | 409 | 413 | 415 | 422 => *status,
                _ => 502,
            },
            UpstreamError::Timeout(..) => 504,
            UpstreamError::Connect(..) => 502,
            UpstreamError::Protocol(..) => 502,
            UpstreamError::Unsupported(..) => 400,
            UpstreamError::Job(..) => 502,
            UpstreamError::Stopped => 503,
        }
    }
}
