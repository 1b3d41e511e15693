//! v1 (SPEC §5.4, §7.2): remote apps register their key and sign calls; legacy chat answers and
//! stream frames; the auth chain's failures (400 without signature headers, 401 bad signature,
//! 403 a session without the admin role); component-role keys reach only v1.

use crate::support::blocklet_server::APP_SK;
use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use ed25519_dalek::{Signer, SigningKey};
use reqwest::Method;
use serde_json::{Value, json};
use sha3::{Digest, Sha3_256};

pub(crate) const APP_PK: &str =
    "0x03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
pub(crate) const APP_ID: &str = "zNKa5mpgjBK9h5KQ5BxCSSPmy8F5NJwuSmxQ";
pub(crate) const USER: &str = "z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP";

pub(crate) fn app_key() -> SigningKey {
    let bytes = hex::decode(&APP_SK[2..66]).expect("hex");
    SigningKey::from_bytes(&bytes.try_into().expect("32 bytes"))
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// The headers of a remote-app call, signed like the real Hub's v1 clients.
pub(crate) fn remote_headers(
    key: &SigningKey,
    app_id: &str,
    timestamp: i64,
    data: &Value,
) -> Vec<(String, String)> {
    let object = json!({"appId": app_id, "timestamp": timestamp, "data": data, "userDid": USER});
    let canonical = aigne_hub::auth::canonical::to_string(&object);
    let sig = key.sign(&Sha3_256::digest(canonical.as_bytes()));
    vec![
        ("x-app-id".into(), app_id.into()),
        ("x-timestamp".into(), timestamp.to_string()),
        (
            "x-component-sig".into(),
            format!("0x{}", hex::encode(sig.to_bytes())),
        ),
        ("x-app-user-did".into(), USER.into()),
    ]
}

pub(crate) fn send(
    hub: &Hub,
    method: Method,
    path: &str,
    headers: &[(String, String)],
    body: Option<&Value>,
) -> reqwest::blocking::Response {
    let mut req = hub.request(method, path);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().expect("request")
}

fn start() -> (MockUpstream, HubEnv, Hub) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite)
        .var("OPENAI_API_KEY", "mock-ok")
        .var("OPENAI_BASE_URL", &mock.base);
    let hub = env.start();
    (mock, env, hub)
}

