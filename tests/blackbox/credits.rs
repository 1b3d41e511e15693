//! Credits (SPEC §9): every call's row carries its exact cost from the model's rate; with billing
//! on, a model without a rate is refused before anything is sent upstream.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use serde_json::{Value, json};

fn provider(hub: &Hub, mock: &MockUpstream) -> String {
    let id = hub.add_provider("openai", mock);
    hub.add_key(&id, "k", "mock-ok");
    id
}

fn hello(stream: bool) -> Value {
    json!({"model": "openai/gpt-5-mini", "stream": stream, "stream_options": {"include_usage": true},
           "messages": [{"role": "user", "content": "Say hello."}]})
}

fn on_both(backend: Backend) {
    let mock = MockUpstream::start();
    // Starter credits, so the admin's calls are admitted.
    let env = HubEnv::new(backend)
        .var("AIGNE_HUB_BILLING__ENABLED", "true")
        .var("AIGNE_HUB_BILLING__NEW_USER_CREDITS", "1");
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

#[test]
fn bulk_margin_update_with_dry_run() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite)
        .var("AIGNE_HUB_BILLING__ENABLED", "true")
        .var("AIGNE_HUB_BILLING__NEW_USER_CREDITS", "1");
    let hub = env.start();
    let pid = provider(&hub, &mock);
    let rates = format!("/api/ai-providers/{pid}/model-rates");
    let (status, _) = json(hub.post(&rates, Some(ADMIN_KEY), &json!({"model": "gpt-5-mini", "type": "chatCompletion",
        "inputRate": "1", "outputRate": "1", "unitCosts": {"input": "0.0000025", "output": "0.00001"}})));
    assert_eq!(status, 201);
    let (status, _) = json(hub.post(
        &rates,
        Some(ADMIN_KEY),
        &json!({"model": "gpt-4o", "type": "chatCompletion",
        "inputRate": "2", "outputRate": "2"}),
    ));
    assert_eq!(status, 201);
    let bulk = |body: Value| hub.post("/api/ai-providers/bulk-rate-update", Some(ADMIN_KEY), &body);
    // Dry run: the preview, nothing written.
    let (status, preview) = json(bulk(
        json!({"mode": "margin", "profitMargin": 20, "creditPrice": "0.001", "dryRun": true}),
    ));
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["updated"], 0);
    assert_eq!(
        preview["changes"].as_array().map(Vec::len),
        Some(1),
        "{preview}"
    );
    assert_eq!(preview["changes"][0]["inputRate"], "0.003");
    assert_eq!(preview["changes"][0]["outputRate"], "0.012");
    assert_eq!(preview["changes"][0]["oldInputRate"], "1");
    assert_eq!(preview["skipped"][0]["model"], "gpt-4o");
    let (_, list) = json(hub.get(&rates, Some(ADMIN_KEY)));
    assert!(
        list["list"]
            .as_array()
            .expect("list")
            .iter()
            .all(|r| r["inputRate"] != "0.003"),
        "{list}"
    );
    // Applied: written, and the gateway bills with the new rate at once.
    let (status, applied) = json(bulk(
        json!({"mode": "margin", "profitMargin": "20", "creditPrice": 0.001}),
    ));
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["updated"], 1);
    let (_, list) = json(hub.get(&rates, Some(ADMIN_KEY)));
    assert!(
        list["list"]
            .as_array()
            .expect("list")
            .iter()
            .any(|r| r["inputRate"] == "0.003" && r["outputRate"] == "0.012"),
        "{list}"
    );
    let (status, _) = json(hub.post("/api/v2/chat/completions", Some(ADMIN_KEY), &hello(false)));
    assert_eq!(status, 200);
    // 19 × 0.003 + 10 × 0.012
    assert_eq!(env.database.calls()[0].credits, "0.177");
    // Bad input and roles.
    error_of(
        bulk(json!({"mode": "fixed", "profitMargin": 1, "creditPrice": 1})),
        400,
    );
    error_of(
        bulk(json!({"mode": "margin", "profitMargin": 1, "creditPrice": 0})),
        400,
    );
    error_of(
        bulk(json!({"mode": "margin", "profitMargin": -5, "creditPrice": 1})),
        400,
    );
    error_of(bulk(json!({"mode": "margin", "creditPrice": 1})), 400);
    let (_, member) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "m", "role": "member"}),
    ));
    let member = member["key"].as_str().expect("key");
    error_of(
        hub.post(
            "/api/ai-providers/bulk-rate-update",
            Some(member),
            &json!({"mode": "margin", "profitMargin": 1, "creditPrice": 1}),
        ),
        403,
    );
}
