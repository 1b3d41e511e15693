//! The call log (SPEC §5.6): `GET /api/user/model-calls` with filters and pagination, and its CSV
//! export; members see only their own calls.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use serde_json::json;

fn provider(hub: &Hub, name: &str, mock: &MockUpstream, key: &str) {
    let id = hub.add_provider(name, mock);
    hub.add_key(&id, "k", key);
}

fn call(hub: &Hub, key: &str, model: &str) -> u16 {
    hub.chat(Some(key), model, "hi").status().as_u16()
}

fn log_on(backend: Backend) {
    let mock = MockUpstream::start();
    let hub = HubEnv::new(backend).launch();
    provider(&hub, "openai", &mock, "mock-ok");
    provider(&hub, "deepseek", &mock, "mock-500");
    let (_, member) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "m", "role": "member"}),
    ));
    let member = member["key"].as_str().expect("key").to_owned();
    assert_eq!(call(&hub, ADMIN_KEY, "openai/gpt-5-mini"), 200);
    assert_eq!(call(&hub, ADMIN_KEY, "openai/gpt-5-mini"), 200);
    assert_ne!(call(&hub, ADMIN_KEY, "deepseek/deepseek-chat"), 200);
    assert_eq!(call(&hub, &member, "openai/gpt-5-mini"), 200);

    // A member sees only its own call, and may not ask for everyone's.
    let (status, mine) = json(hub.get("/api/user/model-calls", Some(&member)));
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["count"], 1);
    assert_eq!(mine["list"][0]["status"], "success");
    assert_eq!(mine["list"][0]["usageMetrics"]["promptTokens"], 19);
    assert!(mine["list"][0].get("credentialId").is_none());
    error_of(
        hub.get("/api/user/model-calls?allUsers=true", Some(&member)),
        403,
    );

    // An admin: everyone's, filtered and paged, newest first.
    let (_, all) = json(hub.get("/api/user/model-calls?allUsers=true", Some(ADMIN_KEY)));
    assert_eq!(all["count"], 4, "{all}");
    let (_, failed) = json(hub.get(
        "/api/user/model-calls?allUsers=true&status=failed",
        Some(ADMIN_KEY),
    ));
    assert_eq!(failed["count"], 1);
    assert_eq!(failed["list"][0]["model"], "deepseek/deepseek-chat");
    assert!(
        failed["list"][0]["errorReason"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );
    let (_, by_model) = json(hub.get(
        "/api/user/model-calls?allUsers=true&model=GPT-5",
        Some(ADMIN_KEY),
    ));
    assert_eq!(by_model["count"], 3);
    let (_, own) = json(hub.get("/api/user/model-calls", Some(ADMIN_KEY)));
    assert_eq!(own["count"], 3);
    let (_, page) = json(hub.get(
        "/api/user/model-calls?allUsers=true&pageSize=1&page=2",
        Some(ADMIN_KEY),
    ));
    assert_eq!(
        (
            page["count"].as_i64(),
            page["list"].as_array().map(Vec::len)
        ),
        (Some(4), Some(1))
    );
    assert_eq!(page["paging"], json!({"page": 2, "pageSize": 1}));
    let times: Vec<String> = all["list"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["callTime"].as_str().expect("time").to_owned())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let (_, future) = json(hub.get(
        "/api/user/model-calls?allUsers=true&start=4102444800",
        Some(ADMIN_KEY),
    ));
    assert_eq!(future["count"], 0);
    let (_, window) = json(hub.get(
        "/api/user/model-calls?allUsers=true&start=2020-01-01T00:00:00Z&end=4102444800",
        Some(ADMIN_KEY),
    ));
    assert_eq!(window["count"], 4);
    // Bad filters name the parameter.
    for (q, field) in [
        ("type=bogus", "type"),
        ("status=done", "status"),
        ("start=yesterday", "start"),
        ("start=2000&end=1000", "end"),
        ("pageSize=1000", "pageSize"),
    ] {
        let e = error_of(
            hub.get(&format!("/api/user/model-calls?{q}"), Some(ADMIN_KEY)),
            400,
        );
        assert!(
            e["message"].as_str().expect("m").contains(field),
            "{q}: {e}"
        );
    }

    // Usage statistics over the same rows.
    // Rollups lag the calls by at most a quarter of a second.
    let stats = crate::support::eventually(|| {
        let (status, stats) = json(hub.get(
            "/api/user/usage-stats?allUsers=true&timeType=hour",
            Some(ADMIN_KEY),
        ));
        assert_eq!(status, 200, "{stats}");
        (stats["totals"]["calls"] == 4).then_some(stats)
    });
    assert_eq!(stats["totals"]["calls"], 4, "{stats}");
    assert_eq!(
        (
            stats["totals"]["success"].as_u64(),
            stats["totals"]["failed"].as_u64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(stats["totals"]["totalUsage"], 87);
    assert!(stats["totals"]["durationP95"].as_i64().is_some(), "{stats}");
    let series = stats["series"].as_array().expect("series");
    assert!(
        !series.is_empty()
            && series
                .iter()
                .map(|b| b["calls"].as_u64().unwrap_or(0))
                .sum::<u64>()
                == 4
    );
    assert_eq!(stats["byModel"][0]["model"], "openai/gpt-5-mini");
    assert_eq!(stats["byModel"][0]["calls"], 3);
    // Kept as calls finished (rollups), and the same counts as computed from the calls.
    assert_eq!(stats["source"], "stats");
    let (_, exact) = json(hub.get(
        "/api/user/usage-stats?allUsers=true&timeType=hour&type=chatCompletion",
        Some(ADMIN_KEY),
    ));
    assert_eq!(exact["source"], "calls", "{exact}");
    for field in ["calls", "success", "failed", "totalUsage", "credits"] {
        assert_eq!(exact["totals"][field], stats["totals"][field], "{field}");
    }
    let (_, day) = json(hub.get(
        "/api/user/usage-stats?allUsers=true&timeType=month",
        Some(ADMIN_KEY),
    ));
    assert_eq!(day["totals"]["calls"], 4, "{day}");
    // Broken down by user (admins) and by app.
    let (_, by_user) = json(hub.get(
        "/api/user/usage-stats?allUsers=true&timeType=hour&groupBy=user",
        Some(ADMIN_KEY),
    ));
    assert_eq!(by_user["groupBy"], "user", "{by_user}");
    let groups = by_user["byGroup"].as_array().expect("byGroup");
    assert_eq!(groups.len(), 2, "{by_user}");
    assert_eq!(
        (groups[0]["calls"].as_u64(), groups[1]["calls"].as_u64()),
        (Some(3), Some(1)),
        "{by_user}"
    );
    let (_, by_app) = json(hub.get(
        "/api/user/usage-stats?allUsers=true&timeType=hour&groupBy=app",
        Some(ADMIN_KEY),
    ));
    let apps: u64 = by_app["byGroup"]
        .as_array()
        .expect("byGroup")
        .iter()
        .map(|g| g["calls"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(apps, 4, "{by_app}");
    for (q, who) in [
        ("groupBy=user", member.as_str()),
        ("groupBy=team", ADMIN_KEY),
        ("groupBy=app&model=x", ADMIN_KEY),
    ] {
        let e = error_of(
            hub.get(&format!("/api/user/usage-stats?{q}"), Some(who)),
            400,
        );
        assert_eq!(e["param"], "groupBy", "{q}: {e}");
    }
    let (_, own_stats) = json(hub.get("/api/user/usage-stats", Some(&member)));
    assert_eq!(own_stats["totals"]["calls"], 1);
    assert_eq!(own_stats["timeType"], "day");
    error_of(
        hub.get("/api/user/usage-stats?timeType=week", Some(ADMIN_KEY)),
        400,
    );
    error_of(
        hub.get("/api/user/usage-stats?allUsers=true", Some(&member)),
        403,
    );

    // CSV export with the same filters.
    let res = hub.get(
        "/api/user/model-calls/export?allUsers=true&status=success",
        Some(ADMIN_KEY),
    );
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    let text = res.text().expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    assert_eq!(&header[0], "id");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(rows.len(), 3, "{text}");
    let status_col = header
        .iter()
        .position(|h| h == "status")
        .expect("status column");
    assert!(rows.iter().all(|r| &r[status_col] == "success"));
    let member_csv = hub
        .get("/api/user/model-calls/export", Some(&member))
        .text()
        .expect("csv");
    assert_eq!(member_csv.lines().count(), 2, "{member_csv}");
}

#[test]
fn call_log_sqlite() {
    log_on(Backend::Sqlite);
}

#[test]
fn call_log_postgres() {
    log_on(Backend::Postgres);
}
