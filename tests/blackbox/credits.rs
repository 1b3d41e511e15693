//! Credits (SPEC §9): every call's row carries its exact cost from the model's rate; with billing
//! on, a model without a rate is refused before anything is sent upstream.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use serde_json::{Value, json};

fn provider(hub: &Hub, mock: &MockUpstream) -> String {
    let (_, p) = json(hub.post(
        "/api/ai-providers",
        Some(ADMIN_KEY),
        &json!({"name": "openai", "baseUrl": mock.base}),
    ));
    let id = p["id"].as_str().expect("id").to_owned();
    let (status, _) = json(hub.post(
        &format!("/api/ai-providers/{id}/credentials"),
        Some(ADMIN_KEY),
        &json!({"name": "k", "value": "mock-ok"}),
    ));
    assert_eq!(status, 201);
    id
}

fn hello(stream: bool) -> Value {
    json!({"model": "openai/gpt-5-mini", "stream": stream, "stream_options": {"include_usage": true},
           "messages": [{"role": "user", "content": "Say hello."}]})
}

fn on_both(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend).var("AIGNE_HUB_BILLING__ENABLED", "true");
    let hub = env.start();
    let pid = provider(&hub, &mock);
    // No rate yet: refused with 400 naming the model, nothing sent, nothing recorded.
    let e = error_of(
        hub.post("/api/v2/chat/completions", Some(ADMIN_KEY), &hello(false)),
        400,
    );
    let message = e["message"].as_str().expect("message");
    assert!(
        message.contains("openai/gpt-5-mini") && message.contains("rate"),
        "{e}"
    );
    error_of(
        hub.post("/api/v2/chat/completions", Some(ADMIN_KEY), &hello(true)),
        400,
    );
    assert_eq!(mock.total_calls(), 0);
    assert!(env.database.calls().is_empty());
    // With a rate (cache rate unused here): 19 prompt × 0.0000025 + 10 completion × 0.00001.
    let (status, rate) = json(hub.post(
        &format!("/api/ai-providers/{pid}/model-rates"),
        Some(ADMIN_KEY),
        &json!({"model": "gpt-5-mini", "type": "chatCompletion", "inputRate": "0.0000025", "outputRate": "0.00001",
                "caching": {"readRate": "0.00000025"}}),
    ));
    assert_eq!(status, 201, "{rate}");
    let (status, body) = json(hub.post("/api/v2/chat/completions", Some(ADMIN_KEY), &hello(false)));
    assert_eq!(status, 200, "{body}");
    let res = hub.post("/api/v2/chat/completions", Some(ADMIN_KEY), &hello(true));
    assert_eq!(res.status(), 200);
    let _ = res.text().expect("stream");
    let rows = env.database.calls();
    let credits: Vec<&str> = rows.iter().map(|r| r.credits.as_str()).collect();
    // Non-stream 19 + 10 tokens; stream 19 + 3 tokens.
    assert_eq!(credits, ["0.0001475", "0.0000775"], "{rows:?}");
}

#[test]
fn credits_from_rates_and_billing_refuses_unpriced_models_sqlite() {
    on_both(Backend::Sqlite);
}

#[test]
fn credits_from_rates_and_billing_refuses_unpriced_models_postgres() {
    on_both(Backend::Postgres);
}

#[test]
fn without_billing_an_unpriced_model_costs_nothing() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    provider(&hub, &mock);
    let (status, body) = json(hub.post("/api/v2/chat/completions", Some(ADMIN_KEY), &hello(false)));
    assert_eq!(status, 200, "{body}");
    let rows = env.database.calls();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].credits, "0");
}
