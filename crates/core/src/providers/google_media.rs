//! Google's media APIs beside Gemini chat: embeddings (`:batchEmbedContents`), Imagen images
//! (`:predict`) and Veo videos (`:predictLongRunning`, the operation polled until done, then the
//! video downloaded with the key so the client never sees it). Key in `x-goog-api-key`.

use super::error::UpstreamError;
use super::http::{send, send_json};
use super::media::{
    EmbeddingRequest, EmbeddingResponse, ImageRequest, ImageResponse, Media, VideoRequest,
    VideoResponse,
};
use super::openai_media::{body_bytes, decode_b64};
use super::types::Usage;
use super::{Jobs, Target, Timeouts};
use base64::Engine as _;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

const PROVIDER: &str = "google";

fn url(target: &Target<'_>, model: &str, verb: &str) -> String {
    format!(
        "{}/models/{}:{verb}",
        target.base_url.trim_end_matches('/'),
        super::url_path::segment(model.trim_start_matches("models/"))
    )
}

fn post(
    http: &reqwest::Client,
    target: &Target<'_>,
    url: String,
    body: &Value,
) -> reqwest::RequestBuilder {
    http.post(url)
        .header("x-goog-api-key", target.api_key)
        .json(body)
}

#[derive(Deserialize)]
struct BatchEmbeddings {
    #[serde(default)]
    embeddings: Vec<Values>,
}

#[derive(Deserialize)]
struct Values {
    values: super::media::Vector,
}

pub async fn embed(
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &EmbeddingRequest,
    timeouts: &Timeouts,
) -> Result<EmbeddingResponse, UpstreamError> {
    let model = format!("models/{}", req.model.trim_start_matches("models/"));
    let requests: Vec<Value> = req
        .input
        .iter()
        .map(|text| {
            let mut r = json!({"model": model, "content": {"parts": [{"text": text}]}});
            if let Some(d) = req.dimensions {
                r["outputDimensionality"] = json!(d);
            }
            r
        })
        .collect();
    let builder = post(
        http,
        target,
        url(target, &req.model, "batchEmbedContents"),
        &json!({"requests": requests}),
    );
    let answer: BatchEmbeddings = send_json(PROVIDER, builder, timeouts).await?;
    req.check_count(PROVIDER, answer.embeddings.len())?;
    let chars: usize = req.input.iter().map(String::len).sum();
    Ok(EmbeddingResponse {
        vectors: answer.embeddings.into_iter().map(|e| e.values).collect(),
        model: req.model.clone(),
        // The API reports no token count: about four characters a token.
        usage: Usage {
            prompt_tokens: chars.div_ceil(4) as u64,
            ..Usage::default()
        },
    })
}

