//! A mock upstream speaking OpenAI (`/v1/chat/completions`) and Anthropic (`/v1/messages`), JSON
//! and SSE, replaying fixtures shaped like the providers' documented payloads. The Bearer key picks the behaviour, so tests set up failover with credentials:
//! `mock-ok`, `mock-json` (answers a JSON object), `mock-flaky` (401 until `heal`), `mock-broke` (an empty OpenAI account: chat refused, models listed), `mock-500`, `mock-401`, `mock-429`, `mock-cut` (stream breaks after two chunks),
//! `mock-slow` (a chunk every 300 ms; a JSON answer after 300 ms), `mock-long` (400 words, one every 25 ms), `mock-stall` (stream stops after two chunks), `mock-hang` (never answers),
//! `mock-err:{provider}/{name}` (a real error answer from `tests/fixtures/errors/`). Calls are counted per key.
//! OpenAI chat models named `…vanished…` do not exist (404); `…ailing…` answer 503 until `heal`.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures");

#[derive(Clone, Default)]
pub struct Seen {
    calls: Arc<Mutex<HashMap<String, usize>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
    keys: Arc<Mutex<Vec<String>>>,
    /// Each call's path and query exactly as received (still percent-encoded).
    paths: Arc<Mutex<Vec<String>>>,
    /// Each call's Anthropic headers (`anthropic-version`, `anthropic-beta`), as received.
    headers: Arc<Mutex<Vec<HashMap<String, String>>>>,
    /// `mock-flaky` answers 401 until healed.
    healed: Arc<std::sync::atomic::AtomicBool>,
    /// Video jobs: id → (job, polls so far).
    pub jobs: Arc<Mutex<HashMap<String, (Value, u32)>>>,
    ids: Arc<std::sync::atomic::AtomicU64>,
}

impl Seen {
    pub fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }
}

pub struct MockUpstream {
    pub base: String,
    seen: Seen,
    handle: actix_web::dev::ServerHandle,
}

/// Records a call and returns the key it used (Bearer, or Anthropic's `x-api-key`).
pub fn record(req: &HttpRequest, body: &Value, seen: &Seen) -> String {
    let key = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| req.headers().get("x-api-key").and_then(|v| v.to_str().ok()))
        .or_else(|| {
            req.headers()
                .get("x-goog-api-key")
                .and_then(|v| v.to_str().ok())
        })
        .or_else(|| req.headers().get("api-key").and_then(|v| v.to_str().ok()))
        .or_else(|| {
            // SigV4: the access key id of `Credential=<id>/<date>/…`.
            req.headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("AWS4-HMAC-SHA256 Credential="))
                .and_then(|v| v.split('/').next())
        })
        .unwrap_or("none")
        .to_owned();
    *seen
        .calls
        .lock()
        .expect("calls")
        .entry(key.clone())
        .or_default() += 1;
    seen.bodies.lock().expect("bodies").push(body.clone());
    seen.keys.lock().expect("keys").push(key.clone());
    seen.paths
        .lock()
        .expect("paths")
        .push(req.uri().to_string());
    let headers = ["anthropic-version", "anthropic-beta"]
        .iter()
        .filter_map(|name| {
            let value = req.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect();
    seen.headers.lock().expect("headers").push(headers);
    key
}

/// Fails the way `key` asks, if it asks.
pub async fn failure(key: &str, family: &str, seen: &Seen) -> Option<HttpResponse> {
    if key == "mock-flaky" && !seen.healed.load(std::sync::atomic::Ordering::SeqCst) {
        return Some(error(401, &format!("{family}/error-401.json")));
    }
    if let Some(name) = key.strip_prefix("mock-err:") {
        return Some(recorded_error(name));
    }
    match key {
        "mock-broke" => Some(recorded_error("openai/insufficient-quota")),
        "mock-500" => Some(error(500, &format!("{family}/error-500.json"))),
        "mock-401" => Some(error(401, &format!("{family}/error-401.json"))),
        "mock-429" => Some(error(429, &format!("{family}/error-429.json"))),
        "mock-hang" => {
            actix_web::rt::time::sleep(Duration::from_secs(3600)).await;
            None
        }
        _ => None,
    }
}

/// A model named `…tool-caller…` asks for a tool (the fixtures' `get_weather`) until the
/// conversation holds a tool result, then answers in text, as a real model does in a tool loop.
fn asks_for_tool(body: &Value) -> bool {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    model.contains("tool-caller") && !answered(body)
}

/// The conversation holds a tool result (OpenAI's `tool` message or Anthropic's block).
fn answered(body: &Value) -> bool {
    body["messages"].as_array().is_some_and(|m| {
        m.iter().any(|m| {
            m["role"] == "tool"
                || m["content"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|b| b["type"] == "tool_result"))
        })
    })
}

