//! What can go wrong talking to an upstream, and how routing should react to it.

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
    /// 401/403/provider-402: the credential is bad; disable it and try the next.
    Credential,
    /// 429: back off this credential/provider and try the next.
    RateLimited,
    /// 5xx, timeout, connection error, broken answer: try the next.
    Transient,
    /// 400 and other client errors: the request itself is wrong; no retry.
    Request,
}

impl UpstreamError {
    pub fn class(&self) -> FailureClass {
        match self {
            UpstreamError::Status { status, .. } => match status {
                401..=403 => FailureClass::Credential,
                429 => FailureClass::RateLimited,
                s if *s >= 500 => FailureClass::Transient,
                408 => FailureClass::Transient,
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
