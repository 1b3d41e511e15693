//! A wrong secret or a tampered stored value: a clear error for that credential, never a crash,
//! never plaintext.

use crate::support::{ADMIN_KEY, Backend, HubEnv, json};
use diesel::prelude::*;
use serde_json::json;

const K: Option<&str> = Some(ADMIN_KEY);

fn tamper(env: &HubEnv, id: &str) {
    let sql = format!(
        "UPDATE ai_credentials SET credential_value = 'v1:' || 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE id = '{id}'"
    );
    if env.database.is_postgres() {
        let mut conn = PgConnection::establish(env.database.url()).expect("pg");
        diesel::sql_query(sql).execute(&mut conn).expect("update");
    } else {
        let path = env
            .database
            .url()
            .trim_start_matches("sqlite://")
            .to_owned();
        let mut conn = SqliteConnection::establish(&path).expect("sqlite");
        diesel::sql_query(sql).execute(&mut conn).expect("update");
    }
}

fn wrong_secret_and_tampering(backend: Backend) {
    let env = HubEnv::new(backend).var("AIGNE_HUB_SECRET", "first-secret-0123456789");
    let hub = env.start();
    let (_, provider) = json(hub.post("/api/ai-providers", K, &json!({"name": "google"})));
    let pid = provider["id"].as_str().expect("id").to_owned();
    let creds = format!("/api/ai-providers/{pid}/credentials");
    let (_, a) = json(hub.post(
        &creds,
        K,
        &json!({"name": "a", "value": "AIzaSy-first-value-000111"}),
    ));
    let (_, b) = json(hub.post(
        &creds,
        K,
        &json!({"name": "b", "value": "AIzaSy-second-value-222333"}),
    ));
    tamper(&env, a["id"].as_str().expect("id"));

    let (status, list) = json(hub.get(&creds, K));
    assert_eq!(status, 200, "{list}");
    let items = list["list"].as_array().expect("list");
    let tampered = items.iter().find(|c| c["id"] == a["id"]).expect("a");
    assert_eq!(tampered["maskedValue"], serde_json::Value::Null);
    assert!(
        tampered["error"]
            .as_str()
            .expect("error")
            .contains("tampered"),
        "{tampered}"
    );
    let fine = items.iter().find(|c| c["id"] == b["id"]).expect("b");
    assert_eq!(fine["maskedValue"], "AIza****2333");
    assert!(hub.stop().success());

    // Restart with another secret: the Hub starts, every credential reports the error.
    let env = env.var("AIGNE_HUB_SECRET", "second-secret-9876543210");
    let hub = env.start();
    let (status, list) = json(hub.get(&creds, K));
    assert_eq!(status, 200);
    for c in list["list"].as_array().expect("list") {
        assert_eq!(c["maskedValue"], serde_json::Value::Null);
        assert!(
            c["error"].as_str().expect("error").contains("wrong secret"),
            "{c}"
        );
    }
    assert!(!list.to_string().contains("value-"));
    // Replacing the value heals the credential.
    let bid = b["id"].as_str().expect("id");
    let (status, healed) = json(hub.put(
        &format!("{creds}/{bid}"),
        K,
        &json!({"value": "AIzaSy-third-value-444555"}),
    ));
    assert_eq!(status, 200, "{healed}");
    assert_eq!(healed["maskedValue"], "AIza****4555");
    assert_eq!(healed["error"], serde_json::Value::Null);
}

crate::on_both_backends!(wrong_secret_and_tampering);
