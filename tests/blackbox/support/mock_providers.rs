//! The mock upstream's other providers, from fixtures shaped like their documentation: Bedrock
//! (Converse JSON, ConverseStream as AWS binary event-stream frames, InvokeModel embeddings; the
//! SigV4 `Authorization` header is required and its access key id is the behaviour key), Ollama's
//! native API (`/api/chat` JSON and NDJSON, `/api/embed`), Google's embeddings, Imagen and Veo
//! (an operation polled once), and Ideogram (multipart, `Api-Key`).

use super::mock::{Seen, error, failure, fixture, record};
use super::mock_media::MP4;
use actix_web::{HttpRequest, HttpResponse, web};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use serde_json::{Value, json};
use std::time::Duration;

pub fn register(cfg: &mut web::ServiceConfig) {
    cfg.route("/model/{id}/converse", web::post().to(converse))
        .route(
            "/model/{id}/converse-stream",
            web::post().to(converse_stream),
        )
        .route("/model/{id}/invoke", web::post().to(invoke))
        .route("/foundation-models", web::get().to(foundation_models))
        .route("/api/chat", web::post().to(ollama_chat))
        .route("/api/embed", web::post().to(ollama_embed))
        .route("/api/tags", web::get().to(ollama_tags))
        .route("/v1/ideogram-v3/generate", web::post().to(ideogram))
        .route("/v1/ideogram-v3/remix", web::post().to(ideogram))
        .route(
            "/v1beta/models/{model}/operations/{op}",
            web::get().to(veo_operation),
        )
        .route("/v1beta/files/{file}", web::get().to(veo_file));
}

fn ok(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body.to_string())
}

/// Bedrock refuses a request without a SigV4 signature for its region's `bedrock` scope.
fn unsigned(req: &HttpRequest) -> Option<HttpResponse> {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let signed = auth.starts_with("AWS4-HMAC-SHA256 Credential=")
        && auth.contains("/bedrock/aws4_request")
        && auth.contains("SignedHeaders=")
        && auth.contains("Signature=")
        && req.headers().contains_key("x-amz-date");
    (!signed).then(|| error(403, "bedrock/error-403.json"))
}

/// Records a Bedrock call (model id and the `Authorization` header with the body) and refuses
/// it when unsigned or when its key asks to fail; else its key.
async fn admit(
    req: &HttpRequest,
    id: &str,
    body: &Value,
    seen: &Seen,
) -> Result<String, HttpResponse> {
    let mut recorded = body.clone();
    recorded["modelId"] = json!(id);
    recorded["authorization"] = json!(
        req.headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
    );
    let key = record(req, &recorded, seen);
    if let Some(res) = unsigned(req) {
        return Err(res);
    }
    match failure(&key, "bedrock", seen).await {
        Some(res) => Err(res),
        None => Ok(key),
    }
}

async fn converse(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Value>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    if let Err(res) = admit(&req, &id, &body, &seen).await {
        return res;
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(fixture(if bedrock_calls(&id, &body) {
            "bedrock/converse.tools.json"
        } else {
            "bedrock/converse.json"
        }))
}

/// A `…tool-caller…` model asks for `get_weather` until the conversation holds a tool result.
fn bedrock_calls(id: &str, body: &Value) -> bool {
    let answered = body["messages"].as_array().is_some_and(|m| {
        m.iter().any(|m| {
            m["content"]
                .as_array()
                .is_some_and(|c| c.iter().any(|b| b.get("toolResult").is_some()))
        })
    });
    id.contains("tool-caller") && !answered
}

/// The same for Ollama, whose tool results are `tool` messages.
fn ollama_calls(body: &Value) -> bool {
    let answered = body["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"));
    body["model"]
        .as_str()
        .is_some_and(|m| m.contains("tool-caller"))
        && !answered
}

fn frame(event: &str, payload: &Value) -> Bytes {
    let message = Message::new(Bytes::from(payload.to_string()))
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ));
    let mut out = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut out).expect("frame");
    Bytes::from(out)
}

