//! `ApiJson<T>`: a JSON body extractor whose errors name the field (via `serde_path_to_error`)
//! and use the one error shape. Body size is bounded by the app's `PayloadConfig` (→ 413).

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.to_ascii_lowercase());
        let limit = req
            .app_data::<web::Data<crate::state::AppState>>()
            .map_or(usize::MAX, |s| s.settings.request_entity_size_limit);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if let Some(ct) = content_type
                && !(ct.starts_with("application/json") || ct.contains("+json"))
            {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "content-type must be application/json, got '{ct}'"
                )));
            }
            let bytes = body.await.map_err(|e| payload_error(&e, limit))?;
            parse(&bytes).map(ApiJson)
        })
    }
}

fn payload_error(err: &actix_web::Error, limit: usize) -> ApiError {
    match err.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => ApiError::PayloadTooLarge { limit },
        _ => ApiError::bad_request("invalid_body", format!("cannot read request body: {err}")),
    }
}

/// Parses `bytes` as `T`, naming the offending field on failure.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "request body is empty; expected a JSON object",
        ));
    }
    // Fast path: plain serde. Only a failure pays for the path-tracking second parse.
    if let Ok(value) = serde_json::from_slice::<T>(bytes) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(describe)?;
    de.end().map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("malformed JSON body: {}", strip_position(&e.to_string())),
        )
    })?;
    Ok(value)
}

fn describe(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    let message = strip_position(&inner.to_string());
    if !inner.is_data() {
        return ApiError::bad_request("invalid_json", format!("malformed JSON body: {message}"));
    }
    // "missing field `x`" / "unknown field `x`, expected …" name a field below `path`.
    let named = ["missing field `", "unknown field `"].iter().find_map(|p| {
        message
            .strip_prefix(p)
            .and_then(|r| r.split('`').next())
            .map(str::to_owned)
    });
    let field = match (named, path.as_str()) {
        // serde_path_to_error already ends the path with an unknown field's name.
        (Some(name), p) if p == name || p.ends_with(&format!(".{name}")) => p.to_owned(),
        (Some(name), "." | "") => name,
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, "." | "") => "body".to_owned(),
        (None, p) => p.to_owned(),
    };
    let message = if message.starts_with("missing field") {
        "is required".to_owned()
    } else if message.starts_with("unknown field") {
        format!(
            "is not a known field ({})",
            message.split_once(", ").map_or("", |x| x.1)
        )
    } else {
        message
    };
    ApiError::invalid(field, message)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[expect(dead_code)]
    struct Inner {
        count: u32,
    }

    fn field_of(err: ApiError) -> (Option<String>, String) {
        match err {
            ApiError::Invalid { field, message, .. } => (field, message),
            other => (None, other.to_string()),
        }
    }

    #[test]
    fn names_missing_wrong_and_unknown_fields() {
        let (f, m) = field_of(parse::<Body>(b"{}").expect_err("missing"));
        assert_eq!(f.as_deref(), Some("name"), "{m}");
        let (f, m) = field_of(parse::<Body>(br#"{"name": 5}"#).expect_err("type"));
        assert_eq!(f.as_deref(), Some("name"), "{m}");
        assert!(m.contains("invalid type"), "{m}");
        let (f, _) =
            field_of(parse::<Body>(br#"{"name":"a","inner":{"count":"x"}}"#).expect_err("nested"));
        assert_eq!(f.as_deref(), Some("inner.count"));
        let (f, _) =
            field_of(parse::<Body>(br#"{"name":"a","inner":{}}"#).expect_err("nested missing"));
        assert_eq!(f.as_deref(), Some("inner.count"));
        let (f, _) = field_of(parse::<Body>(br#"{"name":"a","nmae":1}"#).expect_err("unknown"));
        assert_eq!(f.as_deref(), Some("nmae"));
    }

    #[test]
    fn malformed_and_empty_bodies() {
        let err = parse::<Body>(b"{not json").expect_err("malformed");
        assert_eq!(err.code(), "invalid_json");
        let err = parse::<Body>(b"   ").expect_err("empty");
        assert_eq!(err.code(), "invalid_json");
        let err = parse::<Body>(br#"{"name":"a"} trailing"#).expect_err("trailing");
        assert_eq!(err.code(), "invalid_json");
    }
}
