//! Model aliases: the admin API that keeps them (checks, conflicts, updates), calls for an
//! aliased name served and billed as the target while the row keeps both names, exact aliases in
//! the model lists, and a change taking effect on the next call.

use crate::ledger::{balance, dec, member, priced_provider};
use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, HubEnv, error_of, json};
use serde_json::{Value, json};

fn aliases(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend).var("AIGNE_HUB_BILLING__ENABLED", "true");
    let hub = env.start();
    priced_provider(&hub, &mock, "mock-ok");
    let anthropic = hub.add_provider_with_keys("anthropic", &mock, &["mock-ok"]);
    hub.add_rate(&anthropic, "claude-sonnet-4-5", "0", "0.001");

    // The admin API: what is stored, and what is refused (naming the field).
    let create = |pattern: &str, target: &str| {
        json(hub.post(
            "/api/model-aliases",
            Some(ADMIN_KEY),
            &json!({"pattern": pattern, "target": target}),
        ))
    };
    let (status, glob) = create(" claude-* ", "openai/gpt-5-mini");
    assert_eq!(status, 201, "{glob}");
    assert_eq!(
        (&glob["pattern"], &glob["kind"], &glob["target"]),
        (
            &json!("claude-*"),
            &json!("glob"),
            &json!("openai/gpt-5-mini")
        )
    );
    let (status, exact) = create("claude-opus-4-1", "anthropic/claude-sonnet-4-5");
    assert_eq!(status, 201, "{exact}");
    assert_eq!(exact["kind"], "exact");
    let (status, dup) = create("claude-*", "anthropic/claude-sonnet-4-5");
    assert_eq!(status, 409, "{dup}");
    for (pattern, target, field) in [
        ("gpt-*", "gpt-5-mini", "target"),
        ("gpt-*", "openai/gpt-*", "target"),
        ("*", "openai/gpt-5-mini", "pattern"),
        ("gpt {4,5}", "openai/gpt-5-mini", "pattern"),
        ("gpt-[", "openai/gpt-5-mini", "pattern"),
    ] {
        let e = error_of(
            hub.post(
                "/api/model-aliases",
                Some(ADMIN_KEY),
                &json!({"pattern": pattern, "target": target}),
            ),
            400,
        );
        assert_eq!(e["param"], field, "{pattern} → {target}: {e}");
    }
    let (member_key, member_user) = member(&hub, "agent");
    let (status, _) = json(hub.get("/api/model-aliases", Some(&member_key)));
    assert_eq!(status, 403);
    let (status, list) = json(hub.get("/api/model-aliases", Some(ADMIN_KEY)));
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["count"], 2, "{list}");

    // A call for an aliased name is served by the target, billed at the target's rate, and its
    // row keeps both names; the client sees the name it asked for.
    let (status, g) = json(hub.post(
        "/api/credits/grants",
        Some(ADMIN_KEY),
        &json!({"userDid": member_user, "amount": "1"}),
    ));
    assert_eq!(status, 201, "{g}");
    let res = hub
        .request(reqwest::Method::POST, "/v1/messages")
        .header("x-api-key", &member_key)
        .header("anthropic-version", "2023-06-01")
        .json(
            &json!({"model": "claude-sonnet-4-5-20250929", "max_tokens": 10,
                      "messages": [{"role": "user", "content": "Say hello."}]}),
        )
        .send()
        .expect("messages");
    let (status, answer) = json(res);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["model"], "claude-sonnet-4-5-20250929");
    assert_eq!(answer["content"][0]["text"], "Hello, world");
    let sent = mock.bodies().pop().expect("sent");
    assert_eq!(sent["model"], "gpt-5-mini", "{sent}");
    let rows = crate::support::eventually(|| {
        let rows = env.database.calls();
        (rows.len() == 1 && rows[0].status == "success").then_some(rows)
    });
    assert_eq!(rows[0].model, "openai/gpt-5-mini");
    let metadata: Value =
        serde_json::from_str(rows[0].metadata.as_deref().expect("metadata")).expect("json");
    assert_eq!(metadata["originalModel"], "claude-sonnet-4-5-20250929");
    assert_eq!(dec(&rows[0].credits), dec("0.01"));
    assert_eq!(dec(&balance(&hub, &member_key)), dec("0.99"));

    // The exact alias wins over the glob (Chat Completions too) and goes to Anthropic.
    let (status, answer) = json(hub.post(
        "/v1/chat/completions",
        Some(&member_key),
        &json!({"model": "claude-opus-4-1", "max_tokens": 10,
                "messages": [{"role": "user", "content": "Say hello."}]}),
    ));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["model"], "claude-opus-4-1");
    let sent = mock.bodies().pop().expect("sent");
    assert_eq!(sent["model"], "claude-sonnet-4-5", "{sent}");

    // Model lists show exact aliases (globs name no model) and what they stand for.
    let (_, models) = json(hub.get("/v1/models", Some(&member_key)));
    let listed: Vec<&Value> = models["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter(|m| m["aigne_hub_alias_of"].is_string())
        .collect();
    assert_eq!(listed.len(), 1, "{models}");
    assert_eq!(listed[0]["id"], "claude-opus-4-1");
    assert_eq!(
        listed[0]["aigne_hub_alias_of"],
        "anthropic/claude-sonnet-4-5"
    );
    assert_eq!(listed[0]["owned_by"], "anthropic");

    // A change applies to the next call; after a delete the name routes as written again.
    let id = exact["id"].as_str().expect("id");
    let (status, updated) = json(hub.put(
        &format!("/api/model-aliases/{id}"),
        Some(ADMIN_KEY),
        &json!({"target": "openai/gpt-5-mini"}),
    ));
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["pattern"], "claude-opus-4-1");
    let (status, _) = json(hub.post(
        "/v1/chat/completions",
        Some(&member_key),
        &json!({"model": "claude-opus-4-1", "max_tokens": 10,
                "messages": [{"role": "user", "content": "Say hello."}]}),
    ));
    assert_eq!(status, 200);
    assert_eq!(mock.bodies().pop().expect("sent")["model"], "gpt-5-mini");
    for alias in [id, glob["id"].as_str().expect("id")] {
        let res = hub.delete(&format!("/api/model-aliases/{alias}"), Some(ADMIN_KEY));
        assert_eq!(res.status(), 204);
    }
    let res = hub.delete(&format!("/api/model-aliases/{id}"), Some(ADMIN_KEY));
    assert_eq!(res.status(), 404);
    let (status, _) = json(hub.post(
        "/v1/chat/completions",
        Some(&member_key),
        &json!({"model": "claude-sonnet-4-5", "max_tokens": 10,
                "messages": [{"role": "user", "content": "Say hello."}]}),
    ));
    assert_eq!(status, 200);
    assert_eq!(
        mock.bodies().pop().expect("sent")["model"],
        "claude-sonnet-4-5"
    );
}

crate::on_both_backends!(aliases);
