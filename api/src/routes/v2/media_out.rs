//! Generated media on its way to the client: bytes stored and linked when the client wants URLs,
//! provider URLs fetched when it wants the bytes.

use crate::error::{ApiError, ApiResult};
use crate::providers::media::{Delivery, Media};
use crate::state::AppState;
use actix_web::HttpRequest;
use base64::Engine as _;
use bytes::Bytes;
use futures_util::StreamExt;

/// The largest file the Hub fetches from a provider URL to inline it.
const MAX_FETCH: usize = 64 * 1024 * 1024;

/// A file as the client gets it.
pub enum Delivered {
    Url {
        url: String,
        mime_type: Option<String>,
    },
    Inline {
        b64: String,
        mime_type: String,
    },
}

/// The absolute URL under which this Hub is reached by the client (behind a proxy too:
/// `Forwarded`/`X-Forwarded-*`, and Blocklet Server's `X-Path-Prefix` mount point).
pub fn public_base(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let prefix = crate::http::mount::prefix(req);
    format!("{}://{}{prefix}", info.scheme(), info.host())
}

async fn fetch(http: &reqwest::Client, url: &str, state: &AppState) -> ApiResult<(Bytes, String)> {
    let failed = |e: String| ApiError::Upstream {
        status: 502,
        message: format!("the generated file could not be fetched from the provider: {e}"),
    };
    let response = tokio::time::timeout(state.timeouts.ttfb, http.get(url).send())
        .await
        .map_err(|_| failed("timed out".into()))?
        .map_err(|e| failed(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    let mime = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = response.bytes_stream();
    let mut data = Vec::new();
    loop {
        let chunk = tokio::time::timeout(state.timeouts.idle, body.next())
            .await
            .map_err(|_| failed("timed out".into()))?;
        match chunk {
            None => break,
            Some(Ok(c)) => {
                if data.len() + c.len() > MAX_FETCH {
                    return Err(failed(format!("larger than {MAX_FETCH} bytes")));
                }
                data.extend_from_slice(&c);
            }
            Some(Err(e)) => return Err(failed(e.without_url().to_string())),
        }
    }
    let mime = mime
        .filter(|m| !m.starts_with("application/octet-stream"))
        .unwrap_or_else(|| crate::providers::media::sniff_mime(&data).to_owned());
    Ok((Bytes::from(data), mime))
}

/// Turns the provider's files into what the client asked for.
pub async fn deliver(
    state: &AppState,
    http: &reqwest::Client,
    req: &HttpRequest,
    media: Vec<Media>,
    delivery: Delivery,
) -> ApiResult<Vec<Delivered>> {
    let base = public_base(req);
    let mut out = Vec::with_capacity(media.len());
    for m in media {
        let item = match (m, delivery) {
            (Media::Url { url, mime_type }, Delivery::Url) => Delivered::Url { url, mime_type },
            (Media::Bytes { data, mime_type }, Delivery::Url) => {
                let name = state.files.save(data, &mime_type).await.map_err(|e| {
                    ApiError::Internal(anyhow::anyhow!("storing a generated file: {e}"))
                })?;
                Delivered::Url {
                    url: format!("{base}/api/files/{name}"),
                    mime_type: Some(mime_type),
                }
            }
            (Media::Bytes { data, mime_type }, Delivery::Inline) => Delivered::Inline {
                b64: base64::engine::general_purpose::STANDARD.encode(&data),
                mime_type,
            },
            (Media::Url { url, .. }, Delivery::Inline) => {
                let (data, mime_type) = fetch(http, &url, state).await?;
                Delivered::Inline {
                    b64: base64::engine::general_purpose::STANDARD.encode(&data),
                    mime_type,
                }
            }
        };
        out.push(item);
    }
    Ok(out)
}

impl Delivered {
    /// OpenAI's `data[]` item.
    pub fn openai_json(&self, revised_prompt: Option<&str>) -> serde_json::Value {
        let mut v = match self {
            Delivered::Url { url, .. } => serde_json::json!({ "url": url }),
            Delivered::Inline { b64, .. } => serde_json::json!({ "b64_json": b64 }),
        };
        if let Some(p) = revised_prompt {
            v["revised_prompt"] = serde_json::json!(p);
        }
        v
    }

    /// AIGNE's file part: `{type:"url", url, mimeType?}` or `{type:"file", data, mimeType}`.
    pub fn aigne_json(&self) -> serde_json::Value {
        match self {
            Delivered::Url { url, mime_type } => {
                let mut v = serde_json::json!({"type": "url", "url": url});
                if let Some(m) = mime_type {
                    v["mimeType"] = serde_json::json!(m);
                }
                v
            }
            Delivered::Inline { b64, mime_type } => {
                serde_json::json!({"type": "file", "data": b64, "mimeType": mime_type})
            }
        }
    }
}

/// `GET /api/files/{name}`: a stored generated file (no auth: the name is the secret), 404 once
/// expired.
pub async fn serve_file(
    req: HttpRequest,
    name: actix_web::web::Path<String>,
    state: actix_web::web::Data<AppState>,
) -> ApiResult<actix_web::HttpResponse> {
    use actix_web::Responder;
    let path = state
        .files
        .open(&name)
        .await
        .ok_or_else(|| ApiError::NotFound("no such file, or it has expired".into()))?;
    let file = actix_web::web::block(move || actix_files::NamedFile::open(path))
        .await?
        .map_err(|_| ApiError::NotFound("no such file, or it has expired".into()))?;
    let mut response = file
        .use_etag(false)
        .use_last_modified(false)
        .respond_to(&req)
        .map_into_boxed_body();
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}