#[test]
fn remote_app_registers_and_calls() {
    let (mock, env, hub) = start();
    // Register: the id is the application DID of the key; registering twice is harmless.
    for _ in 0..2 {
        let (status, reg) =
            json(hub.post("/api/app/register", None, &json!({"publicKey": APP_PK})));
        assert_eq!(status, 200, "{reg}");
        assert_eq!(reg["id"], APP_ID);
        assert_eq!(
            reg["paymentLink"],
            hub.url(&format!("/credits?metadata.appId={APP_ID}")),
            "{reg}"
        );
    }
    error_of(
        hub.post("/api/app/register", None, &json!({"publicKey": "0x1234"})),
        400,
    );
    // Status, signed over an empty body.
    let (status, body) = json(send(
        &hub,
        Method::GET,
        "/api/app/status",
        &remote_headers(&app_key(), APP_ID, now(), &json!({})),
        None,
    ));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], APP_ID);
    // A legacy chat call: camelCase in, {role, text, content} out, the row names app and user.
    let data = json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "Hi"}], "maxTokens": 20});
    let headers = remote_headers(&app_key(), APP_ID, now(), &data);
    let (status, answer) = json(send(
        &hub,
        Method::POST,
        "/api/v1/chat/completions",
        &headers,
        Some(&data),
    ));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["role"], "assistant");
    assert!(
        answer["text"].as_str().is_some_and(|t| !t.is_empty()),
        "{answer}"
    );
    assert_eq!(answer["text"], answer["content"]);
    let rows = env.database.calls();
    let row = rows.last().expect("row");
    assert_eq!(
        (row.app_did.as_deref(), row.user_did.as_deref()),
        (Some(APP_ID), Some(USER))
    );
    // The same call under `/api/v1/sdk/…` (rewritten path, signed as sent).
    let (status, _) = json(send(
        &hub,
        Method::POST,
        "/api/v1/sdk/chat/completions",
        &headers,
        Some(&data),
    ));
    assert_eq!(status, 200);
    // The app's usage: its two calls, one day, one model; the range is required.
    let usage = |query: &str| {
        send(
            &hub,
            Method::GET,
            &format!("/api/app/usage{query}"),
            &remote_headers(&app_key(), APP_ID, now(), &json!({})),
            None,
        )
    };
    let day = chrono::Utc::now().date_naive();
    let (status, used) = json(usage(&format!(
        "?startTime={}&endTime={}",
        now() - 3600,
        now() + 60
    )));
    assert_eq!(status, 200, "{used}");
    let list = used["list"].as_array().expect("list");
    assert_eq!(list.len(), 1, "{used}");
    assert_eq!(list[0]["date"], day.to_string());
    assert_eq!(list[0]["model"], "openai/gpt-5-mini");
    let prompt: i64 = env
        .database
        .calls()
        .iter()
        .filter(|r| r.app_did.as_deref() == Some(APP_ID))
        .map(|r| {
            let m: serde_json::Value =
                serde_json::from_str(r.usage_metrics.as_deref().unwrap_or("{}")).expect("metrics");
            m["promptTokens"].as_i64().unwrap_or(0)
        })
        .sum();
    assert!(prompt > 0);
    assert_eq!(list[0]["promptTokens"], prompt, "{used}");
    let e = error_of(usage("?endTime=1"), 400);
    assert_eq!(e["param"], "startTime");
    error_of(usage("?startTime=10&endTime=5"), 400);
    // Before the range: nothing.
    let (_, none) = json(usage("?startTime=1000&endTime=2000"));
    assert_eq!(none["list"], json!([]));
    // Refusals: tampered data, a timestamp outside ±600 s, an unregistered key, missing headers.
    let tampered = json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "Hi!"}], "maxTokens": 20});
    error_of(
        send(
            &hub,
            Method::POST,
            "/api/v1/chat/completions",
            &headers,
            Some(&tampered),
        ),
        401,
    );
    let late = remote_headers(&app_key(), APP_ID, now() - 700, &data);
    let e = error_of(
        send(
            &hub,
            Method::POST,
            "/api/v1/chat/completions",
            &late,
            Some(&data),
        ),
        401,
    );
    assert!(e["message"].as_str().expect("m").contains("600"), "{e}");
    let early = remote_headers(&app_key(), APP_ID, now() + 700, &data);
    error_of(
        send(
            &hub,
            Method::POST,
            "/api/v1/chat/completions",
            &early,
            Some(&data),
        ),
        401,
    );
    let stranger = SigningKey::from_bytes(&[7u8; 32]);
    let stranger_id = aigne_hub::auth::did::address(
        &stranger.verifying_key().to_bytes(),
        aigne_hub::auth::did::DidRole::Application,
    );
    let e = error_of(
        send(
            &hub,
            Method::POST,
            "/api/v1/chat/completions",
            &remote_headers(&stranger, &stranger_id, now(), &data),
            Some(&data),
        ),
        401,
    );
    assert!(
        e["message"].as_str().expect("m").contains("not registered"),
        "{e}"
    );
    // Signed by another key under the registered app's id.
    error_of(
        send(
            &hub,
            Method::POST,
            "/api/v1/chat/completions",
            &remote_headers(&stranger, APP_ID, now(), &data),
            Some(&data),
        ),
        401,
    );
    let partial = vec![("x-app-id".to_owned(), APP_ID.to_owned())];
    error_of(
        send(
            &hub,
            Method::POST,
            "/api/v1/chat/completions",
            &partial,
            Some(&data),
        ),
        400,
    );
    error_of(
        send(
            &hub,
            Method::POST,
            "/api/v1/chat/completions",
            &[],
            Some(&data),
        ),
        400,
    );
    assert_eq!(mock.total_calls(), 2);
}

#[test]
fn legacy_stream_frames() {
    let (_mock, _env, hub) = start();
    hub.post("/api/app/register", None, &json!({"publicKey": APP_PK}));
    let data = json!({"model": "openai/gpt-5-mini", "prompt": "Hi"});
    let mut headers = remote_headers(&app_key(), APP_ID, now(), &data);
    headers.push(("accept".into(), "text/event-stream".into()));
    let res = send(
        &hub,
        Method::POST,
        "/api/v1/completions",
        &headers,
        Some(&data),
    );
    assert_eq!(res.status(), 200);
    let text = res.text().expect("body");
    let frames: Vec<Value> = text
        .split("\n\n")
        .filter_map(|f| f.strip_prefix("data: "))
        .map(|f| serde_json::from_str(f).expect("frame JSON"))
        .collect();
    assert!(!text.contains("[DONE]"), "{text}");
    let (last, deltas) = frames.split_last().expect("frames");
    assert!(
        last["usage"]["totalTokens"].as_u64().is_some_and(|t| t > 0),
        "{text}"
    );
    assert!(
        !deltas.is_empty() && deltas.iter().all(|d| d["delta"]["role"] == "assistant"),
        "{text}"
    );
    let content: String = deltas
        .iter()
        .filter_map(|d| d["delta"]["content"].as_str())
        .collect();
    assert!(!content.is_empty(), "{text}");
}

