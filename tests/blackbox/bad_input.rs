//! Bad input never writes anything and always gets the JSON error shape with the right status.

use crate::support::{ADMIN_KEY, Backend, HubEnv, error_of, json};
use serde_json::json;

const K: Option<&str> = Some(ADMIN_KEY);

fn bad_input_writes_nothing(backend: Backend) {
    let env = HubEnv::new(backend);
    let hub = env.start();
    let (status, provider) = json(hub.post("/api/ai-providers", K, &json!({"name": "openai"})));
    assert_eq!(status, 201);
    let pid = provider["id"].as_str().expect("id").to_owned();
    let (_, before_providers) = json(hub.get("/api/ai-providers", K));

    // Malformed JSON.
    let err = error_of(
        hub.post_raw(
            "/api/ai-providers",
            K,
            "application/json",
            b"{\"name\": ".to_vec(),
        ),
        400,
    );
    assert_eq!(err["code"], "invalid_json");
    error_of(
        hub.post_raw("/api/ai-providers", K, "application/json", Vec::new()),
        400,
    );
    // Wrong type / missing field / unknown field: 400 naming it.
    let err = error_of(hub.post("/api/ai-providers", K, &json!({"name": 42})), 400);
    assert_eq!(err["param"], "name");
    assert!(err["message"].as_str().expect("m").contains("name"));
    let err = error_of(
        hub.post("/api/ai-providers", K, &json!({"displayName": "x"})),
        400,
    );
    assert_eq!(err["param"], "name");
    let err = error_of(
        hub.post(
            "/api/ai-providers",
            K,
            &json!({"name": "openai", "enabled": "yes"}),
        ),
        400,
    );
    assert_eq!(err["param"], "enabled");
    let err = error_of(
        hub.post(
            "/api/ai-providers",
            K,
            &json!({"name": "xai", "colour": "red"}),
        ),
        400,
    );
    assert_eq!(err["param"], "colour");
    // Unknown provider name.
    let err = error_of(
        hub.post("/api/ai-providers", K, &json!({"name": "skynet"})),
        400,
    );
    assert_eq!(err["param"], "name");
    assert!(err["message"].as_str().expect("m").contains("skynet"));
    let err = error_of(
        hub.post(
            "/api/ai-providers",
            K,
            &json!({"name": "google", "baseUrl": "ftp://x"}),
        ),
        400,
    );
    assert_eq!(err["param"], "baseUrl");
    // Duplicate provider.
    let err = error_of(
        hub.post("/api/ai-providers", K, &json!({"name": "OPENAI"})),
        409,
    );
    assert_eq!(err["code"], "conflict");
    // Wrong content type.
    error_of(
        hub.post_raw(
            "/api/ai-providers",
            K,
            "text/plain",
            b"{\"name\":\"xai\"}".to_vec(),
        ),
        415,
    );
    // 31 MB body.
    let big = vec![b' '; 31 * 1024 * 1024];
    error_of(
        hub.post_raw("/api/ai-providers", K, "application/json", big),
        413,
    );

    // Credentials and rates validate too.
    let creds = format!("/api/ai-providers/{pid}/credentials");
    let err = error_of(hub.post(&creds, K, &json!({"name": "a"})), 400);
    assert_eq!(err["param"], "value");
    let err = error_of(hub.post(&creds, K, &json!({"name": "a", "value": 7})), 400);
    assert_eq!(err["param"], "value");
    let err = error_of(
        hub.post(
            &creds,
            K,
            &json!({"name": "a", "value": "sk-1", "credentialType": "password"}),
        ),
        400,
    );
    assert_eq!(err["param"], "credentialType");
    let err = error_of(
        hub.post(
            &creds,
            K,
            &json!({"name": "a", "value": "sk-1", "weight": 0}),
        ),
        400,
    );
    assert_eq!(err["param"], "weight");
    let err = error_of(
        hub.post(&creds, K, &json!({"name": "a", "credentialType": "access_key_pair", "value": {"access_key_id": "x"}})),
        400,
    );
    assert_eq!(err["param"], "value.secret_access_key");
    error_of(
        hub.post(
            "/api/ai-providers/no-such-id/credentials",
            K,
            &json!({"name": "a", "value": "sk-1"}),
        ),
        404,
    );
    let rates = format!("/api/ai-providers/{pid}/model-rates");
    let err = error_of(
        hub.post(
            &rates,
            K,
            &json!({"model": "m", "type": "chat", "inputRate": 1, "outputRate": 1}),
        ),
        400,
    );
    assert_eq!(err["param"], "type");
    let err = error_of(
        hub.post(
            &rates,
            K,
            &json!({"model": "m", "type": "embedding", "inputRate": "-1", "outputRate": 1}),
        ),
        400,
    );
    assert_eq!(err["param"], "inputRate");
    let err = error_of(
        hub.post(
            &rates,
            K,
            &json!({"model": "m", "type": "embedding", "inputRate": "abc", "outputRate": 1}),
        ),
        400,
    );
    assert_eq!(err["param"], "inputRate");
    let err = error_of(
        hub.post(&rates, K, &json!({"model": "m", "type": "embedding", "inputRate": 1, "outputRate": 1, "unitCosts": {"input": 1}})),
        400,
    );
    assert_eq!(err["param"], "unitCosts.output");
    let err = error_of(
        hub.post(&rates, K, &json!({"model": "m", "type": "video", "inputRate": 1, "outputRate": 1, "modelMetadata": {"maxTokens": -5}})),
        400,
    );
    assert_eq!(err["param"], "modelMetadata.maxTokens");

    // Authentication: none, unknown, revoked → 401; member → 403.
    let body = json!({"name": "deepseek"});
    let err = error_of(hub.post("/api/ai-providers", None, &body), 401);
    assert_eq!(err["type"], "authentication_error");
    error_of(
        hub.post("/api/ai-providers", Some("aigne-unknownkey"), &body),
        401,
    );
    let res = reqwest::blocking::Client::new()
        .post(hub.url("/api/ai-providers"))
        .header("authorization", "Basic abc")
        .json(&body)
        .send()
        .expect("send");
    error_of(res, 401);
    let (_, member) = json(hub.post(
        "/api/access-keys",
        K,
        &json!({"name": "m", "role": "member"}),
    ));
    let member_key = member["key"].as_str().expect("key").to_owned();
    let err = error_of(hub.post("/api/ai-providers", Some(&member_key), &body), 403);
    assert_eq!(err["type"], "permission_error");
    let (_, doomed) = json(hub.post(
        "/api/access-keys",
        K,
        &json!({"name": "d", "role": "admin"}),
    ));
    let doomed_key = doomed["key"].as_str().expect("key").to_owned();
    let id = doomed["id"].as_str().expect("id");
    assert_eq!(
        hub.delete(&format!("/api/access-keys/{id}"), K)
            .status()
            .as_u16(),
        200
    );
    error_of(hub.post("/api/ai-providers", Some(&doomed_key), &body), 401);

    // Nothing was written by any of the above.
    let (_, after_providers) = json(hub.get("/api/ai-providers", K));
    assert_eq!(after_providers, before_providers);
    let (_, rates_after) = json(hub.get("/api/ai-providers/model-rates", K));
    assert_eq!(rates_after["count"], 0);
}

crate::on_both_backends!(bad_input_writes_nothing);
