//! Client wire formats of the non-chat endpoints: OpenAI's embeddings and image generation
//! bodies, the real Hub's embeddings envelope, and the AIGNE-native image and video envelopes
//! (what `@aigne/aigne-hub`'s image and video models send). Each converts into the Hub's media
//! types and validates on the way, naming the field.

use crate::error::ApiError;
use crate::providers::media::{Delivery, EmbeddingRequest, ImageRequest, InputFile, VideoRequest};
use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// OpenAI's `input`: a string, strings, or token arrays (which the Hub does not take: providers
/// other than OpenAI cannot read them).
fn texts(input: Value, field: &str) -> Result<Vec<String>, ApiError> {
    let list = match input {
        Value::String(s) => vec![s],
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s),
                _ => Err(ApiError::invalid(
                    format!("{field}[{i}]"),
                    "must be a string (token arrays are not accepted)",
                )),
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(ApiError::invalid(
                field,
                "must be a string or an array of strings",
            ));
        }
    };
    if list.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if list.len() > 2048 {
        return Err(ApiError::invalid(field, "at most 2048 inputs per request"));
    }
    if let Some(i) = list.iter().position(|s| s.is_empty()) {
        return Err(ApiError::invalid(
            format!("{field}[{i}]"),
            "must not be an empty string",
        ));
    }
    Ok(list)
}

/// `POST /api/v2/embeddings` in either form.
#[derive(Deserialize)]
pub struct EmbeddingsBody {
    #[serde(default)]
    pub model: Option<String>,
    pub input: Value,
    #[serde(default)]
    pub dimensions: Option<u32>,
    #[serde(default)]
    pub encoding_format: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
}

/// `base64` packs each vector as little-endian f32 bytes, as OpenAI does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Float,
    Base64,
}

/// A parsed embeddings call: the requested model name, the request, how to answer.
#[derive(Debug)]
pub struct EmbeddingsCall {
    pub model: Option<String>,
    pub request: EmbeddingRequest,
    pub encoding: Encoding,
    /// The real Hub's envelope `{input:{input, modelOptions}}` (answered in its shape).
    pub envelope: bool,
}

impl EmbeddingsBody {
    pub fn into_call(self) -> Result<EmbeddingsCall, ApiError> {
        let encoding = match self.encoding_format.as_deref() {
            None | Some("float") => Encoding::Float,
            Some("base64") => Encoding::Base64,
            Some(other) => {
                return Err(ApiError::invalid(
                    "encoding_format",
                    format!("'{other}' is not float or base64"),
                ));
            }
        };
        if let Value::Object(mut envelope) = self.input {
            let inner = envelope
                .remove("input")
                .ok_or_else(|| ApiError::invalid("input.input", "is required"))?;
            let options = match envelope.remove("modelOptions") {
                Some(Value::Object(o)) => o,
                None | Some(Value::Null) => Map::new(),
                Some(_) => {
                    return Err(ApiError::invalid("input.modelOptions", "must be an object"));
                }
            };
            let model = options
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or(self.model);
            let dimensions = match options.get("dimensions") {
                None | Some(Value::Null) => self.dimensions,
                Some(v) => Some(dimension(v, "input.modelOptions.dimensions")?),
            };
            return Ok(EmbeddingsCall {
                model,
                request: EmbeddingRequest {
                    model: String::new(),
                    input: texts(inner, "input.input")?,
                    dimensions,
                    user: self.user,
                },
                encoding,
                envelope: true,
            });
        }
        Ok(EmbeddingsCall {
            model: self.model,
            request: EmbeddingRequest {
                model: String::new(),
                input: texts(self.input, "input")?,
                dimensions: self.dimensions,
                user: self.user,
            },
            encoding,
            envelope: false,
        })
    }
}

fn dimension(v: &Value, field: &str) -> Result<u32, ApiError> {
    v.as_u64()
        .filter(|d| (1..=65_536).contains(d))
        .map(|d| d as u32)
        .ok_or_else(|| ApiError::invalid(field, "must be a positive integer"))
}