async fn converse_stream(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Value>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    let key = match admit(&req, &id, &body, &seen).await {
        Ok(key) => key,
        Err(res) => return res,
    };
    let file = if bedrock_calls(&id, &body) {
        "bedrock/converse.tools.stream.jsonl"
    } else {
        "bedrock/converse.stream.jsonl"
    };
    let frames: Vec<Bytes> = fixture(file)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("event");
            frame(v["event"].as_str().expect("event"), &v["payload"])
        })
        .collect();
    let slow = key == "mock-slow";
    let cut = key == "mock-cut";
    let stream = async_stream::stream! {
        for (i, f) in frames.into_iter().enumerate() {
            if slow && i > 0 {
                actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            }
            if cut && i == 3 {
                // An exception frame mid-stream, as Bedrock sends one.
                let message = Message::new(Bytes::from(r#"{"message":"Model is overloaded"}"#))
                    .add_header(Header::new(":exception-type", HeaderValue::String("serviceUnavailableException".into())))
                    .add_header(Header::new(":content-type", HeaderValue::String("application/json".into())))
                    .add_header(Header::new(":message-type", HeaderValue::String("exception".into())));
                let mut out = Vec::new();
                aws_smithy_eventstream::frame::write_message_to(&message, &mut out).expect("frame");
                yield Ok::<_, std::io::Error>(Bytes::from(out));
                return;
            }
            // Split each frame in two writes: the Hub must reassemble frames across chunks.
            let half = f.len() / 2;
            yield Ok(f.slice(..half));
            yield Ok(f.slice(half..));
        }
    };
    HttpResponse::Ok()
        .content_type("application/vnd.amazon.eventstream")
        .streaming(stream)
}

async fn invoke(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Value>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    if let Err(res) = admit(&req, &id, &body, &seen).await {
        return res;
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(fixture("bedrock/titan-embed.json"))
}

async fn foundation_models(req: HttpRequest, seen: web::Data<Seen>) -> HttpResponse {
    let key = record(&req, &Value::Null, &seen);
    if req.headers().get("authorization").is_none() {
        return error(403, "bedrock/error-403.json");
    }
    if let Some(res) = failure(&key, "bedrock", &seen).await {
        return res;
    }
    ok(json!({"modelSummaries": []}))
}

async fn ollama_chat(
    req: HttpRequest,
    body: web::Json<Value>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    let key = record(&req, &body, &seen);
    if let Some(res) = failure(&key, "ollama", &seen).await {
        return res;
    }
    let model = body["model"].as_str().unwrap_or("llama3.2").to_owned();
    if body["stream"] == false {
        let file = if ollama_calls(&body) {
            "ollama/chat.tools.json"
        } else {
            "ollama/chat.json"
        };
        let mut answer: Value = serde_json::from_str(&fixture(file)).expect("fixture");
        answer["model"] = json!(model);
        return ok(answer);
    }
    let file = if ollama_calls(&body) {
        "ollama/chat.tools.stream.jsonl"
    } else {
        "ollama/chat.stream.jsonl"
    };
    let lines: Vec<Bytes> = fixture(file)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Bytes::from(format!("{l}\n")))
        .collect();
    let slow = key == "mock-slow";
    let stream = async_stream::stream! {
        for (i, line) in lines.into_iter().enumerate() {
            if slow && i > 0 {
                actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            }
            yield Ok::<_, std::io::Error>(line);
        }
    };
    HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(stream)
}

async fn ollama_embed(
    req: HttpRequest,
    body: web::Json<Value>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    let key = record(&req, &body, &seen);
    if let Some(res) = failure(&key, "ollama", &seen).await {
        return res;
    }
    let mut answer: Value = serde_json::from_str(&fixture("ollama/embed.json")).expect("fixture");
    let vector = answer["embeddings"][0].clone();
    let n = body["input"].as_array().map_or(1, Vec::len);
    answer["embeddings"] = (0..n).map(|_| vector.clone()).collect();
    answer["model"] = body["model"].clone();
    ok(answer)
}

async fn ollama_tags(req: HttpRequest, seen: web::Data<Seen>) -> HttpResponse {
    record(&req, &Value::Null, &seen);
    ok(json!({"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest"}]}))
}