/// A Gemini conversation holds a function response.
fn gemini_answered(body: &Value) -> bool {
    body["contents"].as_array().is_some_and(|c| {
        c.iter().any(|c| {
            c["parts"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p.get("functionResponse").is_some()))
        })
    })
}

/// SSE frames of `lines` (already `data`/`event` text), paced and cut per the key.
fn sse(key: &str, frames: Vec<String>) -> HttpResponse {
    let cut = key == "mock-cut";
    let slow = key == "mock-slow";
    let stall = key == "mock-stall";
    let long = key == "mock-long";
    let body = async_stream::stream! {
        for (i, frame) in frames.iter().enumerate() {
            if slow && i > 0 {
                actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            }
            if long && i > 0 {
                actix_web::rt::time::sleep(LONG_PACE).await;
            }
            if cut && i > 0 {
                // Paced, so the first chunks are on the wire before the cut.
                actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            }
            if stall && i == 2 {
                actix_web::rt::time::sleep(Duration::from_secs(3600)).await;
            }
            if cut && i == 3 {
                yield Err(std::io::Error::other("mock cut the stream"));
                return;
            }
            yield Ok::<_, std::io::Error>(Bytes::from(frame.clone()));
        }
    };
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(body)
}

/// OpenAI's Responses API, for clients run straight at the mock (the baseline of what the Hub
/// adds): the documented answer, or its typed event stream.
async fn responses(
    req: HttpRequest,
    body: web::Json<Value>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    let key = record(&req, &body, &seen);
    if let Some(res) = failure(&key, "openai", &seen).await {
        return res;
    }
    // As OpenAI with `store: false`: reasoning comes back only as encrypted content, which only
    // the account that wrote it can read, and an item without it cannot be looked up.
    let items = body["input"].as_array().cloned().unwrap_or_default();
    for item in items.iter().filter(|i| i["type"] == "reasoning") {
        let id = item["id"].as_str().unwrap_or_default();
        let message = match item["encrypted_content"].as_str() {
            None => format!(
                "Item with id '{id}' not found. Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input."
            ),
            Some(text) if text != sealed_by(&key) => {
                format!("The encrypted content for item {id} could not be verified.")
            }
            Some(_) => continue,
        };
        return HttpResponse::BadRequest().json(serde_json::json!({"error": {
            "message": message, "type": "invalid_request_error", "param": null,
            "code": "invalid_encrypted_content"}}));
    }
    let tools = body["model"]
        .as_str()
        .is_some_and(|m| m.contains("tool-caller"))
        && !items.iter().any(|i| i["type"] == "function_call_output");
    let name = if tools {
        "responses.tools"
    } else {
        "responses"
    };
    if body["stream"] != true {
        let mut answer: Value =
            serde_json::from_str(&fixture(&format!("openai/{name}.json"))).expect("fixture");
        // OpenAI echoes the request's parameters.
        for field in [
            "instructions",
            "metadata",
            "max_output_tokens",
            "tools",
            "store",
        ] {
            if let Some(v) = body.get(field) {
                answer[field] = v.clone();
            }
        }
        let encrypted = body["include"]
            .as_array()
            .is_some_and(|i| i.iter().any(|v| v == "reasoning.encrypted_content"));
        if encrypted && let Some(output) = answer["output"].as_array_mut() {
            output.insert(
                0,
                serde_json::json!({"id": "rs_68af40315e3c8193b3e8c8f0d3b5e1a905438e46b5f69a3b",
                "type": "reasoning", "summary": [], "encrypted_content": sealed_by(&key)}),
            );
        }
        return HttpResponse::Ok().json(answer);
    }
    sse(&key, typed_frames(&format!("openai/{name}.stream.jsonl")))
}

