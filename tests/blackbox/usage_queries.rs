//! The query parameters the real Hub's clients send to the call log and the usage statistics
//! (issue 27): `startTime`/`endTime`, `search` + `searchFields`, `minDurationSeconds`,
//! `status=all`, `timezoneOffset`, and the real Hub's answer fields beside the Hub's own.

use crate::on_both_backends;
use crate::support::{ADMIN_KEY, Backend, HubEnv, error_of, json};
use serde_json::{Value, json};

/// 2026-11-23 15:30, 16:30 and 2026-11-24 10:00 UTC.
const T1: i64 = 1_795_447_800;
const T2: i64 = 1_795_451_400;
const T3: i64 = 1_795_514_400;

fn queries(backend: Backend) {
    let env = HubEnv::new(backend);
    let hub = env.start();
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "member", "role": "member"}),
    ));
    let key = created["key"].as_str().expect("key").to_owned();
    let user = created["userDid"].as_str().expect("did").to_owned();
    let (status, _) = json(hub.put(
        "/api/user/profile",
        Some(&key),
        &json!({"fullName": "Ada", "email": "ada@example.com"}),
    ));
    assert_eq!(status, 200);
    drop(hub);
    for (id, time, model, app, ms, trace, credits) in [
        (
            "call-1",
            "2026-11-23 15:30:00",
            "openai/gpt-a",
            "zAppA",
            500,
            "trace-alpha",
            "1",
        ),
        (
            "call-2",
            "2026-11-23 16:30:00",
            "openai/gpt-b",
            "zAppA",
            2500,
            "trace-beta",
            "2",
        ),
        (
            "call-3",
            "2026-11-24 10:00:00",
            "anthropic/claude-x",
            "zAppB",
            4000,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "4",
        ),
    ] {
        env.database.execute(&format!(
            "INSERT INTO model_calls (id, model, type, status, total_usage, credits, duration_ms, \
             app_did, user_did, trace_id, call_time, created_at) VALUES ('{id}', '{model}', \
             'chatCompletion', 'success', 10, '{credits}', {ms}, '{app}', '{user}', '{trace}', \
             '{time}', '{time}')"
        ));
    }
    env.database.execute(
        "INSERT INTO model_calls (id, model, type, status, total_usage, credits, user_did, \
         call_time, created_at) VALUES ('6f1c0a52-3b7e-4d2a-9c61-0b5e8f3a7d19', 'openai/gpt-a', \
         'chatCompletion', 'success', 10, '1', 'zSomeoneElse', '2026-11-20 10:00:00', \
         '2026-11-20 10:00:00')",
    );
    let out = env
        .command()
        .args(["stats", "rebuild"])
        .output()
        .expect("rebuild");
    assert!(out.status.success(), "{out:?}");
    let hub = env.start();
    let ids = |query: &str| -> Vec<String> {
        let (status, body) = json(hub.get(&format!("/api/user/model-calls?{query}"), Some(&key)));
        assert_eq!(status, 200, "{query}: {body}");
        let mut ids: Vec<String> = body["list"]
            .as_array()
            .expect("list")
            .iter()
            .map(|c| c["id"].as_str().expect("id").to_owned())
            .collect();
        ids.sort();
        ids
    };

    // startTime/endTime in unix seconds; the real Hub's endTime is inclusive.
    assert_eq!(ids(&format!("startTime={}", T1 + 1)), ["call-2", "call-3"]);
    assert_eq!(
        ids(&format!("startTime={T1}&endTime={T2}")),
        ["call-1", "call-2"]
    );
    assert_eq!(ids("status=all"), ["call-1", "call-2", "call-3"]);
    // search: in every field by default, or in the ones named.
    assert_eq!(ids("search=ALPHA"), ["call-1"]);
    assert_eq!(ids("search=call-3"), ["call-3"]);
    assert_eq!(ids("search=claude&searchFields=model"), ["call-3"]);
    assert!(ids("search=claude&searchFields=traceId,id").is_empty());
    assert_eq!(ids(&format!("search={}", &user[..12])).len(), 3);
    assert_eq!(ids("search=100%25"), Vec::<String>::new(), "% is literal");
    // Whole identifiers are looked up through their indexes, with the same answers.
    assert_eq!(
        ids("search=4BF92F3577B34DA6A3CE929D0E0E4736"),
        ["call-3"],
        "a trace id"
    );
    assert_eq!(
        ids("search=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ["call-3"]
    );
    assert!(ids("search=4bf92f3577b34da6a3ce929d0e0e4736&searchFields=model").is_empty());
    assert!(ids("search=4bf92f3577b34da6a3ce929d0e0e4737").is_empty());
    assert_eq!(ids(&format!("search={user}")).len(), 3, "a whole DID");
    assert_eq!(ids(&format!("search=did:abt:{user}")).len(), 3);
    assert!(ids(&format!("search={user}&searchFields=id")).is_empty());
    let e = error_of(
        hub.get(
            "/api/user/model-calls?search=x&searchFields=prompt",
            Some(&key),
        ),
        400,
    );
    assert_eq!(e["param"], "searchFields");
    let (_, found) = json(hub.get(
        "/api/user/model-calls?allUsers=true&search=6F1C0A52-3B7E-4D2A-9C61-0B5E8F3A7D19",
        Some(ADMIN_KEY),
    ));
    assert_eq!(found["count"], 1, "a call id: {found}");
    assert_eq!(
        found["list"][0]["id"],
        "6f1c0a52-3b7e-4d2a-9c61-0b5e8f3a7d19"
    );
    assert!(
        ids("search=6f1c0a52-3b7e-4d2a-9c61-0b5e8f3a7d19").is_empty(),
        "not the member's"
    );
    // minDurationSeconds.
    assert_eq!(ids("minDurationSeconds=2.5"), ["call-2", "call-3"]);
    for bad in ["-1", "soon"] {
        let e = error_of(
            hub.get(
                &format!("/api/user/model-calls?minDurationSeconds={bad}"),
                Some(&key),
            ),
            400,
        );
        assert_eq!(e["param"], "minDurationSeconds");
    }
    // The real Hub's fields on each row.
    let (_, one) = json(hub.get("/api/user/model-calls?search=alpha", Some(&key)));
    let row = &one["list"][0];
    assert_eq!(row["duration"], 0.5);
    assert_eq!(row["durationMs"], 500);
    assert_eq!(
        row["appInfo"],
        json!({"appDid": "zAppA", "appName": "zAppA", "appLogo": "", "appUrl": ""})
    );
    assert_eq!(row["userInfo"]["did"], user.as_str());
    assert_eq!(row["userInfo"]["fullName"], "Ada");
    assert_eq!(row["userInfo"]["email"], "ada@example.com");

    // Day buckets: UTC, the user's (UTC+8: call 2 is on the 24th there), and a half-hour zone
    // (UTC-5:30, from the calls themselves).
    let stats = |tz: &str| -> Value {
        let (status, body) = json(hub.get(
            &format!(
                "/api/user/usage-stats?timeType=day&startTime={}&endTime={}{tz}",
                T1 - 86_400,
                T3 + 86_400
            ),
            Some(&key),
        ));
        assert_eq!(status, 200, "{body}");
        body
    };
    let series = |body: &Value| -> Vec<(String, u64, String)> {
        body["series"]
            .as_array()
            .expect("series")
            .iter()
            .map(|b| {
                (
                    b["timestamp"].as_str().expect("ts").to_owned(),
                    b["calls"].as_u64().expect("calls"),
                    b["credits"].as_str().expect("credits").to_owned(),
                )
            })
            .collect()
    };
    let utc = stats("");
    assert_eq!(utc["source"], "stats");
    assert_eq!(
        series(&utc),
        [
            ("2026-11-23T00:00:00Z".to_owned(), 2, "3".to_owned()),
            ("2026-11-24T00:00:00Z".to_owned(), 1, "4".to_owned())
        ]
    );
    let east = stats("&timezoneOffset=-480");
    assert_eq!(east["source"], "stats");
    assert_eq!(east["timezoneOffset"], -480);
    assert_eq!(
        series(&east),
        [
            ("2026-11-23T00:00:00+08:00".to_owned(), 1, "1".to_owned()),
            ("2026-11-24T00:00:00+08:00".to_owned(), 2, "6".to_owned())
        ]
    );
    let half = stats("&timezoneOffset=330");
    assert_eq!(half["source"], "calls");
    assert_eq!(
        series(&half),
        [
            ("2026-11-23T00:00:00-05:30".to_owned(), 2, "3".to_owned()),
            ("2026-11-24T00:00:00-05:30".to_owned(), 1, "4".to_owned())
        ]
    );
    // Hourly rows over whole days take the totals and the per-model breakdown from the day
    // rows and the series from the hours: the same counts as the calls themselves give.
    let brief = |body: &Value| -> (Value, Vec<(String, u64, String)>) {
        let t = &body["totals"];
        let models = body["byModel"]
            .as_array()
            .expect("byModel")
            .iter()
            .map(|m| {
                (
                    m["model"].as_str().expect("model").to_owned(),
                    m["calls"].as_u64().expect("calls"),
                    m["credits"].as_str().expect("credits").to_owned(),
                )
            })
            .collect();
        (json!([t["calls"], t["credits"], t["totalUsage"]]), models)
    };
    assert_eq!(brief(&east), brief(&half));
    let hourly = |extra: &str| -> Value {
        // From 16:00 on the 23rd (a part of it) over the whole 24th into the 25th.
        let (status, body) = json(hub.get(
            &format!(
                "/api/user/usage-stats?timeType=hour&startTime={}&endTime={}{extra}",
                T1 + 1_800,
                T3 + 86_400
            ),
            Some(&key),
        ));
        assert_eq!(status, 200, "{body}");
        body
    };
    let (rolled, counted) = (hourly(""), hourly("&minDurationSeconds=0"));
    assert_eq!(
        (&rolled["source"], &counted["source"]),
        (&json!("stats"), &json!("calls"))
    );
    assert_eq!(brief(&rolled), brief(&counted));
    assert_eq!(brief(&rolled).0, json!([2, "6", 20]));
    assert_eq!(series(&rolled), series(&counted));
    assert_eq!(utc["modelStats"]["totalModelCount"], 3);
    assert_eq!(utc["modelStats"]["list"][0]["totalCalls"], 1);
    let e = error_of(
        hub.get("/api/user/usage-stats?timezoneOffset=9999", Some(&key)),
        400,
    );
    assert_eq!(e["param"], "timezoneOffset");
}

