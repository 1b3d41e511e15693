//! The mock upstream's OpenAI media endpoints: embeddings, image generations and edits, speech,
//! transcriptions and Sora video jobs, from fixtures shaped like OpenAI's documented payloads
//! (counts adapted to the request). Keys fail as in `mock.rs` (`mock-500`, `mock-401`, …);
//! `mock-url` answers image URLs (served by the mock itself), `mock-video-fail` fails the job.

use super::mock::{Seen, failure, fixture, record};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

/// A 1×1 PNG.
pub const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
/// The start of an MP4 file.
pub const MP4: &[u8] = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isommock-video";
pub const MP3: &[u8] = b"ID3\x04\0\0\0\0\0\0mock-speech";

pub fn register(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/embeddings", web::post().to(embeddings))
        .route("/v1/images/generations", web::post().to(generations))
        .route("/v1/images/edits", web::post().to(edits))
        .route("/v1/audio/speech", web::post().to(speech))
        .route("/v1/audio/transcriptions", web::post().to(transcriptions))
        .route("/v1/videos", web::post().to(create_video))
        .route("/v1/videos/{id}", web::get().to(get_video))
        .route("/v1/videos/{id}/content", web::get().to(video_content))
        .route("/v1/mock-files/{name}", web::get().to(file));
}

fn ok(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.to_string())
}

async fn embeddings(
    req: HttpRequest,
    body: web::Json<Value>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    let key = record(&req, &body, &seen);
    if let Some(res) = failure(&key, "openai", &seen).await {
        return res;
    }
    let mut answer: Value =
        serde_json::from_str(&fixture("openai/embeddings.json")).expect("fixture");
    let vector = answer["data"][0]["embedding"].clone();
    let inputs = match &body["input"] {
        Value::Array(items) => items.len(),
        _ => 1,
    };
    answer["data"] = (0..inputs)
        .rev()
        .map(|i| json!({"object": "embedding", "index": i, "embedding": vector}))
        .collect();
    answer["model"] = body["model"].clone();
    answer["usage"] = json!({"prompt_tokens": 8 * inputs, "total_tokens": 8 * inputs});
    ok(answer)
}

fn image_answer(req: &HttpRequest, key: &str, n: usize, model: &str, url: bool) -> HttpResponse {
    let mut answer: Value = serde_json::from_str(&fixture("openai/images.json")).expect("fixture");
    let item = answer["data"][0].clone();
    let host = req.connection_info().host().to_owned();
    answer["data"] = (0..n)
        .map(|i| {
            if url || key == "mock-url" {
                json!({"url": format!("http://{host}/v1/mock-files/image-{i}.png"), "revised_prompt": item["revised_prompt"]})
            } else {
                item.clone()
            }
        })
        .collect();
    if !model.starts_with("gpt-image") {
        // DALL·E answers carry no usage.
        answer.as_object_mut().map(|o| o.remove("usage"));
    }
    ok(answer)
}

async fn generations(
    req: HttpRequest,
    body: web::Json<Value>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    let key = record(&req, &body, &seen);
    if let Some(res) = failure(&key, "openai", &seen).await {
        return res;
    }
    let model = body["model"].as_str().unwrap_or("dall-e-2").to_owned();
    if model.starts_with("gpt-image") && body.get("response_format").is_some() {
        return super::mock::error(400, "openai/error-400.json");
    }
    let n = body["n"].as_u64().unwrap_or(1) as usize;
    image_answer(&req, &key, n, &model, body["response_format"] == "url")
}

/// A multipart body's text field (good enough for the mock: fields are short and unique).
fn form_field(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let start = body.find(&marker)? + marker.len();
    let rest = &body[start..];
    let value_start = rest.find("\r\n\r\n")? + 4;
    let value = &rest[value_start..];
    Some(value[..value.find("\r\n")?].to_owned())
}

