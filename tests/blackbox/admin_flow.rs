//! The admin flow of issue 3's acceptance: provider → credential → rate → lists, masked values,
//! nothing in plaintext at rest, everything still there after a restart. On both engines.

use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, files_contain, json};
use diesel::prelude::*;
use serde_json::{Value, json};

const PLAINTEXT: &str = "sk-proj-PLAINTEXT-secret-9f8e7d6c5b4a";
const K: Option<&str> = Some(ADMIN_KEY);

#[derive(QueryableByName)]
struct StoredValue {
    #[diesel(sql_type = diesel::sql_types::Text)]
    credential_value: String,
}

fn stored_values(env: &HubEnv) -> Vec<String> {
    let rows: Vec<StoredValue> = if env.database.is_postgres() {
        let mut conn = PgConnection::establish(env.database.url()).expect("pg");
        diesel::sql_query("SELECT credential_value FROM ai_credentials")
            .load(&mut conn)
            .expect("query")
    } else {
        let path = env
            .database
            .url()
            .trim_start_matches("sqlite://")
            .to_owned();
        let mut conn = SqliteConnection::establish(&path).expect("sqlite");
        diesel::sql_query("SELECT credential_value FROM ai_credentials")
            .load(&mut conn)
            .expect("query")
    };
    rows.into_iter().map(|r| r.credential_value).collect()
}

fn snapshot(hub: &Hub) -> Value {
    let (status, providers) = json(hub.get("/api/ai-providers", K));
    assert_eq!(status, 200, "{providers}");
    let (status, rates) = json(hub.get("/api/ai-providers/model-rates", K));
    assert_eq!(status, 200, "{rates}");
    json!({ "providers": providers, "rates": rates })
}

fn admin_flow(backend: Backend) {
    let env = HubEnv::new(backend);
    let hub = env.start();

    let (status, provider) = json(hub.post(
        "/api/ai-providers",
        K,
        &json!({"name": "OpenAI", "baseUrl": "https://api.openai.com/v1/", "config": {"organization": "org-1"}}),
    ));
    assert_eq!(status, 201, "{provider}");
    assert_eq!(provider["name"], "openai");
    assert_eq!(provider["displayName"], "OpenAI");
    assert_eq!(provider["baseUrl"], "https://api.openai.com/v1");
    assert_eq!(provider["enabled"], true);
    let pid = provider["id"].as_str().expect("id").to_owned();

    let (status, cred) = json(hub.post(
        &format!("/api/ai-providers/{pid}/credentials"),
        K,
        &json!({"name": "primary", "value": PLAINTEXT}),
    ));
    assert_eq!(status, 201, "{cred}");
    assert_eq!(cred["maskedValue"], "sk-p****5b4a");
    assert_eq!(cred["credentialType"], "api_key");
    assert_eq!(cred["weight"], 100);
    assert_eq!(cred["active"], true);
    assert!(!cred.to_string().contains("PLAINTEXT"), "{cred}");

    let (status, pair) = json(hub.post(
        &format!("/api/ai-providers/{pid}/credentials"),
        K,
        &json!({"name": "pair", "credentialType": "access_key_pair", "weight": 50,
                "value": {"access_key_id": "AKIAEXAMPLEKEY12", "secret_access_key": "wJalrXUtnFEMI/K7MDENG"}}),
    ));
    assert_eq!(status, 201, "{pair}");
    assert_eq!(
        pair["maskedValue"],
        json!({"access_key_id": "AKIA****EY12", "secret_access_key": "wJal****DENG"})
    );

    let (status, rate) = json(hub.post(
        &format!("/api/ai-providers/{pid}/model-rates"),
        K,
        &json!({"model": "gpt-5-mini", "type": "chatCompletion", "inputRate": 0.0000025, "outputRate": "0.00001",
                "unitCosts": {"input": "0.00000025", "output": 0.000002},
                "caching": {"readRate": "0.00000025"},
                "modelMetadata": {"maxTokens": 400000, "features": ["tools", "vision"]}}),
    ));
    assert_eq!(status, 201, "{rate}");
    assert_eq!(rate["inputRate"], "0.0000025");
    assert_eq!(rate["outputRate"], "0.00001");
    assert_eq!(
        rate["unitCosts"],
        json!({"input": "0.00000025", "output": "0.000002"})
    );
    assert_eq!(rate["caching"], json!({"readRate": "0.00000025"}));

    // Lists: credentials embedded and masked; the global rate list filters.
    let before = snapshot(&hub);
    let providers = &before["providers"];
    assert_eq!(providers["count"], 1);
    assert_eq!(providers["paging"], json!({"page": 1, "pageSize": 20}));
    let creds = providers["list"][0]["credentials"]
        .as_array()
        .expect("credentials");
    assert_eq!(creds.len(), 2);
    assert!(
        !before.to_string().contains("PLAINTEXT") && !before.to_string().contains("wJalrXUtnFEMI")
    );
    assert_eq!(before["rates"]["count"], 1);
    let (_, found) = json(hub.get("/api/ai-providers/model-rates?q=GPT-5", K));
    assert_eq!(found["count"], 1);
    let (_, none) = json(hub.get("/api/ai-providers/model-rates?q=claude", K));
    assert_eq!(none["count"], 0);
    let (_, by_provider) = json(hub.get(
        &format!("/api/ai-providers/model-rates?providerId={pid}"),
        K,
    ));
    assert_eq!(by_provider["count"], 1);
    let (_, creds) = json(hub.get(&format!("/api/ai-providers/{pid}/credentials"), K));
    assert_eq!(creds["count"], 2);

    // Updates: partial, validated, masked.
    let cid = cred["id"].as_str().expect("cid");
    let (status, updated) = json(hub.put(
        &format!("/api/ai-providers/{pid}/credentials/{cid}"),
        K,
        &json!({"weight": 10, "active": false}),
    ));
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["weight"].clone(), updated["active"].clone()),
        (json!(10), json!(false))
    );
    assert_eq!(updated["maskedValue"], "sk-p****5b4a");
    let (status, p2) = json(hub.put(
        &format!("/api/ai-providers/{pid}"),
        K,
        &json!({"baseUrl": null, "region": "us-east-1"}),
    ));
    assert_eq!(status, 200, "{p2}");
    assert_eq!(
        (p2["baseUrl"].clone(), p2["region"].clone()),
        (Value::Null, json!("us-east-1"))
    );

    // The plaintext is nowhere at rest, nor in the logs.
    for value in stored_values(&env) {
        assert!(
            value.starts_with("v1:") && !value.contains("PLAINTEXT"),
            "{value}"
        );
    }
    let hits = files_contain(env.dir.path(), PLAINTEXT.as_bytes());
    assert!(hits.is_empty(), "plaintext found in {hits:?}");
    assert!(!hub.logs().contains("PLAINTEXT"));

    // A restart keeps everything.
    let before = snapshot(&hub);
    assert!(hub.stop().success());
    let hub = env.start();
    assert_eq!(snapshot(&hub), before);

    // Deleting a provider removes its credentials and rates.
    let res = hub.delete(&format!("/api/ai-providers/{pid}"), K);
    assert_eq!(res.status().as_u16(), 204);
    let (_, rates) = json(hub.get("/api/ai-providers/model-rates", K));
    assert_eq!(rates["count"], 0);
    assert!(stored_values(&env).is_empty());
    error_of(hub.delete(&format!("/api/ai-providers/{pid}"), K), 404);
}