/// One vector as OpenAI's base64: little-endian f32s.
pub fn vector_base64(v: &[f32]) -> String {
    let mut bytes = Vec::with_capacity(v.len() * 4);
    for x in v {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Sizes the Hub accepts: `auto` or `<width>x<height>` with sides 64–8192.
fn check_size(size: &str, field: &str) -> Result<(), ApiError> {
    if size == "auto" {
        return Ok(());
    }
    let ok = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
        .is_some_and(|(w, h)| (64..=8192).contains(&w) && (64..=8192).contains(&h));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("'{size}' is not a size: use WIDTHxHEIGHT (e.g. 1024x1024) or auto"),
        ))
    }
}

fn check_n(n: Option<i64>, field: &str) -> Result<u32, ApiError> {
    match n {
        None => Ok(1),
        Some(n) if (1..=10).contains(&n) => Ok(n as u32),
        Some(n) => Err(ApiError::invalid(
            field,
            format!("{n} is out of range: 1 to 10"),
        )),
    }
}

fn check_prompt(prompt: &str, field: &str) -> Result<(), ApiError> {
    if prompt.trim().is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if prompt.len() > 32_000 {
        return Err(ApiError::invalid(field, "is longer than 32000 bytes"));
    }
    Ok(())
}

/// A `data:` URL or bare base64 as a file.
fn decode_file(text: &str, mime: Option<&str>, field: &str) -> Result<InputFile, ApiError> {
    let (mime_from_url, b64) = match text.strip_prefix("data:") {
        Some(rest) => {
            let (meta, data) = rest
                .split_once(',')
                .ok_or_else(|| ApiError::invalid(field, "is not a data: URL"))?;
            (meta.strip_suffix(";base64").map(str::to_owned), data)
        }
        None => (None, text),
    };
    let data = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| ApiError::invalid(field, "is not base64 data"))?;
    if data.is_empty() {
        return Err(ApiError::invalid(field, "is empty"));
    }
    let mime_type = mime
        .map(str::to_owned)
        .or(mime_from_url)
        .unwrap_or_else(|| crate::providers::media::sniff_mime(&data).to_owned());
    Ok(InputFile {
        data: Bytes::from(data),
        mime_type,
        filename: None,
    })
}

