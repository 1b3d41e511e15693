//! Embeddings, images, video (Sora), speech and transcription on OpenAI's API, which doubao and
//! xai copy for the parts they offer. Requests are built from the Hub's media types; answers are
//! read into them.

use super::error::UpstreamError;
use super::http::{send, send_json};
use super::media::{
    AudioAnswer, Delivery, EmbeddingRequest, EmbeddingResponse, ImageRequest, ImageResponse,
    InputFile, Media, SpeechRequest, TranscriptionAnswer, TranscriptionRequest, VideoRequest,
    VideoResponse,
};
use super::types::Usage;
use super::{Jobs, Target, Timeouts};
use base64::Engine as _;
use bytes::Bytes;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value, json};

fn url(target: &Target<'_>, path: &str) -> String {
    format!("{}/{path}", target.base_url.trim_end_matches('/'))
}

fn auth(builder: reqwest::RequestBuilder, target: &Target<'_>) -> reqwest::RequestBuilder {
    if target.api_key.is_empty() {
        builder
    } else {
        builder.bearer_auth(target.api_key)
    }
}

/// Reads a whole body under the idle deadline.
pub(crate) async fn body_bytes(
    provider: &'static str,
    response: reqwest::Response,
    timeouts: &Timeouts,
) -> Result<Bytes, UpstreamError> {
    tokio::time::timeout(timeouts.idle, response.bytes())
        .await
        .map_err(|_| UpstreamError::Timeout(provider, timeouts.idle))?
        .map_err(|e| UpstreamError::Protocol(provider, format!("answer broke off: {e}")))
}

fn file_part(file: &InputFile, fallback_name: &str) -> Result<reqwest::multipart::Part, String> {
    reqwest::multipart::Part::stream(reqwest::Body::from(file.data.clone()))
        .file_name(
            file.filename
                .clone()
                .unwrap_or_else(|| fallback_name.to_owned()),
        )
        .mime_str(&file.mime_type)
        .map_err(|e| format!("bad mime type '{}': {e}", file.mime_type))
}

#[derive(Deserialize)]
struct EmbeddingItem {
    embedding: super::media::Vector,
    #[serde(default)]
    index: usize,
}

#[derive(Deserialize, Default)]
struct TokenUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

impl TokenUsage {
    fn internal(&self) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens.max(self.input_tokens),
            completion_tokens: self.completion_tokens.max(self.output_tokens),
            ..Usage::default()
        }
    }
}

#[derive(Deserialize)]
struct EmbeddingList {
    data: Vec<EmbeddingItem>,
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: Option<TokenUsage>,
}

