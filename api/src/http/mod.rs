//! HTTP plumbing shared by every route: request ids, the JSON body extractor, query parameters,
//! and the conversion of actix's own errors into the one JSON error shape.

pub mod console;
pub mod draining;
pub mod fallback;
pub mod json;
pub mod mount;
pub mod params;
pub mod request_id;

pub use json::ApiJson;
pub use params::Params;
pub use request_id::{Arrived, RequestId};

/// A JSON response body, written straight into bytes (a `Value`'s `to_string` goes through
/// `fmt::Display`, measurably slower on the request path).
pub fn json_body<T: serde::Serialize>(value: &T) -> bytes::Bytes {
    serde_json::to_vec(value).map_or_else(|_| bytes::Bytes::new(), bytes::Bytes::from)
}
