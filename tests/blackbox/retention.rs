//! Retention (SPEC §9 via issue 6): calls (and stored Responses API turns) older than
//! `retention.calls_days` and rollups older than `retention.stats_days` are deleted at start (then
//! hourly); newer ones stay.

use crate::on_both_backends;
use crate::support::{Backend, HubEnv};
use std::time::{Duration, Instant};

fn ago(backend: Backend, days: i64) -> String {
    match backend {
        Backend::Postgres => format!("now() - interval '{days} days'"),
        Backend::Sqlite => format!("datetime('now', '-{days} days')"),
    }
}

fn unix_ago(backend: Backend, days: i64) -> String {
    match backend {
        Backend::Postgres => {
            format!("CAST(EXTRACT(EPOCH FROM now() - interval '{days} days') AS BIGINT)")
        }
        Backend::Sqlite => format!("CAST(strftime('%s', 'now', '-{days} days') AS INTEGER)"),
    }
}

fn old_history_is_trimmed(backend: Backend) {
    let env = HubEnv::new(backend)
        .var("AIGNE_HUB_RETENTION__CALLS_DAYS", "30")
        .var("AIGNE_HUB_RETENTION__STATS_DAYS", "60");
    // Migrate, then seed history of every age.
    let hub = env.start();
    drop(hub);
    for (id, days) in [("c-5", 5), ("c-29", 29), ("c-31", 31), ("c-400", 400)] {
        env.database.execute(&format!(
            "INSERT INTO model_calls (id, model, type, status, total_usage, credits, call_time, created_at) \
             VALUES ('{id}', 'openai/gpt-5-mini', 'chatCompletion', 'success', 1, '0', {t}, {t})",
            t = ago(backend, days)
        ));
    }
    for (id, days) in [("s-10", 10), ("s-59", 59), ("s-61", 61), ("s-365", 365)] {
        env.database.execute(&format!(
            "INSERT INTO model_call_stats (id, user_did, app_did, time_type, timestamp, total_calls, \
             success_calls, failed_calls, total_usage, total_credits, total_duration_ms, created_at, updated_at) \
             VALUES ('{id}', 'u', '', 'day', {ts}, 1, 1, 0, 1, '0', 1, {t}, {t})",
            ts = unix_ago(backend, days),
            t = ago(backend, days)
        ));
    }
    // Stored Responses API turns are kept as long as calls.
    // Their keys are their times (milliseconds since 2025-01-01, shifted 22 bits).
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    for (id, days) in [("resp_5", 5), ("resp_31", 31)] {
        let key = (now_ms - days * 86_400_000 - 1_735_689_600_000) << 22;
        env.database.execute(&format!(
            "INSERT INTO stored_responses (turn_key, id, user_did, input, output, body, created_at) \
             VALUES ({key}, '{id}', 'u', '[]', '[]', '{{}}', {t})",
            t = ago(backend, days)
        ));
    }
    let _hub = env.start();
    let started = Instant::now();
    loop {
        let calls = env.database.count("SELECT COUNT(*) AS n FROM model_calls");
        let stats = env
            .database
            .count("SELECT COUNT(*) AS n FROM model_call_stats");
        let responses = env
            .database
            .count("SELECT COUNT(*) AS n FROM stored_responses");
        if (calls, stats, responses) == (2, 2, 1) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not trimmed: {calls} calls, {stats} rollups, {responses} stored responses"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        env.database
            .count("SELECT COUNT(*) AS n FROM model_calls WHERE id IN ('c-5', 'c-29')"),
        2
    );
    assert_eq!(
        env.database
            .count("SELECT COUNT(*) AS n FROM model_call_stats WHERE id IN ('s-10', 's-59')"),
        2
    );
    assert_eq!(
        env.database
            .count("SELECT COUNT(*) AS n FROM stored_responses WHERE id = 'resp_5'"),
        1
    );
}

on_both_backends!(old_history_is_trimmed);