/// The encrypted reasoning the mock's account `key` writes (and alone reads).
fn sealed_by(key: &str) -> String {
    format!("gAAAAABo-{key}-reasoning")
}

/// Anthropic's token count: refuses generation settings as Anthropic does, then counts a word
/// per token (enough to tell the count came from here).
async fn count_tokens(
    req: HttpRequest,
    body: web::Json<Value>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    let key = record(&req, &body, &seen);
    if let Some(res) = failure(&key, "anthropic", &seen).await {
        return res;
    }
    if let Some(extra) = ["max_tokens", "stream", "temperature"]
        .into_iter()
        .find(|f| body.get(*f).is_some())
    {
        return HttpResponse::BadRequest().json(json!({"type": "error", "error": {"type": "invalid_request_error", "message": format!("{extra}: Extra inputs are not permitted")}}));
    }
    let words = body.to_string().split_whitespace().count();
    HttpResponse::Ok().json(json!({"input_tokens": 1000 + words}))
}

async fn messages(req: HttpRequest, body: web::Json<Value>, seen: web::Data<Seen>) -> HttpResponse {
    let key = record(&req, &body, &seen);
    if let Some(res) = failure(&key, "anthropic", &seen).await {
        return res;
    }
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("claude")
        .to_owned();
    if !body.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        if key == "mock-slow" {
            actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        }
        let file = if asks_for_tool(&body) {
            "anthropic/message.tools.json"
        } else {
            "anthropic/message.json"
        };
        let mut answer: Value = serde_json::from_str(&fixture(file)).expect("fixture");
        answer["model"] = Value::String(model);
        return HttpResponse::Ok()
            .content_type("application/json")
            .body(answer.to_string());
    }
    // The stream's fixture asks for `get_weather`; a client that does not offer that tool (Claude
    // Code) gets the request once and, after its error result, an answer in text.
    let offers_weather = body["tools"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["name"] == "get_weather"));
    let file = if answered(&body) && !offers_weather {
        "anthropic/message.text.stream.jsonl"
    } else {
        "anthropic/message.stream.jsonl"
    };
    sse(&key, typed_frames(file))
}

/// A fixture of typed events (one JSON object per line) as SSE frames named by their `type`, as
/// Anthropic's and OpenAI's Responses streams are.
fn typed_frames(file: &str) -> Vec<String> {
    fixture(file)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let kind = serde_json::from_str::<Value>(l).expect("event")["type"]
                .as_str()
                .unwrap_or("x")
                .to_owned();
            format!("event: {kind}\ndata: {l}\n\n")
        })
        .collect()
}

/// `mock-long`: an OpenAI stream of this many words, one every [`LONG_PACE`] (10 s in all).
pub const LONG_WORDS: usize = 400;
pub const LONG_PACE: Duration = Duration::from_millis(25);

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}"))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

