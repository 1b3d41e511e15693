//! Ideogram (images only): `POST {base}/v1/ideogram-v3/generate`, or `/remix` with an input
//! image, multipart forms with the key in `Api-Key`. Answers are URLs (they expire at Ideogram;
//! a client wanting bytes gets them fetched by the Hub).

use super::error::UpstreamError;
use super::http::send_json;
use super::media::{ImageRequest, ImageResponse, Media};
use super::types::Usage;
use super::{Target, Timeouts};
use serde::Deserialize;
use serde_json::Value;

const PROVIDER: &str = "ideogram";

#[derive(Clone)]
pub struct Ideogram;

#[derive(Deserialize)]
struct Generated {
    #[serde(default)]
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    is_image_safe: Option<bool>,
}

/// Ideogram's aspect ratios are written `WxH` in small numbers (`16x9`): the reduced form of
/// a `WIDTHxHEIGHT` size.
fn aspect_ratio(size: &str) -> Option<String> {
    let (w, h) = size.split_once('x')?;
    let (w, h) = (w.parse::<u32>().ok()?, h.parse::<u32>().ok()?);
    let gcd = |mut a: u32, mut b: u32| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let g = gcd(w, h).max(1);
    Some(format!("{}x{}", w / g, h / g))
}

impl Ideogram {
    pub async fn images(
        &self,
        http: &reqwest::Client,
        target: &Target<'_>,
        req: &ImageRequest,
        timeouts: &Timeouts,
    ) -> Result<ImageResponse, UpstreamError> {
        let mut form = reqwest::multipart::Form::new()
            .text("prompt", req.prompt.clone())
            .text("num_images", req.n.min(8).to_string());
        if let Some(ratio) = req
            .extra
            .get("aspect_ratio")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| req.size.as_deref().and_then(aspect_ratio))
        {
            form = form.text("aspect_ratio", ratio);
        }
        for key in ["rendering_speed", "negative_prompt", "seed"] {
            if let Some(v) = req.extra.get(key) {
                form = form.text(key, v.as_str().map_or_else(|| v.to_string(), str::to_owned));
            }
        }
        if let Some(style) = &req.style {
            form = form.text("style_type", style.to_ascii_uppercase());
        }
        let path = match req.images.first() {
            Some(image) => {
                let part =
                    reqwest::multipart::Part::stream(reqwest::Body::from(image.data.clone()))
                        .file_name(image.filename.clone().unwrap_or_else(|| "image.png".into()))
                        .mime_str(&image.mime_type)
                        .map_err(|e| UpstreamError::Protocol(PROVIDER, e.to_string()))?;
                form = form.part("image", part);
                "v1/ideogram-v3/remix"
            }
            None => "v1/ideogram-v3/generate",
        };
        let builder = http
            .post(format!("{}/{path}", target.base_url.trim_end_matches('/')))
            .header("Api-Key", target.api_key)
            .multipart(form);
        let answer: Generated = send_json(PROVIDER, builder, timeouts).await?;
        let mut images = Vec::new();
        let mut prompts = Vec::new();
        for item in answer.data {
            match item.url {
                Some(url) if item.is_image_safe != Some(false) => {
                    images.push(Media::Url {
                        url,
                        mime_type: Some("image/png".into()),
                    });
                    prompts.push(item.prompt);
                }
                _ => {}
            }
        }
        if images.is_empty() {
            return Err(UpstreamError::Protocol(
                PROVIDER,
                "no safe image in answer".into(),
            ));
        }
        Ok(ImageResponse {
            images,
            revised_prompts: prompts,
            model: req.model.clone(),
            usage: Usage::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_become_ratios() {
        assert_eq!(aspect_ratio("1024x1024").as_deref(), Some("1x1"));
        assert_eq!(aspect_ratio("1920x1080").as_deref(), Some("16x9"));
        assert_eq!(aspect_ratio("auto"), None);
    }
}