/// `POST /api/v2/images/generations` (and `/image/generations`): OpenAI's body, plus the real
/// Hub's camelCase `responseFormat` and `image` (data URLs or base64) for edits.
#[derive(Deserialize)]
pub struct ImagesBody {
    #[serde(default)]
    pub model: Option<String>,
    pub prompt: String,
    #[serde(default)]
    pub n: Option<i64>,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub quality: Option<String>,
    #[serde(default)]
    pub style: Option<String>,
    #[serde(default, alias = "responseFormat")]
    pub response_format: Option<String>,
    #[serde(default)]
    pub image: Option<Value>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ImagesBody {
    pub fn into_request(self) -> Result<(Option<String>, ImageRequest), ApiError> {
        check_prompt(&self.prompt, "prompt")?;
        let n = check_n(self.n, "n")?;
        if let Some(size) = &self.size {
            check_size(size, "size")?;
        }
        let delivery = match self.response_format.as_deref() {
            None | Some("url") => Delivery::Url,
            Some("b64_json") | Some("base64") => Delivery::Inline,
            Some(other) => {
                return Err(ApiError::invalid(
                    "response_format",
                    format!("'{other}' is not url or b64_json"),
                ));
            }
        };
        let images = match self.image {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![decode_file(&s, None, "image")?],
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let field = format!("image[{i}]");
                    v.as_str()
                        .ok_or_else(|| ApiError::invalid(&field, "must be a data URL or base64"))
                        .and_then(|s| decode_file(s, None, &field))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(ApiError::invalid("image", "must be a string or strings")),
        };
        let mut extra = self.extra;
        extra.retain(|k, _| ALLOWED_IMAGE_EXTRAS.contains(&k.as_str()));
        Ok((
            self.model,
            ImageRequest {
                model: String::new(),
                prompt: self.prompt,
                n,
                size: self.size,
                quality: self.quality,
                style: self.style,
                images,
                delivery,
                extra,
                user: self.user,
            },
        ))
    }
}

/// Provider options the Hub passes along (others are dropped, never sent blindly).
const ALLOWED_IMAGE_EXTRAS: [&str; 10] = [
    "background",
    "output_format",
    "output_compression",
    "moderation",
    "seed",
    "aspect_ratio",
    "negative_prompt",
    "watermark",
    "guidance_scale",
    "rendering_speed",
];

/// A file part of the AIGNE envelope: `{type:"file", data, mimeType}` or `{type:"url", url}`.
fn aigne_file(v: &Value, field: &str) -> Result<InputFile, ApiError> {
    match v.get("type").and_then(Value::as_str) {
        Some("file") => {
            let data = v
                .get("data")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::invalid(format!("{field}.data"), "is required"))?;
            let mut file = decode_file(data, v.get("mimeType").and_then(Value::as_str), field)?;
            file.filename = v.get("filename").and_then(Value::as_str).map(str::to_owned);
            Ok(file)
        }
        Some("url") => match v.get("url").and_then(Value::as_str) {
            Some(url) if url.starts_with("data:") => decode_file(url, None, field),
            _ => Err(ApiError::invalid(
                field,
                "URL inputs are not fetched by the hub: send the file inline ({type:\"file\", data})",
            )),
        },
        _ => Err(ApiError::invalid(
            format!("{field}.type"),
            "must be file or url",
        )),
    }
}

/// The AIGNE envelope `{input, agent?, options?}` of `/api/v2/image` and `/api/v2/video`.
#[derive(Deserialize)]
pub struct AigneEnvelope {
    pub input: Map<String, Value>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub agent: Option<Value>,
    #[serde(default)]
    pub options: Option<Value>,
}

fn options_of(input: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    match input.get("modelOptions") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(o)) => Ok(o.clone()),
        Some(_) => Err(ApiError::invalid("input.modelOptions", "must be an object")),
    }
}

fn string_of(
    input: &Map<String, Value>,
    options: &Map<String, Value>,
    key: &str,
) -> Result<Option<String>, ApiError> {
    match options.get(key).or_else(|| input.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(ApiError::invalid(
            format!("input.{key}"),
            "must be a string",
        )),
    }
}

fn prompt_of(input: &Map<String, Value>) -> Result<String, ApiError> {
    let prompt = input
        .get("prompt")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("input.prompt", "is required (a string)"))?;
    check_prompt(prompt, "input.prompt")?;
    Ok(prompt.to_owned())
}

/// Keys of `modelOptions` that are not provider options.
const ENVELOPE_KEYS: [&str; 9] = [
    "model",
    "n",
    "size",
    "quality",
    "style",
    "seconds",
    "prompt",
    "image",
    "outputFileType",
];

