//! Two Hub instances on one PostgreSQL database: revocation reaches the other instance within the
//! key cache's 5 s, and a restart fails only its own interrupted calls (and anyone's older than
//! 30 minutes), never another live instance's in-flight ones.

use crate::support::{ADMIN_KEY, Backend, HubEnv, error_of, json};
use diesel::prelude::*;
use serde_json::json;
use std::time::{Duration, Instant};

const SECRET: &str = "shared-secret-for-both-instances";

fn insert_processing(url: &str, id: &str, instance: &str, minutes_ago: i64) {
    let mut conn = PgConnection::establish(url).expect("pg");
    let sql = format!(
        "INSERT INTO model_calls (id, model, type, status, total_usage, credits, call_time, created_at, instance_id) \
         VALUES ('{id}', 'openai/gpt-5-mini', 'chatCompletion', 'processing', 0, '0', \
         now() - interval '{minutes_ago} minutes', now() - interval '{minutes_ago} minutes', '{instance}')"
    );
    diesel::sql_query(sql).execute(&mut conn).expect("insert");
}

#[test]
fn two_instances_share_one_postgres() {
    let a_env = HubEnv::new(Backend::Postgres).var("AIGNE_HUB_SECRET", SECRET);
    let url = a_env.database.url().to_owned();
    let b_env = HubEnv::new(Backend::Postgres)
        .var("AIGNE_HUB_SECRET", SECRET)
        .var("AIGNE_HUB_DATABASE_URL", &url);
    let a = a_env.start();
    let b = b_env.start();

    let (_, created) = json(a.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "shared", "role": "member"}),
    ));
    let key = created["key"].as_str().expect("key").to_owned();
    let (status, _) = json(b.get("/api/access-keys", Some(&key)));
    assert_eq!(status, 200, "a key made on A works on B");
    let id = created["id"].as_str().expect("id");
    assert_eq!(
        a.delete(&format!("/api/access-keys/{id}"), Some(ADMIN_KEY))
            .status()
            .as_u16(),
        200
    );
    error_of(a.get("/api/access-keys", Some(&key)), 401);
    let revoked = Instant::now();
    loop {
        if b.get("/api/access-keys", Some(&key)).status().as_u16() == 401 {
            break;
        }
        assert!(
            revoked.elapsed() < Duration::from_secs(7),
            "B still accepts a revoked key"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Rows in flight elsewhere survive B's restart; stale ones and B's own do not.
    let b_instance =
        std::fs::read_to_string(b_env.data_dir().join("instance.id")).expect("instance.id");
    insert_processing(&url, "call-live-elsewhere", "another-instance", 1);
    insert_processing(&url, "call-stale-elsewhere", "another-instance", 31);
    insert_processing(&url, "call-own", b_instance.trim(), 1);
    assert!(b.stop().success());
    let _b = b_env.start();
    let status = |id: &str| {
        a_env
            .database
            .calls()
            .into_iter()
            .find(|r| r.id == id)
            .map(|r| r.status)
            .expect("row")
    };
    assert_eq!(status("call-live-elsewhere"), "processing");
    assert_eq!(status("call-stale-elsewhere"), "failed");
    assert_eq!(status("call-own"), "failed");
    drop(a);
}
