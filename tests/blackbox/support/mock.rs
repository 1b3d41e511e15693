//! A mock OpenAI-style upstream (JSON and SSE) replaying fixtures shaped like OpenAI's documented
//! payloads. The Bearer key picks the behaviour, so tests set up failover with credentials:
//! `mock-ok`, `mock-500`, `mock-401`, `mock-429`, `mock-cut` (stream breaks after two chunks),
//! `mock-slow` (a chunk every 300 ms), `mock-hang` (never answers). Calls are counted per key.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/openai");

#[derive(Clone, Default)]
struct Seen {
    calls: Arc<Mutex<HashMap<String, usize>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

pub struct MockUpstream {
    pub base: String,
    seen: Seen,
    handle: actix_web::dev::ServerHandle,
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}"))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

async fn chat(req: HttpRequest, body: web::Json<Value>, seen: web::Data<Seen>) -> HttpResponse {
    let key = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("none")
        .to_owned();
    *seen
        .calls
        .lock()
        .expect("calls")
        .entry(key.clone())
        .or_default() += 1;
    seen.bodies.lock().expect("bodies").push(body.0.clone());
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("gpt")
        .to_owned();
    match key.as_str() {
        "mock-500" => return error(500, "error-500.json"),
        "mock-401" => return error(401, "error-401.json"),
        "mock-429" => return error(429, "error-429.json"),
        "mock-hang" => {
            actix_web::rt::time::sleep(Duration::from_secs(3600)).await;
        }
        _ => {}
    }
    if !stream {
        let mut answer: Value = serde_json::from_str(&fixture("chat.json")).expect("json fixture");
        answer["model"] = Value::String(model);
        return HttpResponse::Ok()
            .content_type("application/json")
            .body(answer.to_string());
    }
    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let lines: Vec<String> = fixture("chat.stream.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| include_usage || !l.contains("\"usage\""))
        .map(str::to_owned)
        .collect();
    let cut = key == "mock-cut";
    let slow = key == "mock-slow";
    let frames = async_stream::stream! {
        for (i, line) in lines.iter().enumerate() {
            if cut && i == 3 {
                yield Err(std::io::Error::other("mock cut the stream"));
                return;
            }
            if slow && i > 0 {
                actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            }
            if cut && i > 0 {
                // Paced, so the first chunks are on the wire before the cut.
                actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            }
            yield Ok::<_, std::io::Error>(Bytes::from(format!("data: {line}\n\n")));
        }
        yield Ok(Bytes::from_static(b"data: [DONE]\n\n"));
    };
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(frames)
}

fn error(status: u16, file: &str) -> HttpResponse {
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
