//! OpenAI's audio endpoints, v2 and v1: `POST …/audio/speech` (JSON in, audio bytes out) and
//! `POST …/audio/transcriptions` (multipart in, the provider's body out), both passed through
//! with the model rewritten to the provider's id, recorded as `audio` calls.

use super::gateway as unary;
use super::gateway::CallContext;
use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult};
use crate::http::ApiJson;
use crate::providers::Modality;
use crate::providers::media::{InputFile, Measure, SpeechRequest, TranscriptionRequest};
use crate::routing::model_name;
use crate::state::{AppState, WorkerHttp};
use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

pub const DEFAULT_SPEECH_MODEL: &str = "openai/gpt-4o-mini-tts";
pub const DEFAULT_TRANSCRIPTION_MODEL: &str = "openai/whisper-1";

/// Longest text OpenAI turns into speech.
const MAX_SPEECH_CHARS: usize = 4096;

pub async fn speech(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<HttpResponse> {
    let requested = requested(&body, DEFAULT_SPEECH_MODEL)?;
    let ctx = super::gateway::context(&req, &me, requested, false, &state.instance_id)
        .of(Modality::Speech);
    speech_answer(&state, &http.0, ctx, body).await
}

fn requested(body: &Map<String, Value>, default: &str) -> ApiResult<String> {
    match body.get("model") {
        None | Some(Value::Null) => Ok(default.to_owned()),
        Some(Value::String(m)) => Ok(model_name::requested_or(Some(m), default)),
        Some(_) => Err(ApiError::invalid("model", "must be a string")),
    }
}

pub async fn speech_answer(
    state: &AppState,
    http: &reqwest::Client,
    ctx: CallContext,
    mut body: Map<String, Value>,
) -> ApiResult<HttpResponse> {
    let input = match body.get("input") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(ApiError::invalid("input", "must not be empty")),
        Some(_) => return Err(ApiError::invalid("input", "must be a string")),
        None => return Err(ApiError::invalid("input", "is required")),
    };
    let characters = input.chars().count();
    if characters > MAX_SPEECH_CHARS {
        return Err(ApiError::invalid(
            "input",
            format!("{characters} characters; at most {MAX_SPEECH_CHARS}"),
        ));
    }
    if !matches!(
        body.get("voice"),
        Some(Value::String(_)) | Some(Value::Object(_))
    ) {
        return Err(ApiError::invalid("voice", "is required (e.g. \"alloy\")"));
    }
    body.remove("model");
    let model = state.router.resolve(&ctx.requested_model)?;
    let mut plan = state.router.plan_for(&model, Modality::Speech)?;
    let request = SpeechRequest {
        model: model.model.clone(),
        body,
        characters: characters as u64,
    };
    let request = &request;
    let chars = Decimal::from(characters as u64);
    let done = unary::run(
        state,
        &ctx,
        Modality::Speech,
        &model.model,
        &mut plan,
        |r| chars * r.input,
        |up| async move {
            let out = up
                .provider
                .speech(http, &up.target(), request, &state.timeouts)
                .await?;
            let measure = Measure {
                characters: request.characters,
                ..Measure::default()
            };
            Ok((out, measure))
        },
    )
    .await?;
    Ok(passed_through(
        &ctx,
        done.upstream_ms,
        done.output.content_type,
        done.output.data,
    ))
}

/// The provider's body as it came, with its content type.
fn passed_through(
    ctx: &CallContext,
    upstream_ms: f64,
    content_type: String,
    body: bytes::Bytes,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "server-timing",
            super::gateway::server_timing(ctx, upstream_ms),
        ))
        .body(body)
}

