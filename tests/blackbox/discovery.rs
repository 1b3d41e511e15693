//! Discovery and status: the public model lists (rate rows, or the built-in catalog), OpenAI's
//! `/api/v2/models`, `/api/v2/status`, and `/__blocklet__.js` for the real client.

use crate::support::{ADMIN_KEY, Backend, HubEnv, error_of, json};
use serde_json::{Value, json};

const K: Option<&str> = Some(ADMIN_KEY);

#[test]
fn model_lists_status_and_blocklet_meta() {
    let env = HubEnv::new(Backend::Sqlite).var("DEEPSEEK_API_KEY", "env-key-1,env-key-2");
    let hub = env.start();

    // An env-configured provider lists its catalog models.
    let (status, list) = json(hub.get("/api/ai/models", None));
    assert_eq!(status, 200);
    let keys: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|m| m["key"].as_str())
        .collect();
    assert!(keys.contains(&"deepseek/deepseek-chat"), "{keys:?}");
    assert!(
        !keys.iter().any(|k| k.starts_with("openai/")),
        "openai is not configured"
    );

    // A database provider with rate rows lists exactly its rates.
    let (_, p) = json(hub.post("/api/ai-providers", K, &json!({"name": "openai"})));
    let pid = p["id"].as_str().expect("id");
    json(hub.post(
        &format!("/api/ai-providers/{pid}/credentials"),
        K,
        &json!({"name": "k", "value": "sk-test-000000000000"}),
    ));
    for (model, kind) in [
        ("gpt-5-mini", "chatCompletion"),
        ("dall-e-3", "imageGeneration"),
    ] {
        let (s, _) = json(hub.post(
            &format!("/api/ai-providers/{pid}/model-rates"),
            K,
            &json!({"model": model, "type": kind, "inputRate": "0.000001", "outputRate": "0.000004", "modelMetadata": {"maxTokens": 128000}}),
        ));
        assert_eq!(s, 201);
    }
    let (_, list) = json(hub.get("/api/ai/models", None));
    let gpt = list
        .as_array()
        .expect("array")
        .iter()
        .find(|m| m["key"] == "openai/gpt-5-mini")
        .expect("gpt")
        .clone();
    assert_eq!(gpt["type"], "chat");
    assert_eq!(gpt["provider"], "openai");
    assert_eq!(gpt["providerId"], pid);
    assert_eq!(gpt["input_credits_per_token"], "0.000001");
    assert_eq!(gpt["output_credits_per_token"], "0.000004");
    assert_eq!(gpt["modelMetadata"]["maxTokens"], 128000);
    assert_eq!(gpt["status"]["available"], true);
    assert_eq!(gpt["providerDisplayName"], "OpenAI");
    assert!(
        !list
            .as_array()
            .expect("array")
            .iter()
            .any(|m| m["key"] == "openai/gpt-4o"),
        "rates replace the catalog"
    );
    let (_, images) = json(hub.get("/api/ai-providers/models?type=image", None));
    let image_keys: Vec<&str> = images
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|m| m["key"].as_str())
        .collect();
    assert_eq!(image_keys, ["openai/dall-e-3"]);
    let err = error_of(hub.get("/api/ai-providers/models?type=sound", None), 400);
    assert_eq!(err["param"], "type");

    // OpenAI's list needs a token.
    error_of(hub.get("/api/v2/models", None), 401);
    let (status, models) = json(hub.get("/api/v2/models", K));
    assert_eq!(status, 200);
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"openai/gpt-5-mini") && ids.contains(&"deepseek/deepseek-chat"),
        "{ids:?}"
    );
    assert!(models["data"][0]["owned_by"].is_string());

    // Status: always 200.
    let (status, s) = json(hub.get("/api/v2/status", None));
    assert_eq!((status, s["available"].clone()), (200, Value::Bool(true)));
    let (status, s) = json(hub.get("/api/v2/status?model=openai/gpt-5-mini", None));
    assert_eq!((status, s["available"].clone()), (200, Value::Bool(true)));
    let (status, s) = json(hub.get("/api/v2/status?model=xai/grok-4", None));
    assert_eq!((status, s["available"].clone()), (200, Value::Bool(false)));
    assert!(
        s["error"].as_str().is_some_and(|e| e.contains("xai")),
        "{s}"
    );
    assert_eq!(s["code"], 503);

    // The client's discovery document.
    let (status, meta) = json(hub.get("/__blocklet__.js?type=json", None));
    assert_eq!(status, 200);
    assert_eq!(
        meta["componentMountPoints"][0]["did"],
        "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ"
    );
    assert_eq!(meta["componentMountPoints"][0]["mountPoint"], "/");
    assert_eq!(meta["componentMountPoints"][0]["status"], "running");
    assert!(meta["appId"].as_str().is_some_and(|a| a.starts_with('z')));
    assert_eq!(meta["appUrl"], hub.base);
    let js = hub.get("/__blocklet__.js", None).text().expect("js");
    assert!(js.starts_with("window.blocklet = {"));
    // The identity is stable across restarts.
    assert!(hub.stop().success());
    let hub = env.start();
    let (_, again) = json(hub.get("/__blocklet__.js?type=json", None));
    assert_eq!(again["appId"], meta["appId"]);
}

/// `/api/enums` is the one list of names the console (and any client) reads: every call type
/// (`audio` included), status, provider kind and access-key role the Hub accepts — and each
/// name it lists is accepted where it is used.
#[test]
fn enums_list_what_the_hub_accepts() {
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    let (status, e) = json(hub.get("/api/enums", None));
    assert_eq!(status, 200, "{e}");
    let names = |key: &str| -> Vec<String> {
        e[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}: {e}"))
            .iter()
            .map(|v| {
                v.as_str().map_or_else(
                    || v["name"].as_str().expect("name").to_owned(),
                    str::to_owned,
                )
            })
            .collect()
    };
    assert_eq!(
        names("callTypes"),
        [
            "chatCompletion",
            "embedding",
            "imageGeneration",
            "video",
            "audio"
        ]
    );
    assert_eq!(names("callStatuses"), ["processing", "success", "failed"]);
    assert_eq!(names("providers").len(), 11);
    assert_eq!(e["providers"][0]["displayName"], "OpenAI");
    assert_eq!(names("keyRoles"), ["member", "admin"]);
    for t in names("callTypes") {
        let (status, body) = json(hub.get(&format!("/api/user/model-calls?type={t}"), K));
        assert_eq!(status, 200, "{t}: {body}");
    }
    error_of(hub.get("/api/user/model-calls?type=speech", K), 400);
    for role in names("keyRoles") {
        let (status, body) =
            json(hub.post("/api/access-keys", K, &json!({"name": role, "role": role})));
        assert_eq!(status, 201, "{role}: {body}");
    }
    let mock = crate::support::mock::MockUpstream::start();
    let id = hub.add_provider("openai", &mock);
    for t in names("callTypes") {
        let (status, body) = json(hub.post(
            &format!("/api/ai-providers/{id}/model-rates"),
            K,
            &json!({"model": format!("m-{t}"), "type": t, "inputRate": "0.1", "outputRate": "0.2"}),
        ));
        assert_eq!(status, 201, "{t}: {body}");
    }
}
