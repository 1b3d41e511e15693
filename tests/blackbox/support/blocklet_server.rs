//! A fake Blocklet Server GraphQL endpoint (`POST /api/gql`) answering `verifyAccessKey` from a
//! table the test controls. It checks the Hub's request the way Blocklet Server does for an app's
//! access key (`@blocklet/server-js` "sha256" signer): `x-access-key-id` is the app DID and
//! `x-access-signature` is base64(sha256(secret key bytes as text ‖ ⌊now/30⌋)), counter ±1.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The fixed key of interop-vectors/README.md and its application DID.
pub const APP_SK: &str = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
pub const APP_DID: &str = "zNKa5mpgjBK9h5KQ5BxCSSPmy8F5NJwuSmxQ";
pub const APP_PID: &str = "zNKfakeAppPidForTheHubTests000000000";

#[derive(Clone, Default)]
struct State {
    /// access key id → (created by, passport)
    keys: Arc<Mutex<HashMap<String, (String, String)>>>,
    /// user DID → its record (`getUser`'s `user`)
    users: Arc<Mutex<HashMap<String, Value>>>,
    calls: Arc<Mutex<usize>>,
    refused: Arc<Mutex<Vec<String>>>,
}

pub struct FakeBlockletServer {
    pub port: u16,
    state: State,
    handle: actix_web::dev::ServerHandle,
}

fn signature(counter: u64) -> String {
    let bytes = hex::decode(&APP_SK[2..]).expect("hex");
    let text = String::from_utf8_lossy(&bytes);
    let digest = Sha256::digest(format!("{text}{counter}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn gql_error(message: &str) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"errors": [{"message": message}], "data": {"verifyAccessKey": null}}))
}

async fn gql(req: HttpRequest, body: web::Json<Value>, state: web::Data<State>) -> HttpResponse {
    *state.calls.lock().expect("calls") += 1;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        / 30;
    let sig = header(&req, "x-access-signature");
    let signed = [now - 1, now, now + 1].iter().any(|c| signature(*c) == sig);
    if header(&req, "x-access-key-id") != APP_DID
        || header(&req, "x-access-alg") != "sha256"
        || header(&req, "x-access-blocklet") != APP_PID
        || !signed
    {
        state
            .refused
            .lock()
            .expect("refused")
            .push(format!("{:?}", req.headers()));
        return HttpResponse::Unauthorized()
            .json(json!({"errors": [{"message": "access key signature invalid"}]}));
    }
    let query = body["query"].as_str().unwrap_or("");
    if query.contains("getUser(") {
        if !query.contains(&format!("teamDid: \"{APP_PID}\"")) {
            return gql_error("wrong team");
        }
        let did = query
            .split("user: {did: \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("");
        let user = state.users.lock().expect("users").get(did).cloned();
        return HttpResponse::Ok().json(json!({"data": {"getUser": {"code": "ok", "user": user}}}));
    }
    let Some(id) = query
        .split("accessKeyId: \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
    else {
        return gql_error("accessKeyId missing");
    };
    if !query.contains(&format!("teamDid: \"{APP_PID}\"")) {
        return gql_error("wrong team");
    }
    match state.keys.lock().expect("keys").get(id) {
        Some((created_by, passport)) => HttpResponse::Ok().json(json!({"data": {"verifyAccessKey": {
            "code": "ok",
            "data": {"accessKeyId": id, "createdBy": created_by, "passport": passport, "remark": "test key"}
        }}})),
        None => gql_error("Access key not found"),
    }
}

impl FakeBlockletServer {
    pub fn start() -> FakeBlockletServer {
        let state = State::default();
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .route("/api/gql", web::post().to(gql))
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
        let handle = rx.recv().expect("started");
        FakeBlockletServer {
            port,
            state,
            handle,
        }
    }

    pub fn add_key(&self, id: &str, created_by: &str, passport: &str) {
        self.state
            .keys
            .lock()
            .expect("keys")
            .insert(id.into(), (created_by.into(), passport.into()));
    }

    /// A user record `getUser` answers (`fullName`, `email`, `avatar`, …).
    pub fn add_user(&self, did: &str, record: Value) {
        self.state
            .users
            .lock()
            .expect("users")
            .insert(did.into(), record);
    }

    pub fn revoke(&self, id: &str) {
        self.state.keys.lock().expect("keys").remove(id);
    }

    pub fn calls(&self) -> usize {
        *self.state.calls.lock().expect("calls")
    }

    /// Requests whose access-key signature was refused.
    pub fn refused(&self) -> Vec<String> {
        self.state.refused.lock().expect("refused").clone()
    }
}

impl Drop for FakeBlockletServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}