/// Imagen and Veo take aspect ratios, not sizes: the nearest of theirs to `WIDTHxHEIGHT`.
pub fn aspect_ratio(size: &str, choices: &[&'static str]) -> Option<&'static str> {
    let (w, h) = size.split_once('x')?;
    let ratio = w.parse::<f64>().ok()? / h.parse::<f64>().ok()?;
    choices.iter().copied().min_by(|a, b| {
        let r = |s: &str| {
            s.split_once(':')
                .and_then(|(x, y)| Some(x.parse::<f64>().ok()? / y.parse::<f64>().ok()?))
                .unwrap_or(1.0)
        };
        (r(a) - ratio).abs().total_cmp(&(r(b) - ratio).abs())
    })
}

#[derive(Deserialize)]
struct Predictions {
    #[serde(default)]
    predictions: Vec<Prediction>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Prediction {
    #[serde(default)]
    bytes_base64_encoded: Option<String>,
    #[serde(default)]
    mime_type: Option<String>,
}

pub async fn images(
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &ImageRequest,
    timeouts: &Timeouts,
) -> Result<ImageResponse, UpstreamError> {
    if !req.images.is_empty() {
        return Err(UpstreamError::Unsupported(
            PROVIDER,
            "edit images with Imagen",
        ));
    }
    let mut parameters = json!({"sampleCount": req.n.min(4)});
    if let Some(ratio) = req
        .extra
        .get("aspect_ratio")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            req.size
                .as_deref()
                .and_then(|s| aspect_ratio(s, &["1:1", "3:4", "4:3", "9:16", "16:9"]))
                .map(str::to_owned)
        })
    {
        parameters["aspectRatio"] = json!(ratio);
    }
    if let Some(neg) = req.extra.get("negative_prompt") {
        parameters["negativePrompt"] = neg.clone();
    }
    let body = json!({"instances": [{"prompt": req.prompt}], "parameters": parameters});
    let answer: Predictions = send_json(
        PROVIDER,
        post(http, target, url(target, &req.model, "predict"), &body),
        timeouts,
    )
    .await?;
    let mut images = Vec::new();
    for p in answer.predictions {
        if let Some(b64) = p.bytes_base64_encoded {
            let data = decode_b64(PROVIDER, &b64)?;
            let mime_type = p
                .mime_type
                .unwrap_or_else(|| super::media::sniff_mime(&data).to_owned());
            images.push(Media::Bytes { data, mime_type });
        }
    }
    if images.is_empty() {
        return Err(UpstreamError::Protocol(
            PROVIDER,
            "no image in answer (the prompt may have been filtered)".into(),
        ));
    }
    Ok(ImageResponse {
        revised_prompts: vec![None; images.len()],
        images,
        model: req.model.clone(),
        usage: Usage::default(),
    })
}

#[derive(Deserialize)]
struct Operation {
    name: String,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    response: Option<Value>,
}

pub async fn video(
    http: &reqwest::Client,
    target: &Target<'_>,
    req: &VideoRequest,
    timeouts: &Timeouts,
    jobs: &Jobs,
) -> Result<VideoResponse, UpstreamError> {
    let mut instance = json!({"prompt": req.prompt});
    if let Some(image) = &req.image {
        instance["image"] = json!({
            "bytesBase64Encoded": base64::engine::general_purpose::STANDARD.encode(&image.data),
            "mimeType": image.mime_type,
        });
    }
    let mut parameters = serde_json::Map::new();
    if let Some(s) = req.seconds {
        parameters.insert("durationSeconds".into(), json!(s));
    }
    if let Some(ratio) = req.extra.get("aspectRatio").cloned().or_else(|| {
        req.size
            .as_deref()
            .and_then(|s| aspect_ratio(s, &["16:9", "9:16"]))
            .map(|r| json!(r))
    }) {
        parameters.insert("aspectRatio".into(), ratio);
    }
    for key in ["negativePrompt", "resolution"] {
        if let Some(v) = req.extra.get(key) {
            parameters.insert(key.into(), v.clone());
        }
    }
    let body = json!({"instances": [instance], "parameters": parameters});
    let mut op: Operation = send_json(
        PROVIDER,
        post(
            http,
            target,
            url(target, &req.model, "predictLongRunning"),
            &body,
        ),
        timeouts,
    )
    .await?;
    let base = target.base_url.trim_end_matches('/');
    let deadline = tokio::time::Instant::now() + jobs.timeout;
    while !op.done {
        if tokio::time::Instant::now() + jobs.poll > deadline {
            return Err(UpstreamError::Job(
                PROVIDER,
                format!(
                    "operation {} not done after {} s",
                    op.name,
                    jobs.timeout.as_secs()
                ),
            ));
        }
        tokio::time::sleep(jobs.poll).await;
        let builder = http
            .get(format!("{base}/{}", super::url_path::segments(&op.name)))
            .header("x-goog-api-key", target.api_key);
        op = send_json(PROVIDER, builder, timeouts).await?;
    }
    if let Some(e) = op.error {
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("the video could not be made")
            .to_owned();
        return Err(UpstreamError::Job(PROVIDER, message));
    }
    let samples = op
        .response
        .as_ref()
        .and_then(|r| r.pointer("/generateVideoResponse/generatedSamples"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut videos = Vec::new();
    for s in samples {
        let Some(uri) = s.pointer("/video/uri").and_then(Value::as_str) else {
            continue;
        };
        // The key goes only to the API's own origin, never to a host named in an answer.
        let builder = if same_origin(uri, base) {
            http.get(uri).header("x-goog-api-key", target.api_key)
        } else {
            http.get(uri)
        };
        let response = send(PROVIDER, builder, timeouts).await?;
        let data = body_bytes(PROVIDER, response, timeouts).await?;
        videos.push(Media::Bytes {
            data,
            mime_type: "video/mp4".into(),
        });
    }
    if videos.is_empty() {
        return Err(UpstreamError::Job(
            PROVIDER,
            "the operation finished without a video (it may have been filtered)".into(),
        ));
    }
    Ok(VideoResponse {
        seconds: Decimal::from(req.seconds.unwrap_or(8)) * Decimal::from(videos.len() as u64),
        videos,
        model: req.model.clone(),
    })
}

fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_aspect_ratio() {
        let imagen = ["1:1", "3:4", "4:3", "9:16", "16:9"];
        assert_eq!(aspect_ratio("1024x1024", &imagen), Some("1:1"));
        assert_eq!(aspect_ratio("1792x1024", &imagen), Some("16:9"));
        assert_eq!(aspect_ratio("1024x1536", &imagen), Some("3:4"));
        assert_eq!(aspect_ratio("auto", &imagen), None);
    }

    #[test]
    fn keys_go_only_to_the_api_origin() {
        let base = "https://generativelanguage.googleapis.com/v1beta";
        assert!(same_origin(
            "https://generativelanguage.googleapis.com/v1beta/files/x:download",
            base
        ));
        assert!(!same_origin("https://evil.example/files/x", base));
    }
}