fn pagination_and_access_keys(backend: Backend) {
    let env = HubEnv::new(backend);
    let hub = env.start();
    let (_, provider) = json(hub.post("/api/ai-providers", K, &json!({"name": "anthropic"})));
    let pid = provider["id"].as_str().expect("id").to_owned();
    for i in 0..25 {
        let (status, _) = json(hub.post(
            &format!("/api/ai-providers/{pid}/model-rates"),
            K,
            &json!({"model": format!("claude-{i:02}"), "type": "chatCompletion", "inputRate": "1", "outputRate": "2"}),
        ));
        assert_eq!(status, 201);
    }
    let (_, page) = json(hub.get(
        &format!("/api/ai-providers/{pid}/model-rates?page=2&pageSize=10"),
        K,
    ));
    assert_eq!(page["count"], 25);
    assert_eq!(page["paging"], json!({"page": 2, "pageSize": 10}));
    let models: Vec<&str> = page["list"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["model"].as_str().expect("m"))
        .collect();
    assert_eq!(models.first(), Some(&"claude-10"));
    assert_eq!(models.len(), 10);
    let (_, last) = json(hub.get(
        &format!("/api/ai-providers/{pid}/model-rates?page=3&pageSize=10"),
        K,
    ));
    assert_eq!(last["list"].as_array().expect("list").len(), 5);
    let err = error_of(
        hub.get("/api/ai-providers/model-rates?pageSize=1000", K),
        400,
    );
    assert_eq!(err["param"], "pageSize");
    let err = error_of(hub.get("/api/ai-providers/model-rates?page=abc", K), 400);
    assert_eq!(err["param"], "page");

    // Access keys: create (plaintext once), use, list (no plaintext), revoke.
    let (status, created) = json(hub.post(
        "/api/access-keys",
        K,
        &json!({"name": "app", "role": "member"}),
    ));
    assert_eq!(status, 201, "{created}");
    let member = created["key"].as_str().expect("key").to_owned();
    let (status, mine) = json(hub.get("/api/access-keys", Some(&member)));
    assert_eq!(status, 200);
    assert_eq!(mine["count"], 1);
    assert!(mine["list"][0].get("key").is_none());
    assert!(!mine.to_string().contains(&member));
    // A member may make member keys for themself, not admin keys or keys for others.
    let (status, own) = json(hub.post("/api/access-keys", Some(&member), &json!({"name": "mine"})));
    assert_eq!(status, 201);
    assert_eq!(own["userDid"], created["userDid"]);
    error_of(
        hub.post(
            "/api/access-keys",
            Some(&member),
            &json!({"name": "x", "role": "admin"}),
        ),
        403,
    );
    error_of(
        hub.get("/api/access-keys?allUsers=true", Some(&member)),
        403,
    );
    error_of(hub.get("/api/users", Some(&member)), 403);
    let (_, users) = json(hub.get("/api/users", K));
    assert!(users["count"].as_i64().expect("count") >= 2, "{users}");

    let id = created["id"].as_str().expect("id");
    let (status, revoked) = json(hub.delete(&format!("/api/access-keys/{id}"), K));
    assert_eq!(status, 200);
    assert_eq!(revoked["revoked"], true);
    let err = error_of(hub.get("/api/access-keys", Some(&member)), 401);
    assert!(err["message"].as_str().expect("msg").contains("revoked"));
}