async fn edits(req: HttpRequest, body: web::Bytes, seen: web::Data<Seen>) -> HttpResponse {
    let text = String::from_utf8_lossy(&body).into_owned();
    let summary = json!({
        "multipart": true,
        "model": form_field(&text, "model"),
        "prompt": form_field(&text, "prompt"),
        "images": text.matches("form-data; name=\"image").count(),
    });
    let key = record(&req, &summary, &seen);
    if let Some(res) = failure(&key, "openai", &seen).await {
        return res;
    }
    let model = form_field(&text, "model").unwrap_or_default();
    let n = form_field(&text, "n")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    image_answer(&req, &key, n, &model, false)
}

async fn speech(req: HttpRequest, body: web::Json<Value>, seen: web::Data<Seen>) -> HttpResponse {
    let key = record(&req, &body, &seen);
    if let Some(res) = failure(&key, "openai", &seen).await {
        return res;
    }
    HttpResponse::Ok().content_type("audio/mpeg").body(MP3)
}

async fn transcriptions(req: HttpRequest, body: web::Bytes, seen: web::Data<Seen>) -> HttpResponse {
    let text = String::from_utf8_lossy(&body).into_owned();
    let model = form_field(&text, "model").unwrap_or_default();
    let summary = json!({
        "multipart": true,
        "model": model,
        "has_file": text.contains("name=\"file\""),
        "response_format": form_field(&text, "response_format"),
    });
    let key = record(&req, &summary, &seen);
    if let Some(res) = failure(&key, "openai", &seen).await {
        return res;
    }
    if form_field(&text, "response_format").as_deref() == Some("text") {
        return HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("Hello from the mock\n");
    }
    let mut answer: Value =
        serde_json::from_str(&fixture("openai/transcription.json")).expect("fixture");
    if model == "whisper-1" {
        answer["usage"] = json!({"type": "duration", "seconds": 3});
    }
    ok(answer)
}

async fn create_video(req: HttpRequest, body: web::Bytes, seen: web::Data<Seen>) -> HttpResponse {
    let text = String::from_utf8_lossy(&body).into_owned();
    let summary = json!({
        "multipart": true,
        "model": form_field(&text, "model"),
        "prompt": form_field(&text, "prompt"),
        "seconds": form_field(&text, "seconds"),
        "input_reference": text.contains("name=\"input_reference\""),
    });
    let key = record(&req, &summary, &seen);
    if let Some(res) = failure(&key, "openai", &seen).await {
        return res;
    }
    let mut job: Value = serde_json::from_str(&fixture("openai/video.json")).expect("fixture");
    if let Some(s) = form_field(&text, "seconds") {
        job["seconds"] = json!(s);
    }
    job["model"] = json!(form_field(&text, "model"));
    let id = format!("video_{}_{}", key.replace('-', ""), seen.next_id());
    job["id"] = json!(id);
    seen.jobs.lock().expect("jobs").insert(id, (job.clone(), 0));
    ok(job)
}

async fn get_video(req: HttpRequest, id: web::Path<String>, seen: web::Data<Seen>) -> HttpResponse {
    let key = record(&req, &Value::Null, &seen);
    let mut jobs = seen.jobs.lock().expect("jobs");
    let Some((job, polls)) = jobs.get_mut(id.as_str()) else {
        return super::mock::error(404, "openai/error-400.json");
    };
    *polls += 1;
    // Queued → in progress → completed on the third poll.
    let (status, progress) = match *polls {
        1 => ("in_progress", 33),
        2 => ("in_progress", 66),
        _ => ("completed", 100),
    };
    job["status"] = json!(status);
    job["progress"] = json!(progress);
    if key == "mock-video-fail" && *polls >= 2 {
        job["status"] = json!("failed");
        job["error"] = json!({"code": "moderation_blocked", "message": "Your request was blocked by our moderation system."});
    }
    ok(job.clone())
}

async fn video_content(
    req: HttpRequest,
    id: web::Path<String>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    record(&req, &Value::Null, &seen);
    let jobs = seen.jobs.lock().expect("jobs");
    match jobs.get(id.as_str()) {
        Some((job, _)) if job["status"] == "completed" => {
            HttpResponse::Ok().content_type("video/mp4").body(MP4)
        }
        _ => super::mock::error(404, "openai/error-400.json"),
    }
}

async fn file() -> HttpResponse {
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(PNG_B64)
        .expect("png");
    HttpResponse::Ok().content_type("image/png").body(png)
}