async fn ideogram(req: HttpRequest, body: web::Bytes, seen: web::Data<Seen>) -> HttpResponse {
    let text = String::from_utf8_lossy(&body).into_owned();
    let field = |name: &str| {
        let marker = format!("name=\"{name}\"");
        let start = text.find(&marker)? + marker.len();
        let rest = &text[start..];
        let v = &rest[rest.find("\r\n\r\n")? + 4..];
        Some(v[..v.find("\r\n")?].to_owned())
    };
    let summary = json!({
        "multipart": true,
        "path": req.path(),
        "prompt": field("prompt"),
        "num_images": field("num_images"),
        "aspect_ratio": field("aspect_ratio"),
        "has_image": text.contains("name=\"image\""),
    });
    let key = record(&req, &summary, &seen);
    if let Some(res) = failure(&key, "ideogram", &seen).await {
        return res;
    }
    let mut answer: Value =
        serde_json::from_str(&fixture("ideogram/generate.json")).expect("fixture");
    let item = answer["data"][0].clone();
    let host = req.connection_info().host().to_owned();
    let n: usize = field("num_images")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    answer["data"] = (0..n)
        .map(|i| {
            let mut it = item.clone();
            it["url"] = json!(format!("http://{host}/v1/mock-files/ideogram-{i}.png"));
            it
        })
        .collect();
    ok(answer)
}

/// Google's media verbs on `/v1beta/models/{model}:{verb}` (chat verbs stay in `mock.rs`).
pub async fn gemini_media(
    req: &HttpRequest,
    model: &str,
    verb: &str,
    body: &Value,
    seen: &Seen,
) -> HttpResponse {
    match verb {
        "batchEmbedContents" => {
            let mut answer: Value =
                serde_json::from_str(&fixture("google/embed.json")).expect("fixture");
            let vector = answer["embeddings"][0].clone();
            let n = body["requests"].as_array().map_or(1, Vec::len);
            answer["embeddings"] = (0..n).map(|_| vector.clone()).collect();
            ok(answer)
        }
        "predict" => {
            let mut answer: Value =
                serde_json::from_str(&fixture("google/imagen.json")).expect("fixture");
            let item = answer["predictions"][0].clone();
            let n = body
                .pointer("/parameters/sampleCount")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            answer["predictions"] = (0..n).map(|_| item.clone()).collect();
            ok(answer)
        }
        "predictLongRunning" => {
            let id = format!("op{}", seen.next_id());
            seen.jobs
                .lock()
                .expect("jobs")
                .insert(id.clone(), (body.clone(), 0));
            ok(json!({"name": format!("models/{model}/operations/{id}")}))
        }
        _ => {
            let _ = req;
            HttpResponse::NotFound().finish()
        }
    }
}

async fn veo_operation(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    let key = record(&req, &Value::Null, &seen);
    let (model, op) = path.into_inner();
    let mut jobs = seen.jobs.lock().expect("jobs");
    let Some((_, polls)) = jobs.get_mut(&op) else {
        return error(404, "google/error-500.json");
    };
    *polls += 1;
    if *polls < 2 {
        return ok(json!({"name": format!("models/{model}/operations/{op}"), "done": false}));
    }
    if key == "mock-video-fail" {
        return ok(
            json!({"name": format!("models/{model}/operations/{op}"), "done": true,
            "error": {"code": 3, "message": "The prompt was blocked by safety filters."}}),
        );
    }
    let mut answer: Value =
        serde_json::from_str(&fixture("google/veo-operation.json")).expect("fixture");
    answer["name"] = json!(format!("models/{model}/operations/{op}"));
    let host = req.connection_info().host().to_owned();
    answer["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"] = json!(
        format!("http://{host}/v1beta/files/{op}:download?alt=media")
    );
    ok(answer)
}

async fn veo_file(req: HttpRequest, seen: web::Data<Seen>) -> HttpResponse {
    let key = record(&req, &Value::Null, &seen);
    if key == "none" {
        return error(403, "google/error-401.json");
    }
    HttpResponse::Ok().content_type("video/mp4").body(MP4)
}
