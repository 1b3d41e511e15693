//! `x-request-id` on every response: the client's (if sane) or a new one.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use std::time::Instant;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request (in request extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// When the request arrived (in request extensions), for `Server-Timing`.
#[derive(Debug, Clone, Copy)]
pub struct Arrived(pub Instant);

fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    {
        let mut ext = req.extensions_mut();
        ext.insert(RequestId(id.clone()));
        ext.insert(Arrived(started));
    }
    let method = req.method().clone();
    let path = req.path().to_owned();

    // Handlers and extractors turn their errors into responses before this point; the router
    // needs the only reference to the request, so it is not cloned here to rebuild one.
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, value);
    }
    tracing::debug!(
        target: "access",
        request_id = %id,
        %method,
        path,
        status = res.status().as_u16(),
        elapsed_us = started.elapsed().as_micros() as u64,
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn filters_client_ids() {
        assert!(acceptable("req-123"));
        assert!(acceptable("0f9a:trace/1"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable(&"x".repeat(129)));
        assert!(!acceptable("line\nbreak"));
    }
}