impl AigneEnvelope {
    /// The model: `input.modelOptions.model` ‖ `input.model` ‖ body `model`.
    pub fn model(&self) -> Option<String> {
        let options = self.input.get("modelOptions");
        options
            .and_then(|o| o.get("model"))
            .or_else(|| self.input.get("model"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| self.model.clone())
            .filter(|m| !m.trim().is_empty())
    }

    /// `outputFileType`: `file` answers inline, anything else URLs.
    pub fn delivery(&self) -> Delivery {
        match self.input.get("outputFileType").and_then(Value::as_str) {
            Some("file") => Delivery::Inline,
            _ => Delivery::Url,
        }
    }

    pub fn image_request(&self) -> Result<ImageRequest, ApiError> {
        let options = options_of(&self.input)?;
        let prompt = prompt_of(&self.input)?;
        let n = match options.get("n").or_else(|| self.input.get("n")) {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| ApiError::invalid("input.n", "must be an integer"))?,
            ),
        };
        let n = check_n(n, "input.n")?;
        let size = string_of(&self.input, &options, "size")?;
        if let Some(size) = &size {
            check_size(size, "input.modelOptions.size")?;
        }
        let images = match self.input.get("image") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| aigne_file(v, &format!("input.image[{i}]")))
                .collect::<Result<_, _>>()?,
            Some(v @ Value::Object(_)) => vec![aigne_file(v, "input.image")?],
            Some(_) => return Err(ApiError::invalid("input.image", "must be file parts")),
        };
        let mut extra = options.clone();
        extra.retain(|k, _| !ENVELOPE_KEYS.contains(&k.as_str()));
        extra.retain(|k, _| ALLOWED_IMAGE_EXTRAS.contains(&k.as_str()));
        Ok(ImageRequest {
            model: String::new(),
            prompt,
            n,
            size,
            quality: string_of(&self.input, &options, "quality")?,
            style: string_of(&self.input, &options, "style")?,
            images,
            delivery: self.delivery(),
            extra,
            user: None,
        })
    }

    pub fn video_request(&self) -> Result<VideoRequest, ApiError> {
        let options = options_of(&self.input)?;
        let prompt = prompt_of(&self.input)?;
        let seconds = match string_of(&self.input, &options, "seconds")? {
            None => None,
            Some(s) => Some(
                s.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|s| (1..=60).contains(s))
                    .ok_or_else(|| {
                        ApiError::invalid("input.seconds", format!("'{s}' is not 1 to 60 seconds"))
                    })?,
            ),
        };
        let size = string_of(&self.input, &options, "size")?;
        if let Some(size) = &size {
            check_size(size, "input.size")?;
        }
        let image = match self.input.get("image") {
            None | Some(Value::Null) => None,
            Some(v) => Some(aigne_file(v, "input.image")?),
        };
        let mut extra = options.clone();
        extra.retain(|k, _| !ENVELOPE_KEYS.contains(&k.as_str()));
        extra.retain(|k, _| ["aspectRatio", "negativePrompt", "resolution"].contains(&k.as_str()));
        Ok(VideoRequest {
            model: String::new(),
            prompt,
            seconds,
            size,
            image,
            extra,
        })
    }
}

/// The body of an embeddings answer: OpenAI's list (vectors as the provider wrote them, or
/// base64 of their `f32`s), or the AIGNE envelope's shape. Serialised from structs, not
/// `json!`, so each vector keeps the provider's JSON text.
pub fn embeddings_answer(
    done: &hub_core::engine::Done<crate::providers::media::EmbeddingResponse>,
    envelope: bool,
    encoding: Encoding,
    requested_model: &str,
) -> serde_json::Result<Vec<u8>> {
    let usage = done.output.usage;
    if envelope {
        return serde_json::to_vec(&AigneEmbeddings {
            embeddings: &done.output.vectors,
            model: &done.model_with_provider,
            usage: json!({
                "inputTokens": usage.prompt_tokens,
                "outputTokens": 0,
                "aigneHubCredits": credits_number(done.credits),
                "modelCallId": done.call_id,
            }),
        });
    }
    let data: Vec<OpenAiEmbedding> = done
        .output
        .vectors
        .iter()
        .enumerate()
        .map(|(index, v)| OpenAiEmbedding {
            object: "embedding",
            index,
            embedding: match encoding {
                Encoding::Float => Embedding::Float(v),
                Encoding::Base64 => Embedding::Base64(vector_base64(&v.floats())),
            },
        })
        .collect();
    serde_json::to_vec(&OpenAiList {
        object: "list",
        data,
        model: requested_model,
        usage: json!({"prompt_tokens": usage.prompt_tokens, "total_tokens": usage.total()}),
    })
}

/// Credits as a JSON number (the AIGNE client adds them up).
pub fn credits_number(c: rust_decimal::Decimal) -> f64 {
    crate::billing::credits::text(c).parse().unwrap_or(0.0)
}

