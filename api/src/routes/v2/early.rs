//! Long non-streaming answers (videos, slow images). The real client gives up when response
//! headers take longer than 60 s, and a video job takes minutes, so: the call runs as its own
//! task (it finishes and is recorded even if the client leaves); if it ends within
//! `upstream.early_headers_secs` (15 s) the answer is an ordinary response with its real status; otherwise a 200
//! with a JSON content type goes out, then a space every [`PAD_EVERY`] (JSON allows leading
//! whitespace) and finally the answer, or the error in the one error shape (`{"error":{…}}`).

use crate::error::{ApiError, ApiResult};
use actix_web::HttpResponse;
use actix_web::ResponseError;
use bytes::Bytes;
use serde_json::Value;
use std::future::Future;
use std::time::Duration;

pub const PAD_EVERY: Duration = Duration::from_secs(10);

/// The error shape with the status the error would have had, as a field (headers are gone).
fn error_body(e: &ApiError) -> Bytes {
    let status = e.status_code().as_u16();
    let mut body: Value = serde_json::from_slice(
        &crate::error::error_json(&e.to_string(), e.kind(), Some(e.code()), None).into_bytes(),
    )
    .unwrap_or_default();
    body["error"]["status"] = Value::from(status);
    Bytes::from(body.to_string())
}

/// Answers with `work`'s JSON, sending headers early when it takes long.
pub async fn respond<F>(work: F, headers_after: Duration) -> ApiResult<HttpResponse>
where
    F: Future<Output = ApiResult<(Value, String)>> + 'static,
{
    let mut task = actix_web::rt::spawn(work);
    match tokio::time::timeout(headers_after, &mut task).await {
        Ok(joined) => {
            let (body, timing) = joined.map_err(|e| {
                ApiError::Internal(anyhow::anyhow!("the call's task failed: {e}"))
            })??;
            Ok(HttpResponse::Ok()
                .insert_header(("server-timing", timing))
                .json(body))
        }
        Err(_) => {
            let body = async_stream::stream! {
                yield Ok::<Bytes, ApiError>(Bytes::from_static(b" "));
                loop {
                    tokio::select! {
                        joined = &mut task => {
                            let bytes = match joined {
                                Ok(Ok((body, _))) => Bytes::from(body.to_string()),
                                Ok(Err(e)) => error_body(&e),
                                Err(e) => error_body(&ApiError::Internal(anyhow::anyhow!("the call's task failed: {e}"))),
                            };
                            yield Ok(bytes);
                            break;
                        }
                        _ = tokio::time::sleep(PAD_EVERY) => {
                            yield Ok(Bytes::from_static(b" "));
                        }
                    }
                }
            };
            Ok(HttpResponse::Ok()
                .content_type("application/json")
                .insert_header(("x-accel-buffering", "no"))
                .streaming(body))
        }
    }
}