/// The fields of a transcription upload: the file and the text fields, bounded by the request
/// size limit (413 beyond it).
pub async fn read_upload(
    mut form: Multipart,
    limit: usize,
) -> ApiResult<(Option<InputFile>, Vec<(String, String)>)> {
    let mut file = None;
    let mut fields = Vec::new();
    let mut total = 0usize;
    while let Some(item) = form.next().await {
        let mut field = item.map_err(|e| multipart_error(&e, limit))?;
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mime = field.content_type().map(|m| m.essence_str().to_owned());
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| multipart_error(&e, limit))?;
            total += chunk.len();
            if total > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            data.extend_from_slice(&chunk);
        }
        if name == "file" {
            if data.is_empty() {
                return Err(ApiError::invalid("file", "is empty"));
            }
            let mime_type = mime
                .filter(|m| m != "application/octet-stream")
                .or_else(|| filename.as_deref().and_then(audio_mime))
                .unwrap_or_else(|| "application/octet-stream".to_owned());
            file = Some(InputFile {
                data: data.into(),
                mime_type,
                filename,
            });
        } else {
            let text = String::from_utf8(data)
                .map_err(|_| ApiError::invalid(name.clone(), "must be UTF-8 text"))?;
            fields.push((name, text));
        }
    }
    Ok((file, fields))
}

fn multipart_error(e: &actix_multipart::MultipartError, limit: usize) -> ApiError {
    let text = e.to_string();
    if text.contains("overflow") || text.contains("too large") {
        ApiError::PayloadTooLarge { limit }
    } else {
        ApiError::bad_request("invalid_multipart", format!("cannot read the form: {text}"))
    }
}

fn audio_mime(filename: &str) -> Option<String> {
    let ext = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    let mime = match ext.as_str() {
        "mp3" | "mpga" | "mpeg" => "audio/mpeg",
        "wav" => "audio/wav",
        "m4a" | "mp4" => "audio/mp4",
        "webm" => "audio/webm",
        "ogg" => "audio/ogg",
        "flac" => "audio/flac",
        _ => return None,
    };
    Some(mime.to_owned())
}

pub async fn transcriptions(
    req: HttpRequest,
    Authenticated(me): Authenticated,
    state: web::Data<AppState>,
    http: web::Data<WorkerHttp>,
    form: Multipart,
) -> ApiResult<HttpResponse> {
    let (file, fields) = read_upload(form, state.settings.request_entity_size_limit).await?;
    let model = fields
        .iter()
        .find(|(k, _)| k == "model")
        .map(|(_, v)| v.clone());
    let requested = model_name::requested_or(model.as_deref(), DEFAULT_TRANSCRIPTION_MODEL);
    let ctx = super::gateway::context(&req, &me, requested, false, &state.instance_id)
        .of(Modality::Transcription);
    transcription_answer(&state, &http.0, ctx, file, fields).await
}

pub async fn transcription_answer(
    state: &AppState,
    http: &reqwest::Client,
    ctx: CallContext,
    file: Option<InputFile>,
    mut fields: Vec<(String, String)>,
) -> ApiResult<HttpResponse> {
    let file =
        file.ok_or_else(|| ApiError::invalid("file", "is required (the audio to transcribe)"))?;
    fields.retain(|(k, _)| k != "model" && k != "stream");
    let model = state.router.resolve(&ctx.requested_model)?;
    let mut plan = state.router.plan_for(&model, Modality::Transcription)?;
    // About 16 kB per second of compressed speech: what the admission holds.
    let held_seconds = Decimal::from((file.data.len() as u64 / 16_000).max(1));
    let request = TranscriptionRequest {
        model: model.model.clone(),
        file,
        fields,
    };
    let request = &request;
    let done = unary::run(
        state,
        &ctx,
        Modality::Transcription,
        &model.model,
        &mut plan,
        |r| held_seconds * r.input,
        |up| async move {
            let out = up
                .provider
                .transcribe(http, &up.target(), request, &state.timeouts)
                .await?;
            let measure = Measure {
                usage: out.usage,
                seconds: if out.usage.total() > 0 {
                    None
                } else {
                    out.seconds
                },
                ..Measure::default()
            };
            Ok((out, measure))
        },
    )
    .await?;
    Ok(passed_through(
        &ctx,
        done.upstream_ms,
        done.output.content_type,
        done.output.data,
    ))
}
