//! Where a v2 caller's token is (SPEC §7.1), exactly as `@blocklet/sdk`'s session middleware
//! (`@abtnode/util` `getTokenFromReq`) finds it: `Authorization: Bearer` > cookie `login_token` >
//! body `access_token` > query `access_token` (or Gemini's `key`); the header may also be the one other dialects'
//! SDKs use (`x-api-key`, `x-goog-api-key`). Duplicates are refused with 400 the same way:
//! two tokens outside the header (equal or not), or the header's token repeated elsewhere. (A
//! different token in the header and a cookie is the account-switch case: the header wins.)
//!
//! A JSON body is read before the handler's extractors run by [`capture_json_body`], which puts
//! the body back untouched and keeps a copy (shared bytes) in the request's extensions for the
//! token and for signature checks ([`JsonBody`]).

use crate::error::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use serde::Deserialize;

pub const COOKIE: &str = "login_token";
const FIELD: &str = "access_token";
/// Where Gemini's SDKs may put the key in the URL.
const GEMINI_QUERY: &str = "key";

/// The raw bytes of a JSON request body, left by [`capture_json_body`].
#[derive(Debug, Clone)]
pub struct JsonBody(pub web::Bytes);

#[derive(Deserialize)]
struct WithToken {
    #[serde(default)]
    access_token: Option<serde_json::Value>,
}

/// The token of `body` when it is a JSON object with a non-empty string `access_token`.
fn body_token(body: &[u8]) -> Option<String> {
    // Most bodies do not name the field: skip the parse for them.
    memchr::memmem::find(body, FIELD.as_bytes())?;
    match serde_json::from_slice::<WithToken>(body)
        .ok()?
        .access_token?
    {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn is_json(req: &ServiceRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("application/json") || ct.contains("+json")
        })
}

/// Middleware: reads a JSON body (bounded by `REQUEST_ENTITY_SIZE_LIMIT`, else 413), keeps a
/// copy as [`JsonBody`], and puts the bytes back for the handler.
pub async fn capture_json_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if is_json(&req) {
        let limit = req
            .app_data::<web::Data<crate::state::AppState>>()
            .map_or(usize::MAX, |s| s.settings.request_entity_size_limit);
        let mut payload = req.take_payload();
        // Most bodies arrive as one chunk: that chunk is kept as it is (no copy); only a body
        // in several chunks is joined.
        let mut first: Option<web::Bytes> = None;
        let mut joined = web::BytesMut::new();
        let mut len = 0;
        let mut failed = None;
        while let Some(chunk) = payload.next().await {
            match chunk {
                Ok(chunk) => {
                    len += chunk.len();
                    if len > limit {
                        failed = Some(ApiError::PayloadTooLarge { limit });
                        break;
                    }
                    match first.take() {
                        None if joined.is_empty() => first = Some(chunk),
                        Some(earlier) => {
                            joined.extend_from_slice(&earlier);
                            joined.extend_from_slice(&chunk);
                        }
                        None => joined.extend_from_slice(&chunk),
                    }
                }
                Err(e) => {
                    failed = Some(ApiError::bad_request(
                        "invalid_body",
                        format!("cannot read request body: {e}"),
                    ));
                    break;
                }
            }
        }
        if let Some(err) = failed {
            // In the shape of the dialect the path speaks, so its SDK raises its own error.
            let body = crate::dialects::error_body_for_path(req.path(), &err);
            let response =
                actix_web::HttpResponse::build(actix_web::ResponseError::status_code(&err))
                    .content_type("application/json")
                    .body(body);
            return Ok(req.into_response(response).map_into_right_body());
        }
        let body = first.unwrap_or_else(|| joined.freeze());
        req.extensions_mut().insert(JsonBody(body.clone()));
        req.set_payload(actix_web::dev::Payload::from(body));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

fn header_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(header) = req.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    let mut parts = value.split(' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(scheme), Some(token), None)
            if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() =>
        {
            Ok(Some(token.to_owned()))
        }
        _ => Err(ApiError::Unauthorized(
            "Authorization header must be 'Bearer <token>'".into(),
        )),
    }
}

/// The key in the header other dialects' SDKs send it in when there is no `Authorization`:
/// Anthropic's `x-api-key`, Gemini's `x-goog-api-key`.
fn api_key_header(req: &HttpRequest) -> Option<String> {
    ["x-api-key", "x-goog-api-key"].iter().find_map(|name| {
        req.headers()
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    })
}

fn cookie_token(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// `?access_token=`, or Gemini's `?key=`.
fn query_token(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, v)| (k == FIELD || k == GEMINI_QUERY) && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}