async fn gemini(
    req: HttpRequest,
    action: web::Path<String>,
    body: web::Json<Value>,
    seen: web::Data<Seen>,
) -> HttpResponse {
    let key = record(&req, &body, &seen);
    if let Some(res) = failure(&key, "google", &seen).await {
        return res;
    }
    let Some((model, verb)) = action.split_once(':') else {
        return HttpResponse::NotFound().finish();
    };
    match verb {
        "batchEmbedContents" | "predict" | "predictLongRunning" => {
            super::mock_providers::gemini_media(&req, model, verb, &body, &seen).await
        }
        "generateContent" => HttpResponse::Ok()
            .content_type("application/json")
            .body(fixture(
                if model.contains("tool-caller") && !gemini_answered(&body) {
                    "google/generate.tools.json"
                } else {
                    "google/generate.json"
                },
            )),
        // Gemini's count: a word per token (enough to tell the count came from here).
        "countTokens" => {
            let words = body.to_string().split_whitespace().count();
            HttpResponse::Ok().json(json!({"totalTokens": 1000 + words}))
        }
        "streamGenerateContent" if req.query_string().contains("alt=sse") => {
            // The fixture ends with a function call: only a `…tool-caller…` model not yet
            // answered makes it, as with the other families.
            let calls = model.contains("tool-caller") && !gemini_answered(&body);
            let frames = fixture("google/generate.stream.jsonl")
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    if calls || !l.contains("functionCall") {
                        return format!("data: {l}\r\n\r\n");
                    }
                    let mut chunk: Value = serde_json::from_str(l).expect("fixture chunk");
                    chunk["candidates"][0]["content"]["parts"] = json!([]);
                    format!("data: {chunk}\r\n\r\n")
                })
                .collect();
            sse(&key, frames)
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

async fn chat(req: HttpRequest, body: web::Json<Value>, seen: web::Data<Seen>) -> HttpResponse {
    let key = record(&req, &body, &seen);
    if let Some(res) = failure(&key, "openai", &seen).await {
        return res;
    }
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt")
        .to_owned();
    // Models that fail whatever the key: one that does not exist, one that is down until `heal`.
    if model.contains("vanished") {
        return recorded_error("openai/model-not-found");
    }
    if model.contains("ailing") && !seen.healed.load(std::sync::atomic::Ordering::SeqCst) {
        return error(503, "openai/error-500.json");
    }
    if !body.get("stream").and_then(Value::as_bool).unwrap_or(false) {
        if key == "mock-slow" {
            actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        }
        let file = if asks_for_tool(&body) {
            "openai/chat.tools.json"
        } else {
            "openai/chat.json"
        };
        let mut answer: Value = serde_json::from_str(&fixture(file)).expect("json fixture");
        answer["model"] = Value::String(model);
        if key == "mock-json" {
            answer["choices"][0]["message"]["content"] = Value::String(r#"{"answer": 42}"#.into());
        }
        return HttpResponse::Ok()
            .content_type("application/json")
            .body(answer.to_string());
    }
    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let file = if asks_for_tool(&body) {
        "openai/chat.tools.stream.jsonl"
    } else {
        "openai/chat.stream.jsonl"
    };
    let mut frames: Vec<String> = fixture(file)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| include_usage || !l.contains("\"usage\""))
        .map(|l| format!("data: {l}\n\n"))
        .collect();
    if key == "mock-long" {
        // 400 words after the first chunk, in place of the fixture's few.
        let words = (0..LONG_WORDS).map(|i| {
            let chunk = json!({"id": "chatcmpl-long", "object": "chat.completion.chunk",
                "created": 1, "model": model,
                "choices": [{"index": 0, "delta": {"content": format!("word{i} ")}, "finish_reason": null}]});
            format!("data: {chunk}\n\n")
        });
        frames.splice(1..frames.len() - 1, words);
    }
    frames.push("data: [DONE]\n\n".to_owned());
    sse(&key, frames)
}

/// `GET /v1/models`: the OpenAI model list (used by the Hub's credential re-check).
async fn models(req: HttpRequest, seen: web::Data<Seen>) -> HttpResponse {
    let key = record(&req, &Value::Null, &seen);
    // An empty account still lists models.
    if key != "mock-broke"
        && let Some(res) = failure(&key, "openai", &seen).await
    {
        return res;
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"object":"list","data":[{"id":"gpt-5-mini","object":"model","created":1,"owned_by":"openai"}]}"#)
}

/// A provider's real error answer from `tests/fixtures/errors/{name}.json`
/// (`{status, headers?, body}`), replayed as it came.
pub fn recorded_error(name: &str) -> HttpResponse {
    let fixture: Value =
        serde_json::from_str(&fixture(&format!("errors/{name}.json"))).expect("error fixture");
    let status = fixture["status"].as_u64().expect("status") as u16;
    let mut res =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"));
    if let Some(headers) = fixture["headers"].as_object() {
        for (k, v) in headers {
            res.insert_header((k.as_str(), v.as_str().expect("header value")));
        }
    }
    res.content_type("application/json")
        .body(fixture["body"].to_string())
}

pub fn error(status: u16, file: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"))
        .content_type("application/json")
        .body(fixture(file))
}

impl MockUpstream {
    pub fn start() -> MockUpstream {
        let seen = Seen::default();
        let data = web::Data::new(seen.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind mock");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/v1/chat/completions", web::post().to(chat))
                        .route("/v1/messages", web::post().to(messages))
                        .route("/v1/responses", web::post().to(responses))
                        .route("/v1/messages/count_tokens", web::post().to(count_tokens))
                        .route("/v1/models", web::get().to(models))
                        .route("/v1beta/models/{action}", web::post().to(gemini))
                        .configure(super::mock_media::register)
                        .configure(super::mock_providers::register)
                        .default_service(web::to(|req: HttpRequest| async move {
                            eprintln!("mock: no route for {} {}", req.method(), req.uri());
                            HttpResponse::NotFound().finish()
                        }))
                })
                .workers(1)
                .disable_signals()
                .shutdown_timeout(0)
                .listen(listener)
                .expect("listen")
                .run();
                tx.send(server.handle()).expect("handle");
                let _ = server.await;
            });
        });
        let handle = rx.recv().expect("mock started");
        MockUpstream {
            base: format!("http://{addr}/v1"),
            seen,
            handle,
        }
    }

    /// The base URL a provider of kind `name` is given to reach this mock.
    pub fn base_for(&self, name: &str) -> String {
        match name {
            "google" => self.gemini_base(),
            "bedrock" | "ollama" | "ideogram" => self.root(),
            _ => self.base.clone(),
        }
    }

    /// The server's root (Bedrock's and Ollama's base URL).
    pub fn root(&self) -> String {
        self.base.trim_end_matches("/v1").to_owned()
    }

    /// The base URL for Gemini (`…/v1beta`).
    pub fn gemini_base(&self) -> String {
        format!("{}beta", self.base)
    }

    /// Lets `mock-flaky` answer normally from now on.
    pub fn heal(&self) {
        self.seen
            .healed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Calls received with `key`.
    pub fn calls(&self, key: &str) -> usize {
        self.seen
            .calls
            .lock()
            .expect("calls")
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_calls(&self) -> usize {
        self.seen.calls.lock().expect("calls").values().sum()
    }

    /// The key each call was made with, in order.
    pub fn keys(&self) -> Vec<String> {
        self.seen.keys.lock().expect("keys").clone()
    }

    /// The Anthropic headers of each call received, in order.
    pub fn headers(&self) -> Vec<HashMap<String, String>> {
        self.seen.headers.lock().expect("headers").clone()
    }

    /// The paths (with query) received, in order, as sent on the wire.
    pub fn paths(&self) -> Vec<String> {
        self.seen.paths.lock().expect("paths").clone()
    }

    /// The request bodies received, in order.
    pub fn bodies(&self) -> Vec<Value> {
        self.seen.bodies.lock().expect("bodies").clone()
    }
}

impl Drop for MockUpstream {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(false)));
    }
}