#[derive(Serialize)]
struct AigneEmbeddings<'a> {
    embeddings: &'a [crate::providers::media::Vector],
    model: &'a str,
    usage: Value,
}

#[derive(Serialize)]
struct OpenAiList<'a> {
    object: &'static str,
    data: Vec<OpenAiEmbedding<'a>>,
    model: &'a str,
    usage: Value,
}

#[derive(Serialize)]
struct OpenAiEmbedding<'a> {
    object: &'static str,
    index: usize,
    embedding: Embedding<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Embedding<'a> {
    Float(&'a crate::providers::media::Vector),
    Base64(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embeddings_both_forms() {
        let body: EmbeddingsBody =
            serde_json::from_value(json!({"model":"openai/text-embedding-3-small","input":"hi"}))
                .expect("body");
        let call = body.into_call().expect("call");
        assert!(!call.envelope);
        assert_eq!(call.request.input, vec!["hi".to_owned()]);
        let body: EmbeddingsBody = serde_json::from_value(json!({
            "input": {"input": ["a", "b"], "modelOptions": {"model": "openai/text-embedding-3-small"}}
        }))
        .expect("body");
        let call = body.into_call().expect("call");
        assert!(call.envelope);
        assert_eq!(call.model.as_deref(), Some("openai/text-embedding-3-small"));
        assert_eq!(call.request.input.len(), 2);
        let bad: EmbeddingsBody = serde_json::from_value(json!({"input": [[1, 2]]})).expect("body");
        let err = bad.into_call().expect_err("token arrays refused");
        assert!(err.to_string().contains("input[0]"), "{err}");
    }

    #[test]
    fn base64_vectors_are_little_endian_f32() {
        let b64 = vector_base64(&[1.0, -2.5]);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("b64");
        assert_eq!(&bytes[0..4], &1.0f32.to_le_bytes());
        assert_eq!(&bytes[4..8], &(-2.5f32).to_le_bytes());
    }

    #[test]
    fn image_bodies_are_checked() {
        let parse = |v: Value| {
            serde_json::from_value::<ImagesBody>(v)
                .expect("body")
                .into_request()
        };
        assert!(parse(json!({"prompt":"a cat","n":2,"size":"1024x1024"})).is_ok());
        let err = parse(json!({"prompt":"a cat","n":11})).expect_err("n");
        assert!(err.to_string().starts_with("n:"), "{err}");
        let err = parse(json!({"prompt":"a cat","size":"huge"})).expect_err("size");
        assert!(err.to_string().starts_with("size:"), "{err}");
        let err = parse(json!({"prompt":" "})).expect_err("prompt");
        assert!(err.to_string().starts_with("prompt:"), "{err}");
        let (_, req) = parse(json!({"prompt":"edit","image":"data:image/png;base64,iVBORw0KGgo="}))
            .expect("edit");
        assert_eq!(req.images[0].mime_type, "image/png");
    }

    #[test]
    fn aigne_envelopes() {
        let env: AigneEnvelope = serde_json::from_value(json!({
            "input": {"prompt": "a fox", "modelOptions": {"model": "openai/dall-e-3", "n": 1, "size": "1024x1024", "background": "transparent", "junk": 1}, "outputFileType": "url"}
        }))
        .expect("env");
        assert_eq!(env.model().as_deref(), Some("openai/dall-e-3"));
        let req = env.image_request().expect("image");
        assert_eq!(req.delivery, Delivery::Url);
        assert!(req.extra.contains_key("background") && !req.extra.contains_key("junk"));
        let env: AigneEnvelope = serde_json::from_value(json!({
            "input": {"prompt": "waves", "seconds": "90", "model": "openai/sora-2"}
        }))
        .expect("env");
        let err = env.video_request().expect_err("seconds");
        assert!(err.to_string().starts_with("input.seconds"), "{err}");
    }
}
