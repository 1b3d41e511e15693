//! A webhook receiver, as an operator would write one: it checks each request's HMAC-SHA256
//! signature (`x-aigne-hub-signature: sha256=<hex>` over `"<timestamp>.<body>"`), refuses a bad
//! one with 401, keeps the first delivery of each notification id and counts repeats, and can be
//! taken down (503) to play an outage.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    secret: String,
    down: AtomicBool,
    /// Accepted notifications by id, in arrival order.
    accepted: Mutex<Vec<Value>>,
    /// 2xx answers per notification id.
    acks: Mutex<HashMap<String, usize>>,
    refused_signatures: AtomicUsize,
    refused_down: AtomicUsize,
}

pub struct Receiver {
    pub url: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
}

fn signed(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<Arc<State>>) -> HttpResponse {
    if state.down.load(Ordering::SeqCst) {
        state.refused_down.fetch_add(1, Ordering::SeqCst);
        return HttpResponse::ServiceUnavailable().finish();
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let timestamp = header("x-aigne-hub-timestamp");
    if timestamp.is_empty()
        || header("x-aigne-hub-signature") != signed(&state.secret, &timestamp, &body)
    {
        state.refused_signatures.fetch_add(1, Ordering::SeqCst);
        return HttpResponse::Unauthorized().finish();
    }
    let doc: Value = serde_json::from_slice(&body).expect("JSON body");
    let id = header("x-aigne-hub-delivery");
    assert_eq!(
        doc["id"],
        id.as_str(),
        "the delivery header names the notification"
    );
    let mut acks = state.acks.lock().expect("acks");
    let n = acks.entry(id).or_default();
    *n += 1;
    if *n == 1 {
        state.accepted.lock().expect("accepted").push(doc);
    }
    HttpResponse::NoContent().finish()
}

impl Receiver {
    pub fn start(secret: &str) -> Receiver {
        let state = Arc::new(State {
            secret: secret.to_owned(),
            ..State::default()
        });
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/hook", web::post().to(receive))
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
        Receiver {
            url: format!("http://{addr}/hook"),
            state,
            handle: rx.recv().expect("receiver started"),
        }
    }

    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// The accepted notifications (first delivery of each).
    pub fn accepted(&self) -> Vec<Value> {
        self.state.accepted.lock().expect("accepted").clone()
    }

    /// The accepted notification of `kind`, if any.
    pub fn of(&self, kind: &str) -> Option<Value> {
        self.accepted().into_iter().find(|n| n["type"] == kind)
    }

    /// How often each notification id was acknowledged (1 each: exactly once).
    pub fn acks(&self) -> HashMap<String, usize> {
        self.state.acks.lock().expect("acks").clone()
    }

    pub fn refused_while_down(&self) -> usize {
        self.state.refused_down.load(Ordering::SeqCst)
    }

    pub fn refused_signatures(&self) -> usize {
        self.state.refused_signatures.load(Ordering::SeqCst)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(false)));
    }
}
