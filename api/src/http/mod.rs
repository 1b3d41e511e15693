//! HTTP plumbing shared by every route: request ids, the JSON body extractor, query parameters,
//! and the conversion of actix's own errors into the one JSON error shape.

pub mod fallback;
pub mod json;
pub mod params;
pub mod request_id;

pub use json::ApiJson;
pub use params::Params;
pub use request_id::{Arrived, RequestId};
