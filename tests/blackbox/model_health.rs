//! Per-model availability learned from calls (`ai_model_statuses`): a model the provider says
//! does not exist is unavailable at once, one that keeps failing after three failures in a row;
//! the public lists and `GET /api/v2/status` say so, every instance sees it, and a re-check (in
//! the background, or asked for by an administrator) brings it back once it answers.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, eventually, json};
use serde_json::{Value, json};

const K: Option<&str> = Some(ADMIN_KEY);

/// The public list's `status` of `openai/{model}`.
fn listed_status(hub: &Hub, model: &str) -> Value {
    let (status, list) = json(hub.get("/api/ai/models", None));
    assert_eq!(status, 200, "{list}");
    list.as_array()
        .expect("list")
        .iter()
        .find(|m| m["key"] == format!("openai/{model}").as_str())
        .unwrap_or_else(|| panic!("{model} not listed: {list}"))["status"]
        .clone()
}

fn v2_status(hub: &Hub, model: &str) -> Value {
    let (status, body) = json(hub.get(&format!("/api/v2/status?model=openai/{model}"), K));
    assert_eq!(status, 200, "{body}");
    body
}

fn model_health(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend).var("AIGNE_HUB_UPSTREAM__MODEL_RECHECK_SECS", "1");
    let hub = env.start();
    let pid = hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);
    for model in ["gpt-5-mini", "gpt-vanished", "gpt-ailing"] {
        hub.add_rate(&pid, model, "0.000001", "0.000002");
    }
    assert_eq!(listed_status(&hub, "gpt-vanished")["available"], true);

    // A model that does not exist: the caller gets the provider's 404, the key stays in, and
    // the model is unavailable at once, with the reason.
    let err = error_of(hub.chat(K, "openai/gpt-vanished", "hi"), 404);
    assert!(err.to_string().contains("does not exist"), "{err}");
    let status = eventually(|| {
        let s = listed_status(&hub, "gpt-vanished");
        (s["available"] == false).then_some(s)
    });
    assert_eq!(status["error"]["code"], "Model Not Found", "{status}");
    assert!(status["lastChecked"].is_string(), "{status}");
    let v2 = v2_status(&hub, "gpt-vanished");
    assert_eq!(v2["available"], false, "{v2}");
    assert_eq!(v2["code"], 503, "{v2}");
    // Its neighbours are unaffected.
    assert_eq!(listed_status(&hub, "gpt-5-mini")["available"], true);
    assert_eq!(v2_status(&hub, "gpt-5-mini")["available"], true);
    let (status, ok) = json(hub.chat(K, "openai/gpt-5-mini", "hi"));
    assert_eq!(status, 200, "{ok}");

    // A model that errors (503 upstream, 502 here): two failures leave it available, the third
    // in a row does not.
    for _ in 0..2 {
        error_of(hub.chat(K, "openai/gpt-ailing", "hi"), 502);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(listed_status(&hub, "gpt-ailing")["available"], true);
    error_of(hub.chat(K, "openai/gpt-ailing", "hi"), 502);
    eventually(|| (listed_status(&hub, "gpt-ailing")["available"] == false).then_some(()));

    // The health view lists both with their reasons.
    let (status, health) = json(hub.get("/api/ai-providers/health", K));
    assert_eq!(status, 200, "{health}");
    let models = health["providers"][0]["models"]
        .as_array()
        .expect("models")
        .clone();
    let of = |name: &str| models.iter().find(|m| m["model"] == name).cloned();
    assert_eq!(
        of("gpt-ailing").expect("ailing")["error"]["code"],
        "Model Unavailable"
    );
    assert_eq!(of("gpt-vanished").expect("vanished")["available"], false);

    // An administrator's check: still missing, recorded; a key test's limit counts it.
    let (status, check) = json(hub.post(
        "/api/ai-providers/model-statuses/check",
        K,
        &json!({"providerId": pid, "model": "gpt-vanished"}),
    ));
    assert_eq!(status, 200, "{check}");
    assert_eq!(check["available"], false, "{check}");
    assert_eq!(check["recorded"], true, "{check}");
    let err = error_of(
        hub.post(
            "/api/ai-providers/model-statuses/check",
            K,
            &json!({"providerId": "nope", "model": "gpt-vanished"}),
        ),
        404,
    );
    assert!(err.to_string().contains("nope"), "{err}");
    error_of(
        hub.post(
            "/api/ai-providers/model-statuses/check",
            K,
            &json!({"providerId": pid}),
        ),
        400,
    );

    // Another instance (PostgreSQL: a second process on the same database; SQLite: the Hub
    // after a restart) sees the same statuses.
    let other = match backend {
        Backend::Postgres => Some(env.start()),
        Backend::Sqlite => None,
    };
    let hub = match other {
        Some(b) => {
            assert_eq!(listed_status(&b, "gpt-vanished")["available"], false);
            drop(b);
            hub
        }
        None => {
            drop(hub);
            let again = env.start();
            assert_eq!(listed_status(&again, "gpt-vanished")["available"], false);
            again
        }
    };

    // Once the provider answers again, the background re-check (every second here) brings
    // the failing model back without any call; the missing one stays out.
    mock.heal();
    eventually(|| (listed_status(&hub, "gpt-ailing")["available"] == true).then_some(()));
    assert_eq!(v2_status(&hub, "gpt-ailing")["available"], true);
    assert_eq!(listed_status(&hub, "gpt-vanished")["available"], false);
    assert!(
        mock.bodies().iter().any(|b| b["model"] == "gpt-ailing"
            && (b["max_tokens"].is_number() || b["max_completion_tokens"].is_number())),
        "no one-token re-check reached the provider"
    );
}

crate::on_both_backends!(model_health);