/// The caller's token, `None` when there is none anywhere.
pub fn locate(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let header = match header_token(req)? {
        Some(token) => Some(token),
        None => api_key_header(req),
    };
    let cookie = cookie_token(req);
    let body = req
        .extensions()
        .get::<JsonBody>()
        .and_then(|b| body_token(&b.0));
    let query = query_token(req);
    let elsewhere: Vec<&String> = [&query, &body, &cookie]
        .into_iter()
        .filter_map(Option::as_ref)
        .collect();
    let duplicate = match elsewhere.as_slice() {
        [] => false,
        [only] => header.as_ref() == Some(*only),
        _ => true,
    };
    if duplicate {
        return Err(ApiError::bad_request(
            "duplicate_token",
            "access token found in multiple locations (Authorization header, login_token \
             cookie, body or query access_token): send it once",
        ));
    }
    Ok(header.or(cookie).or(body).or(query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;
    use actix_web::test::TestRequest;

    fn with_body(req: TestRequest, token: &str) -> HttpRequest {
        let req = req.to_http_request();
        let body = serde_json::json!({ "model": "m", "access_token": token }).to_string();
        req.extensions_mut()
            .insert(JsonBody(web::Bytes::from(body.into_bytes())));
        req
    }

    #[test]
    fn precedence_header_cookie_body_query() {
        let r = TestRequest::default()
            .insert_header((AUTHORIZATION, "Bearer h"))
            .to_http_request();
        assert_eq!(locate(&r).expect("ok").as_deref(), Some("h"));
        let r = TestRequest::default()
            .insert_header(("cookie", "a=1; login_token=c"))
            .to_http_request();
        assert_eq!(locate(&r).expect("ok").as_deref(), Some("c"));
        let r = with_body(TestRequest::default(), "b");
        assert_eq!(locate(&r).expect("ok").as_deref(), Some("b"));
        let r = TestRequest::with_uri("/x?access_token=q").to_http_request();
        assert_eq!(locate(&r).expect("ok").as_deref(), Some("q"));
        let r = TestRequest::with_uri("/v1beta/models/m:generateContent?alt=sse&key=g")
            .to_http_request();
        assert_eq!(locate(&r).expect("ok").as_deref(), Some("g"));
        // Account switch: a different header token beats the cookie.
        let r = TestRequest::default()
            .insert_header((AUTHORIZATION, "Bearer h"))
            .insert_header(("cookie", "login_token=c"))
            .to_http_request();
        assert_eq!(locate(&r).expect("ok").as_deref(), Some("h"));
        assert_eq!(
            locate(&TestRequest::default().to_http_request()).expect("ok"),
            None
        );
    }

    /// The body reaches the handler and [`JsonBody`] whole, whether it came in one chunk (kept
    /// as it is) or in several (joined in order).
    #[actix_web::test]
    async fn captured_body_is_whole_in_one_or_several_chunks() {
        use actix_web::dev::Payload;
        use actix_web::{App, middleware::from_fn, test};
        let app = test::init_service(App::new().wrap(from_fn(capture_json_body)).route(
            "/",
            web::post().to(|req: HttpRequest, body: web::Bytes| async move {
                let captured = req.extensions().get::<JsonBody>().map(|b| b.0.clone());
                format!(
                    "{}|{}",
                    String::from_utf8_lossy(&body),
                    String::from_utf8_lossy(&captured.unwrap_or_default())
                )
            }),
        ))
        .await;
        let whole = r#"{"model":"m","messages":[]}"#;
        for pieces in [
            vec![whole],
            vec!["{\"model\":", "\"m\",\"messages\"", ":[]}"],
            vec!["", whole],
        ] {
            let chunks: Vec<Result<web::Bytes, actix_web::error::PayloadError>> = pieces
                .iter()
                .map(|p| Ok(web::Bytes::from(p.to_string())))
                .collect();
            let req = TestRequest::post()
                .uri("/")
                .insert_header((CONTENT_TYPE, "application/json"))
                .to_request();
            let (req, _) = req.replace_payload(Payload::Stream {
                payload: Box::pin(futures_util::stream::iter(chunks))
                    as std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>>,
            });
            let res = test::call_service(&app, req).await;
            let text = test::read_body(res).await;
            assert_eq!(text, format!("{whole}|{whole}").as_bytes(), "{pieces:?}");
        }
    }

    #[test]
    fn duplicates_are_refused_like_the_sdk() {
        let same_header_cookie = TestRequest::default()
            .insert_header((AUTHORIZATION, "Bearer t"))
            .insert_header(("cookie", "login_token=t"))
            .to_http_request();
        let same_header_query = TestRequest::with_uri("/x?access_token=t")
            .insert_header((AUTHORIZATION, "Bearer t"))
            .to_http_request();
        let cookie_and_query = TestRequest::with_uri("/x?access_token=q")
            .insert_header(("cookie", "login_token=c"))
            .to_http_request();
        let body_and_query = with_body(TestRequest::with_uri("/x?access_token=t"), "t");
        for r in [
            same_header_cookie,
            same_header_query,
            cookie_and_query,
            body_and_query,
        ] {
            let err = locate(&r).expect_err("duplicate");
            assert_eq!(err.status_code().as_u16(), 400, "{err}");
        }
    }

    #[test]
    fn malformed_header_is_401() {
        for h in ["Basic abc", "Bearer", "Bearer a b", "Bearer "] {
            let r = TestRequest::default()
                .insert_header((AUTHORIZATION, h))
                .to_http_request();
            assert_eq!(locate(&r).expect_err(h).status_code().as_u16(), 401, "{h}");
        }
    }

    #[test]
    fn body_token_only_from_a_string_field() {
        assert_eq!(
            body_token(br#"{"model":"x","access_token":"tok"}"#).as_deref(),
            Some("tok")
        );
        assert_eq!(body_token(br#"{"model":"access_token"}"#), None);
        assert_eq!(body_token(br#"{"access_token":5}"#), None);
        assert_eq!(body_token(br#"{"access_token":""}"#), None);
        assert_eq!(body_token(br#"[1,2]"#), None);
        assert_eq!(body_token(b"not json access_token"), None);
    }
}