#[test]
fn sessions_and_roles_on_v1_and_v2() {
    let (_mock, _env, hub) = start();
    // An admin session reaches v1; a member session is refused with 403.
    let (status, body) = json(hub.get("/api/v1/status", Some(ADMIN_KEY)));
    assert_eq!((status, &body["available"]), (200, &json!(true)), "{body}");
    let key = |role: &str| {
        let (_, created) = json(hub.post(
            "/api/access-keys",
            Some(ADMIN_KEY),
            &json!({"name": role, "role": role}),
        ));
        created["key"].as_str().expect("key").to_owned()
    };
    let member = key("member");
    error_of(hub.get("/api/v1/status", Some(&member)), 403);
    // Component signatures count only on v1: on v2 they are no credential at all.
    let chat =
        json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]});
    let signed_only = vec![
        ("x-component-sig".to_owned(), "0x00".to_owned()),
        ("x-component-did".to_owned(), "z8iZcaller".to_owned()),
    ];
    error_of(
        send(
            &hub,
            Method::POST,
            "/api/v2/chat/completions",
            &signed_only,
            Some(&chat),
        ),
        401,
    );
    // No credentials at all on v1: 400 (signature headers missing).
    error_of(hub.get("/api/v1/status", None), 400);
    // A component signature without the app key configured: 401.
    let headers = vec![
        ("x-component-sig".to_owned(), "0x00".to_owned()),
        ("x-component-sig-iat".to_owned(), now().to_string()),
        ("x-component-sig-exp".to_owned(), (now() + 60).to_string()),
    ];
    error_of(
        send(&hub, Method::GET, "/api/v1/status", &headers, None),
        401,
    );
}

/// Billing on: a v1 caller's user without credits gets the 402 `NOT_ENOUGH` (with the purchase
/// link) in the one error shape, before anything goes upstream; with a grant the call is served
/// and debited.
#[test]
fn billing_402_and_debit_on_v1() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite).var("AIGNE_HUB_BILLING__ENABLED", "true");
    let hub = env.start();
    let pid = hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);
    hub.add_rate(&pid, "gpt-5-mini", "0", "0.001");
    let (status, _) = json(hub.post("/api/app/register", None, &json!({"publicKey": APP_PK})));
    assert_eq!(status, 200);
    let data = json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "Hi"}], "maxTokens": 10});
    let call = || {
        send(
            &hub,
            Method::POST,
            "/api/v1/chat/completions",
            &remote_headers(&app_key(), APP_ID, now(), &data),
            Some(&data),
        )
    };
    let e = error_of(call(), 402);
    assert_eq!(e["type"], "NOT_ENOUGH", "{e}");
    assert_eq!(e["link"], "/credits");
    assert_eq!(mock.total_calls(), 0);
    let (status, _) = json(hub.post(
        "/api/credits/grants",
        Some(ADMIN_KEY),
        &json!({"userDid": USER, "amount": "1"}),
    ));
    assert_eq!(status, 201);
    let (status, answer) = json(call());
    assert_eq!(status, 200, "{answer}");
    let rows = env.database.calls();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].credits, "0.01");
    assert_eq!(rows[0].user_did.as_deref(), Some(USER));
}

/// The v1 media routes for a signed remote app: embeddings and images (OpenAI bodies, under
/// `/api/v1` and `/api/v1/sdk`), recorded with the app and user.
#[test]
fn v1_media_routes() {
    let (mock, env, hub) = start();
    let (status, _) = json(hub.post("/api/app/register", None, &json!({"publicKey": APP_PK})));
    assert_eq!(status, 200);
    let data = json!({"model": "openai/text-embedding-3-small", "input": ["a", "b"]});
    let (status, body) = json(send(
        &hub,
        Method::POST,
        "/api/v1/embeddings",
        &remote_headers(&app_key(), APP_ID, now(), &data),
        Some(&data),
    ));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(2));
    let data =
        json!({"model": "openai/dall-e-3", "prompt": "an otter", "response_format": "b64_json"});
    let (status, body) = json(send(
        &hub,
        Method::POST,
        "/api/v1/sdk/image/generations",
        &remote_headers(&app_key(), APP_ID, now(), &data),
        Some(&data),
    ));
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"][0]["b64_json"]
            .as_str()
            .is_some_and(|b| b.starts_with("iVBOR"))
    );
    // Unsigned: refused before anything is sent.
    let calls = mock.total_calls();
    error_of(
        hub.post(
            "/api/v1/embeddings",
            None,
            &json!({"model": "openai/text-embedding-3-small", "input": "x"}),
        ),
        400,
    );
    assert_eq!(mock.total_calls(), calls);
    let rows = env.database.calls();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows.iter()
            .map(|r| r.call_type.as_str())
            .collect::<Vec<_>>(),
        ["embedding", "imageGeneration"]
    );
    assert!(
        rows.iter()
            .all(|r| r.app_did.as_deref() == Some(APP_ID) && r.user_did.as_deref() == Some(USER))
    );
}