crate::on_both_backends!(admin_flow, pagination_and_access_keys);

/// `POST /api/ai-providers/{id}/credentials/{cid}/test`: the provider's answer for that key, a
/// disabled key included, nothing changed, the key never in the answer.
#[test]
fn credential_test_asks_the_provider() {
    let mock = crate::support::mock::MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    let (status, p) = json(hub.post(
        "/api/ai-providers",
        K,
        &json!({"name": "openai", "baseUrl": mock.base}),
    ));
    assert_eq!(status, 201, "{p}");
    let pid = p["id"].as_str().expect("id");
    let add = |name: &str, value: &str, active: bool| {
        let (status, c) = json(hub.post(
            &format!("/api/ai-providers/{pid}/credentials"),
            K,
            &json!({"name": name, "value": value, "active": active}),
        ));
        assert_eq!(status, 201, "{c}");
        c["id"].as_str().expect("id").to_owned()
    };
    let good = add("good", "mock-ok", false);
    let bad = add("bad", "mock-401", true);
    let test = |cid: &str| {
        json(hub.post(
            &format!("/api/ai-providers/{pid}/credentials/{cid}/test"),
            K,
            &json!({}),
        ))
    };
    let (status, r) = test(&good);
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["ok"], true, "{r}");
    assert!(r["latencyMs"].is_u64());
    let (status, r) = test(&bad);
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["ok"], false, "{r}");
    let message = r["message"].as_str().expect("message");
    assert!(message.contains("401"), "{message}");
    assert!(!message.contains("mock-401"), "{message}");
    assert_eq!(mock.calls("mock-ok"), 1);
    // Nothing changed: the disabled key stays disabled, the rejected one active.
    let (_, list) = json(hub.get(&format!("/api/ai-providers/{pid}/credentials"), K));
    let by_name = |n: &str| {
        list["list"]
            .as_array()
            .expect("list")
            .iter()
            .find(|c| c["name"] == n)
            .cloned()
            .expect("credential")
    };
    assert_eq!(by_name("good")["active"], false);
    assert_eq!(by_name("bad")["active"], true);
    // A call with the rejected key: the provider quotes the key, the Hub keeps it masked in the
    // call's row and the credential's error.
    let res = hub.post(
        "/api/v2/chat/completions",
        K,
        &json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert!(res.status().is_client_error() || res.status().is_server_error());
    crate::support::eventually(|| (!env.database.calls().is_empty()).then_some(()));
    let rows = env.database.calls();
    let reason = rows[0].error_reason.clone().expect("reason");
    assert!(
        reason.contains("401") && !reason.contains("mock-401"),
        "{reason}"
    );
    let (_, list) = json(hub.get(&format!("/api/ai-providers/{pid}/credentials"), K));
    let recorded = list.to_string();
    assert!(
        recorded.contains("401") && !recorded.contains("mock-401"),
        "{recorded}"
    );
    error_of(
        hub.post(
            &format!("/api/ai-providers/{pid}/credentials/nope/test"),
            K,
            &json!({}),
        ),
        404,
    );
    let (_, member) = json(hub.post(
        "/api/access-keys",
        K,
        &json!({"name": "m", "role": "member"}),
    ));
    error_of(
        hub.post(
            &format!("/api/ai-providers/{pid}/credentials/{good}/test"),
            member["key"].as_str(),
            &json!({}),
        ),
        403,
    );
}