pub async fn embed(
    provider: &'static str,
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &EmbeddingRequest,
    timeouts: &Timeouts,
) -> Result<EmbeddingResponse, UpstreamError> {
    let mut body = json!({"model": req.model, "input": req.input, "encoding_format": "float"});
    if let Some(d) = req.dimensions {
        body["dimensions"] = json!(d);
    }
    if let Some(u) = &req.user {
        body["user"] = json!(u);
    }
    let builder = auth(http.post(url(target, "embeddings")).json(&body), target);
    let mut list: EmbeddingList = send_json(provider, builder, timeouts).await?;
    req.check_count(provider, list.data.len())?;
    list.data.sort_by_key(|d| d.index);
    Ok(EmbeddingResponse {
        vectors: list.data.into_iter().map(|d| d.embedding).collect(),
        model: if list.model.is_empty() {
            req.model.clone()
        } else {
            list.model
        },
        usage: list.usage.map(|u| u.internal()).unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct ImageItem {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    b64_json: Option<String>,
    #[serde(default)]
    revised_prompt: Option<String>,
}

#[derive(Deserialize)]
struct ImageList {
    #[serde(default)]
    data: Vec<ImageItem>,
    #[serde(default)]
    usage: Option<TokenUsage>,
    #[serde(default)]
    output_format: Option<String>,
}

/// GPT image models always answer base64 and refuse `response_format`.
fn always_inline(model: &str) -> bool {
    model.starts_with("gpt-image")
}

pub(crate) fn decode_b64(provider: &'static str, text: &str) -> Result<Bytes, UpstreamError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map(Bytes::from)
        .map_err(|e| UpstreamError::Protocol(provider, format!("bad base64 image: {e}")))
}

pub async fn images(
    provider: &'static str,
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &ImageRequest,
    timeouts: &Timeouts,
) -> Result<ImageResponse, UpstreamError> {
    let response_format = (!always_inline(&req.model)).then_some(match req.delivery {
        Delivery::Url => "url",
        Delivery::Inline => "b64_json",
    });
    let builder = if req.images.is_empty() {
        let mut body = Map::new();
        body.insert("model".into(), json!(req.model));
        body.insert("prompt".into(), json!(req.prompt));
        body.insert("n".into(), json!(req.n));
        for (k, v) in [
            ("size", &req.size),
            ("quality", &req.quality),
            ("style", &req.style),
        ] {
            if let Some(v) = v {
                body.insert(k.into(), json!(v));
            }
        }
        if let Some(f) = response_format {
            body.insert("response_format".into(), json!(f));
        }
        if let Some(u) = &req.user {
            body.insert("user".into(), json!(u));
        }
        for (k, v) in &req.extra {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
        http.post(url(target, "images/generations")).json(&body)
    } else {
        let mut form = reqwest::multipart::Form::new()
            .text("model", req.model.clone())
            .text("prompt", req.prompt.clone())
            .text("n", req.n.to_string());
        for (k, v) in [("size", &req.size), ("quality", &req.quality)] {
            if let Some(v) = v {
                form = form.text(k, v.clone());
            }
        }
        if let Some(f) = response_format {
            form = form.text("response_format", f);
        }
        for (k, v) in &req.extra {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            form = form.text(k.clone(), text);
        }
        let field = if req.images.len() == 1 {
            "image"
        } else {
            "image[]"
        };
        for (i, file) in req.images.iter().enumerate() {
            let part = file_part(file, &format!("image-{i}.png"))
                .map_err(|e| UpstreamError::Protocol(provider, e))?;
            form = form.part(field, part);
        }
        http.post(url(target, "images/edits")).multipart(form)
    };
    let list: ImageList = send_json(provider, auth(builder, target), timeouts).await?;
    let mime = list
        .output_format
        .as_deref()
        .map(|f| format!("image/{f}"))
        .unwrap_or_default();
    let mut images = Vec::with_capacity(list.data.len());
    let mut revised = Vec::with_capacity(list.data.len());
    for item in list.data {
        let media = match (item.b64_json, item.url) {
            (Some(b64), _) => {
                let data = decode_b64(provider, &b64)?;
                let mime_type = if mime.is_empty() {
                    super::media::sniff_mime(&data).to_owned()
                } else {
                    mime.clone()
                };
                Media::Bytes { data, mime_type }
            }
            (None, Some(url)) => Media::Url {
                url,
                mime_type: None,
            },
            (None, None) => {
                return Err(UpstreamError::Protocol(
                    provider,
                    "an image without url or b64_json".into(),
                ));
            }
        };
        images.push(media);
        revised.push(item.revised_prompt);
    }
    if images.is_empty() {
        return Err(UpstreamError::Protocol(
            provider,
            "no image in answer".into(),
        ));
    }
    Ok(ImageResponse {
        images,
        revised_prompts: revised,
        model: req.model.clone(),
        usage: list.usage.map(|u| u.internal()).unwrap_or_default(),
    })
}

pub async fn speech(
    provider: &'static str,
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &SpeechRequest,
    timeouts: &Timeouts,
) -> Result<AudioAnswer, UpstreamError> {
    let mut body = req.body.clone();
    body.insert("model".into(), json!(req.model));
    let builder = auth(http.post(url(target, "audio/speech")).json(&body), target);
    let response = send(provider, builder, timeouts).await?;
    let content_type = content_type(&response, "audio/mpeg");
    let data = body_bytes(provider, response, timeouts).await?;
    Ok(AudioAnswer { data, content_type })
}

fn content_type(response: &reqwest::Response, fallback: &str) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(fallback)
        .to_owned()
}

#[derive(Deserialize, Default)]
struct TranscriptionUsage {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    seconds: Option<f64>,
}

#[derive(Deserialize, Default)]
struct TranscriptionJson {
    #[serde(default)]
    usage: Option<TranscriptionUsage>,
    #[serde(default)]
    duration: Option<f64>,
}

fn seconds(value: f64) -> Option<Decimal> {
    Decimal::from_f64_retain(value).map(|d| d.round_dp(3))
}

pub async fn transcribe(
    provider: &'static str,
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &TranscriptionRequest,
    timeouts: &Timeouts,
) -> Result<TranscriptionAnswer, UpstreamError> {
    let mut form = reqwest::multipart::Form::new().text("model", req.model.clone());
    for (k, v) in &req.fields {
        form = form.text(k.clone(), v.clone());
    }
    let part = file_part(&req.file, "audio").map_err(|e| UpstreamError::Protocol(provider, e))?;
    form = form.part("file", part);
    let builder = auth(
        http.post(url(target, "audio/transcriptions"))
            .multipart(form),
        target,
    );
    let response = send(provider, builder, timeouts).await?;
    let content_type = content_type(&response, "application/json");
    let data = body_bytes(provider, response, timeouts).await?;
    let parsed: TranscriptionJson = if content_type.starts_with("application/json") {
        serde_json::from_slice(&data).unwrap_or_default()
    } else {
        TranscriptionJson::default()
    };
    let usage = parsed.usage.unwrap_or_default();
    let secs = usage
        .seconds
        .filter(|_| usage.kind.as_deref() == Some("duration"))
        .or(parsed.duration)
        .and_then(seconds);
    Ok(TranscriptionAnswer {
        data,
        content_type,
        usage: Usage {
            prompt_tokens: usage.input_tokens,
            completion_tokens: usage.output_tokens,
            ..Usage::default()
        },
        seconds: secs,
    })
}

#[derive(Deserialize)]
struct VideoJob {
    id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    seconds: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    progress: Option<f64>,
}

fn job_seconds(job: &VideoJob, asked: Option<u32>) -> Decimal {
    let from_job = match &job.seconds {
        Some(Value::String(s)) => s.trim().parse::<Decimal>().ok(),
        Some(Value::Number(n)) => n.to_string().parse::<Decimal>().ok(),
        _ => None,
    };
    from_job
        .or(asked.map(Decimal::from))
        .unwrap_or(Decimal::from(4))
}

/// Sora: create the job, poll it until it completes (bounded), then fetch the MP4.
pub async fn video(
    provider: &'static str,
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &VideoRequest,
    timeouts: &Timeouts,
    jobs: &Jobs,
) -> Result<VideoResponse, UpstreamError> {
    let mut form = reqwest::multipart::Form::new()
        .text("model", req.model.clone())
        .text("prompt", req.prompt.clone());
    if let Some(s) = req.seconds {
        form = form.text("seconds", s.to_string());
    }
    if let Some(s) = &req.size {
        form = form.text("size", s.clone());
    }
    if let Some(image) = &req.image {
        let part =
            file_part(image, "reference.png").map_err(|e| UpstreamError::Protocol(provider, e))?;
        form = form.part("input_reference", part);
    }
    let builder = auth(http.post(url(target, "videos")).multipart(form), target);
    let mut job: VideoJob = send_json(provider, builder, timeouts).await?;
    let deadline = tokio::time::Instant::now() + jobs.timeout;
    loop {
        match job.status.as_str() {
            "completed" => break,
            "failed" | "cancelled" => {
                let message = job
                    .error
                    .as_ref()
                    .and_then(|e| e.get("message").and_then(Value::as_str).or(e.as_str()))
                    .unwrap_or("the video could not be made")
                    .to_owned();
                return Err(UpstreamError::Job(provider, message));
            }
            _ => {}
        }
        if tokio::time::Instant::now() + jobs.poll > deadline {
            return Err(UpstreamError::Job(
                provider,
                format!(
                    "video {} not ready after {} s ({}% done)",
                    job.id,
                    jobs.timeout.as_secs(),
                    job.progress.unwrap_or(0.0)
                ),
            ));
        }
        tokio::time::sleep(jobs.poll).await;
        let builder = auth(
            http.get(url(
                target,
                &format!("videos/{}", super::url_path::segment(&job.id)),
            )),
            target,
        );
        job = send_json(provider, builder, timeouts).await?;
    }
    let builder = auth(
        http.get(url(
            target,
            &format!("videos/{}/content", super::url_path::segment(&job.id)),
        )),
        target,
    );
    let response = send(provider, builder, timeouts).await?;
    let mime_type = content_type(&response, "video/mp4");
    let data = body_bytes(provider, response, timeouts).await?;
    Ok(VideoResponse {
        videos: vec![Media::Bytes { data, mime_type }],
        seconds: job_seconds(&job, req.seconds),
        model: req.model.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_seconds_from_string_number_or_request() {
        let job = |v: Option<Value>| VideoJob {
            id: "v".into(),
            status: "completed".into(),
            seconds: v,
            error: None,
            progress: None,
        };
        assert_eq!(job_seconds(&job(Some(json!("8"))), None), Decimal::from(8));
        assert_eq!(job_seconds(&job(Some(json!(12))), None), Decimal::from(12));
        assert_eq!(job_seconds(&job(None), Some(4)), Decimal::from(4));
    }

    #[test]
    fn usage_reads_both_spellings() {
        let u: TokenUsage =
            serde_json::from_str(r#"{"input_tokens":10,"output_tokens":4160}"#).expect("usage");
        assert_eq!(u.internal().prompt_tokens, 10);
        assert_eq!(u.internal().completion_tokens, 4160);
        let u: TokenUsage =
            serde_json::from_str(r#"{"prompt_tokens":7,"total_tokens":7}"#).expect("usage");
        assert_eq!(u.internal().prompt_tokens, 7);
    }
}
