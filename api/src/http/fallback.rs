//! actix's own errors (unknown route, wrong method, bad query, oversized body, …) in the one JSON
//! error shape, so clients never see a plain-text error.

use crate::error::error_json;
use actix_web::HttpResponse;
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};

/// Rewrites any error response that is not already JSON.
pub fn json_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_json = res
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let message = res
            .response()
            .error()
            .map(|e| e.to_string())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
        let (kind, code) = classify(status);
        let mut builder = HttpResponse::build(status);
        // Keep headers such as `Allow` on a 405.
        for (name, value) in res.headers() {
            if name != CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH {
                builder.append_header((name.clone(), value.clone()));
            }
        }
        let body = error_json(&message, kind, Some(code), None);
        let response = builder
            .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
            .body(body);
        Ok(ErrorHandlerResponse::Response(
            res.into_response(response).map_into_right_body(),
        ))
    })
}

fn classify(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => ("invalid_request_error", "not_found"),
        StatusCode::METHOD_NOT_ALLOWED => ("invalid_request_error", "method_not_allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("request_too_large", "payload_too_large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("invalid_request_error", "unsupported_media_type"),
        StatusCode::UNAUTHORIZED => ("authentication_error", "unauthorized"),
        StatusCode::FORBIDDEN => ("permission_error", "forbidden"),
        s if s.is_client_error() => ("invalid_request_error", "bad_request"),
        _ => ("api_error", "internal_error"),
    }
}
