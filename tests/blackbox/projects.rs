//! Usage per project (issue 27): three apps' calls over a week (seeded, rollups rebuilt), the
//! projects list, trends and group trends exact against the calls, `timezoneOffset` moving day
//! buckets, a member seeing only their own, app names from registration, the quota, and which
//! app a call counts for.

use crate::on_both_backends;
use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, HubEnv, error_of, json};
use crate::v1::{APP_ID, APP_PK};
use serde_json::{Value, json};

/// 2026-11-23 00:00 and 2026-11-30 00:00 UTC.
const WEEK_START: i64 = 1_795_392_000;
const WEEK_END: i64 = 1_795_996_800;
const DAY: i64 = 86_400;

/// One app's calls and credits in a bucket.
type AppDay = (String, u64, String);

fn projects(backend: Backend) {
    let env = HubEnv::new(backend).var("AIGNE_HUB_BILLING__ENABLED", "true");
    let hub = env.start();
    let member = |name: &str| {
        let (_, created) = json(hub.post(
            "/api/access-keys",
            Some(ADMIN_KEY),
            &json!({"name": name, "role": "member"}),
        ));
        (
            created["key"].as_str().expect("key").to_owned(),
            created["userDid"].as_str().expect("did").to_owned(),
        )
    };
    let (key, user) = member("u");
    let (other_key, other) = member("v");
    let (status, _) = json(hub.post(
        "/api/credits/grants",
        Some(ADMIN_KEY),
        &json!({"userDid": user, "amount": "100"}),
    ));
    assert_eq!(status, 201);
    // App B registers with its name and logo.
    let (status, _) = json(hub.post(
        "/api/app/register",
        None,
        &json!({"publicKey": APP_PK, "appName": "Beta App", "appLogo": "https://beta.example/logo.png",
                "appUrl": "https://beta.example"}),
    ));
    assert_eq!(status, 200);
    error_of(
        hub.post(
            "/api/app/register",
            None,
            &json!({"publicKey": APP_PK, "appUrl": "ftp://beta"}),
        ),
        400,
    );
    drop(hub);
    let b = APP_ID;
    for (n, who, app, time, credits, ms) in [
        (1, &user, "zAppA", "2026-11-23 10:00:00", "1", 1000),
        (2, &user, "zAppA", "2026-11-23 20:00:00", "2", 3000),
        (3, &user, "zAppA", "2026-11-25 12:00:00", "1", 2000),
        (4, &user, b, "2026-11-24 15:30:00", "5", 500),
        (5, &user, b, "2026-11-29 23:30:00", "1", 500),
        (6, &user, "zAppC", "2026-11-27 01:00:00", "3", 100),
        (7, &other, "zAppA", "2026-11-24 09:00:00", "100", 100),
    ] {
        env.database.execute(&format!(
            "INSERT INTO model_calls (id, model, type, status, total_usage, credits, duration_ms, \
             app_did, user_did, call_time, created_at) VALUES ('call-{n}', 'openai/gpt-5-mini', \
             'chatCompletion', 'success', 10, '{credits}', {ms}, '{app}', '{who}', '{time}', '{time}')"
        ));
    }
    let out = env
        .command()
        .args(["stats", "rebuild"])
        .output()
        .expect("rebuild");
    assert!(out.status.success(), "{out:?}");
    let hub = env.start();
    let week = format!("startTime={WEEK_START}&endTime={WEEK_END}");
    let get = |path: &str, k: &str| -> Value {
        let (status, body) = json(hub.get(path, Some(k)));
        assert_eq!(status, 200, "{path}: {body}");
        body
    };

    // The member's projects, by calls or by credits; the other user's call is not theirs.
    let list = get(&format!("/api/usage/projects?{week}"), &key);
    let rows: Vec<(String, u64, String)> = list["projects"]
        .as_array()
        .expect("projects")
        .iter()
        .map(|p| {
            (
                p["appDid"].as_str().expect("app").to_owned(),
                p["totalCalls"].as_u64().expect("calls"),
                p["totalCredits"].as_str().expect("credits").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("zAppA".to_owned(), 3, "4".to_owned()),
            (b.to_owned(), 2, "6".to_owned()),
            ("zAppC".to_owned(), 1, "3".to_owned())
        ]
    );
    assert_eq!(list["total"], 3);
    let a = &list["projects"][0];
    assert_eq!(a["appName"], "zAppA", "an unknown app keeps its DID");
    assert_eq!(a["avgDuration"], 2.0);
    assert_eq!(a["successRate"], 100.0);
    assert_eq!(a["lastCallTime"], WEEK_START + 2 * DAY + 12 * 3600);
    assert_eq!(list["projects"][1]["appName"], "Beta App");
    assert_eq!(
        list["projects"][1]["appLogo"],
        "https://beta.example/logo.png"
    );
    let by_credits = get(
        &format!("/api/usage/projects?{week}&sortBy=totalCredits&pageSize=1"),
        &key,
    );
    assert_eq!(by_credits["projects"][0]["appDid"], b);
    assert_eq!(by_credits["projects"].as_array().expect("page").len(), 1);
    error_of(
        hub.get(
            &format!("/api/usage/projects?{week}&sortBy=name"),
            Some(&key),
        ),
        400,
    );
    // Everyone's, for admins only.
    error_of(
        hub.get(
            &format!("/api/usage/projects?{week}&allUsers=true"),
            Some(&key),
        ),
        403,
    );
    let all = get(
        &format!("/api/usage/projects?{week}&allUsers=true"),
        ADMIN_KEY,
    );
    assert_eq!(all["projects"][0]["appDid"], "zAppA");
    assert_eq!(all["projects"][0]["totalCalls"], 4);
    assert_eq!(all["projects"][0]["totalCredits"], "104");
    let theirs = get(&format!("/api/usage/projects?{week}"), &other_key);
    assert_eq!(theirs["total"], 1);

    // Group trends: every day of the week, exact per app; in UTC+8 the late calls move a day.
    let group = |tz: &str| -> Vec<(i64, Vec<AppDay>)> {
        let body = get(
            &format!("/api/usage/projects/group-trends?{week}{tz}"),
            &key,
        );
        assert_eq!(body["granularity"], "day");
        body["trends"]
            .as_array()
            .expect("trends")
            .iter()
            .map(|t| {
                let by = t["byProject"].as_object().expect("byProject");
                (
                    t["timestamp"].as_i64().expect("ts"),
                    by.iter()
                        .map(|(app, s)| {
                            (
                                app.clone(),
                                s["totalCalls"].as_u64().expect("calls"),
                                s["totalCredits"].as_str().expect("credits").to_owned(),
                            )
                        })
                        .collect(),
                )
            })
            .collect()
    };
    let day = |n: i64| WEEK_START + n * DAY;
    let one = |app: &str, calls: u64, credits: &str| (app.to_owned(), calls, credits.to_owned());
    let mut b_first = vec![one(b, 1, "5")];
    b_first.sort();
    assert_eq!(
        group(""),
        [
            (day(0), vec![one("zAppA", 2, "3")]),
            (day(1), b_first.clone()),
            (day(2), vec![one("zAppA", 1, "1")]),
            (day(3), vec![]),
            (day(4), vec![one("zAppC", 1, "3")]),
            (day(5), vec![]),
            (day(6), vec![one(b, 1, "1")]),
        ]
    );
    let local = |n: i64| day(n) - 8 * 3600;
    let mut day_24 = vec![one("zAppA", 1, "2"), one(b, 1, "5")];
    day_24.sort();
    assert_eq!(
        group("&timezoneOffset=-480"),
        [
            (local(0), vec![one("zAppA", 1, "1")]),
            (local(1), day_24),
            (local(2), vec![one("zAppA", 1, "1")]),
            (local(3), vec![]),
            (local(4), vec![one("zAppC", 1, "3")]),
            (local(5), vec![]),
            (local(6), vec![]),
            (local(7), vec![one(b, 1, "1")]),
        ]
    );

    // One project's trend, and its calls.
    let trend = get(
        &format!("/api/usage/projects/trends?{week}&appDid=zAppA"),
        &key,
    );
    let calls: Vec<u64> = trend["trends"]
        .as_array()
        .expect("trends")
        .iter()
        .map(|t| t["calls"].as_u64().expect("calls"))
        .collect();
    assert_eq!(calls, [2, 0, 1, 0, 0, 0, 0]);
    assert_eq!(trend["trends"][0]["totalCredits"], "3");
    assert_eq!(trend["trends"][0]["avgDuration"], 2.0);
    assert_eq!(trend["project"]["appDid"], "zAppA");
    error_of(
        hub.get(&format!("/api/usage/projects/trends?{week}"), Some(&key)),
        400,
    );
    let calls = get(
        &format!("/api/usage/projects/calls?{week}&appDid={b}"),
        &key,
    );
    assert_eq!(calls["count"], 2);
    assert_eq!(calls["list"][0]["appInfo"]["appName"], "Beta App");

    // Everyone's trends are for admins.
    error_of(
        hub.get(&format!("/api/usage/trends?{week}"), Some(&key)),
        403,
    );
    let everyone = get(&format!("/api/usage/trends?{week}"), ADMIN_KEY);
    let total: u64 = everyone["trends"]
        .as_array()
        .expect("trends")
        .iter()
        .map(|t| t["calls"].as_u64().expect("calls"))
        .sum();
    assert_eq!(total, 7);

    // The quota: 13 credits over 7 days, 100 left.
    let quota = get(&format!("/api/usage/quota?{week}"), &key);
    assert_eq!(quota["usedInRange"], "13");
    assert_eq!(quota["days"], 7);
    let daily: f64 = quota["dailyAvgCredits"]
        .as_str()
        .expect("daily")
        .parse()
        .expect("number");
    assert!((daily - 13.0 / 7.0).abs() < 1e-9, "{quota}");
    assert_eq!(quota["remaining"], "100");
    assert_eq!(quota["total"], "100");
    assert_eq!(quota["estimatedDaysRemaining"], "53");
    error_of(hub.get("/api/usage/quota?timeRange=0", Some(&key)), 400);
}

on_both_backends!(projects);

/// A call counts for the app its caller names, else the app its key was made for.
#[test]
fn the_app_of_a_call() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    let pid = hub.add_provider("openai", &mock);
    hub.add_key(&pid, "k", "mock-ok");
    let (status, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "for an app", "role": "member", "appDid": "zKeysApp"}),
    ));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["appDid"], "zKeysApp");
    error_of(
        hub.post(
            "/api/access-keys",
            Some(ADMIN_KEY),
            &json!({"name": "bad", "appDid": "not a did"}),
        ),
        400,
    );
    let key = created["key"].as_str().expect("key");
    let body =
        json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]});
    let (status, _) = json(hub.post("/api/v2/chat/completions", Some(key), &body));
    assert_eq!(status, 200);
    let res = hub
        .request(reqwest::Method::POST, "/api/v2/chat/completions")
        .bearer_auth(key)
        .header("x-aigne-hub-client-did", "zNamedApp")
        .json(&body)
        .send()
        .expect("call");
    assert_eq!(res.status(), 200);
    let apps: Vec<Option<String>> = env
        .database
        .calls()
        .into_iter()
        .map(|r| r.app_did)
        .collect();
    assert_eq!(
        apps,
        [Some("zKeysApp".to_owned()), Some("zNamedApp".to_owned())]
    );
}

/// An app that registers its URL gets the name its `__blocklet__.js` gives (read in the
/// background); one whose URL does not answer keeps its DID.
#[test]
fn project_names_from_the_apps_own_blocklet_js() {
    let hub = HubEnv::new(Backend::Sqlite).launch();
    let register = |seed: u8, url: &str| -> String {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let pk = format!("0x{}", hex::encode(key.verifying_key().to_bytes()));
        let (status, reg) = json(hub.post(
            "/api/app/register",
            None,
            &json!({"publicKey": pk, "appUrl": url}),
        ));
        assert_eq!(status, 200, "{reg}");
        reg["id"].as_str().expect("id").to_owned()
    };
    let name_of = |app: &str| -> Value {
        let (_, t) = json(hub.get(
            &format!("/api/usage/projects/trends?appDid={app}&timeRange=1"),
            Some(ADMIN_KEY),
        ));
        t["project"]["appName"].clone()
    };
    // The Hub itself answers `__blocklet__.js` as a Blocklet app does.
    let named = register(7, &hub.url("/"));
    let down = register(8, "http://127.0.0.1:1/");
    crate::support::eventually(|| (name_of(&named) == "AIGNE Hub").then_some(()));
    assert_eq!(name_of(&down), down.as_str());
}