/// `aigne-hub stats rebuild` recomputes the rollups from the calls: the same charts after.
fn stats_rebuild_matches_live_rollups(backend: Backend) {
    use crate::support::mock::MockUpstream;
    use crate::support::{ADMIN_KEY, json};
    use serde_json::json;
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    let id = hub.add_provider("openai", &mock);
    hub.add_key(&id, "k", "mock-ok");
    for stream in [false, true, false] {
        let res = hub.post(
            "/api/v2/chat/completions",
            Some(ADMIN_KEY),
            &json!({"model": "openai/gpt-5-mini", "stream": stream,
                    "messages": [{"role": "user", "content": "hi"}]}),
        );
        assert_eq!(res.status(), 200);
        let _ = res.text();
    }
    let path = "/api/user/usage-stats?allUsers=true&timeType=hour";
    let live = crate::support::eventually(|| {
        let (_, live) = json(hub.get(path, Some(ADMIN_KEY)));
        (live["totals"]["calls"] == 3).then_some(live)
    });
    drop(hub);
    // Damage the rollups, then rebuild them.
    env.database
        .execute("UPDATE model_call_stats SET stats = NULL, total_calls = 0");
    let out = env
        .command()
        .args(["stats", "rebuild"])
        .output()
        .expect("rebuild");
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("from 3 calls"),
        "{out:?}"
    );
    let hub = env.start();
    let (_, rebuilt) = json(hub.get(path, Some(ADMIN_KEY)));
    assert_eq!(rebuilt["totals"], live["totals"]);
    assert_eq!(rebuilt["byModel"], live["byModel"]);
}

on_both_backends!(stats_rebuild_matches_live_rollups);

/// With `retention.archive_dir`, calls past retention move to monthly SQLite files (whole rows,
/// nothing lost) and leave the database; newer calls stay.
fn old_calls_are_archived(backend: Backend) {
    use diesel::{Connection, QueryableByName, RunQueryDsl};
    #[derive(QueryableByName)]
    struct Archived {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        credits: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        usage_metrics: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        user_did: Option<String>,
    }
    let env = HubEnv::new(backend)
        .var("AIGNE_HUB_RETENTION__CALLS_DAYS", "30")
        .var("AIGNE_HUB_RETENTION__STATS_DAYS", "0")
        .var("AIGNE_HUB_RETENTION__ARCHIVE_DIR", "archive");
    drop(env.start());
    let days = [("c-5", 5), ("c-31", 31), ("c-95", 95), ("c-400", 400)];
    for (id, days) in days {
        env.database.execute(&format!(
            "INSERT INTO model_calls (id, model, type, status, total_usage, usage_metrics, credits, user_did, call_time, created_at) \
             VALUES ('{id}', 'openai/gpt-5-mini', 'chatCompletion', 'success', 7, '{{\"promptTokens\":5}}', '0.25', 'z1u', {t}, {t})",
            t = ago(backend, days)
        ));
    }
    let _hub = env.start();
    let started = Instant::now();
    while env.database.count("SELECT COUNT(*) AS n FROM model_calls") != 1 {
        assert!(started.elapsed() < Duration::from_secs(10), "not archived");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        env.database
            .count("SELECT COUNT(*) AS n FROM model_calls WHERE id = 'c-5'"),
        1
    );
    let dir = env.data_dir().join("archive");
    let mut found = Vec::new();
    for (id, days) in &days[1..] {
        let t = chrono::Utc::now() - chrono::Duration::days(*days);
        let path = dir.join(format!("model_calls-{}.sqlite", t.format("%Y-%m")));
        let mut conn =
            diesel::SqliteConnection::establish(&path.to_string_lossy()).expect("archive file");
        let rows: Vec<Archived> = diesel::sql_query(format!(
            "SELECT id, credits, usage_metrics, user_did FROM model_calls WHERE id = '{id}'"
        ))
        .load(&mut conn)
        .expect("archived rows");
        assert_eq!(rows.len(), 1, "{id} in {}", path.display());
        let row = &rows[0];
        assert_eq!(
            (
                row.credits.as_str(),
                row.usage_metrics.as_deref(),
                row.user_did.as_deref()
            ),
            ("0.25", Some("{\"promptTokens\":5}"), Some("z1u"))
        );
        found.push(row.id.clone());
    }
    assert_eq!(found, ["c-31", "c-95", "c-400"]);
}

on_both_backends!(old_calls_are_archived);