on_both_backends!(queries);

/// The CSV export streams page by page: 2,500 calls (many sharing one call time, so pages split
/// between equal times) come out once each, newest first, with one header.
fn export_pages(backend: Backend) {
    let env = HubEnv::new(backend);
    drop(env.start());
    let mut values = Vec::new();
    for i in 0..2_500 {
        // Five distinct times, 500 calls each.
        let minute = i % 5;
        values.push(format!(
            "('exp-{i:05}', 'openai/gpt-x', 'chatCompletion', 'success', 3, '0', \
             '2026-11-23 10:0{minute}:00', '2026-11-23 10:0{minute}:00')"
        ));
    }
    env.database.execute(&format!(
        "INSERT INTO model_calls (id, model, type, status, total_usage, credits, call_time, created_at) VALUES {}",
        values.join(",")
    ));
    let hub = env.start();
    let res = hub.get(
        "/api/user/model-calls/export?allUsers=true",
        Some(ADMIN_KEY),
    );
    assert_eq!(res.status(), 200);
    let text = res.text().expect("csv");
    let mut lines = text.lines();
    assert!(lines.next().expect("header").starts_with("id,"));
    let rows: Vec<(&str, &str)> = lines
        .map(|l| {
            let mut cells = l.split(',');
            (cells.next().expect("id"), cells.next().expect("time"))
        })
        .collect();
    assert_eq!(rows.len(), 2_500);
    let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r.0).collect();
    assert_eq!(ids.len(), 2_500, "a call came out twice");
    assert!(
        rows.windows(2).all(|w| (w[0].1, w[0].0) > (w[1].1, w[1].0)),
        "not newest first"
    );
}

on_both_backends!(export_pages);
