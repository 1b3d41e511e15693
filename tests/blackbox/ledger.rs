//! The built-in ledger (SPEC §9): admin grants, 402 before anything is sent, debits that match
//! the calls' credits, holds that keep concurrent calls from spending what is not there (one
//! instance on SQLite, two sharing PostgreSQL), and starter credits granted once under a race.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use serde_json::{Value, json};
use std::str::FromStr;

const SECRET: &str = "ledger-test-secret-0123456789abcdef";

/// An OpenAI provider on the mock with `key`, priced so that one call of the mock's fixture
/// (10 completion tokens) with `max_tokens: 10` costs exactly its estimate: 0.01 credits.
pub(crate) fn priced_provider(hub: &Hub, mock: &MockUpstream, key: &str) {
    let id = hub.add_provider("openai", mock);
    hub.add_key(&id, "k", key);
    let (status, rate) = json(hub.post(
        &format!("/api/ai-providers/{id}/model-rates"),
        Some(ADMIN_KEY),
        &json!({"model": "gpt-5-mini", "type": "chatCompletion", "inputRate": "0", "outputRate": "0.001"}),
    ));
    assert_eq!(status, 201, "{rate}");
}

/// Two instances' environments sharing one PostgreSQL database (and secret), with `vars`.
pub(crate) fn two_instances(vars: &[(&str, &str)]) -> (HubEnv, HubEnv) {
    let mut a = HubEnv::new(Backend::Postgres).var("AIGNE_HUB_SECRET", SECRET);
    let url = a.database.url().to_owned();
    let mut b = HubEnv::new(Backend::Postgres)
        .var("AIGNE_HUB_SECRET", SECRET)
        .var("AIGNE_HUB_DATABASE_URL", &url);
    for (k, v) in vars {
        a = a.var(k, v);
        b = b.var(k, v);
    }
    (a, b)
}

/// A member key and its user DID.
pub(crate) fn member(hub: &Hub, name: &str) -> (String, String) {
    let (status, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": name, "role": "member"}),
    ));
    assert_eq!(status, 201, "{created}");
    (
        created["key"].as_str().expect("key").to_owned(),
        created["userDid"].as_str().expect("userDid").to_owned(),
    )
}

pub(crate) fn chat(stream: bool) -> Value {
    json!({"model": "openai/gpt-5-mini", "max_tokens": 10, "stream": stream,
           "stream_options": {"include_usage": true},
           "messages": [{"role": "user", "content": "Say hello."}]})
}

fn grant(hub: &Hub, user: &str, amount: &str) -> Value {
    let (status, g) = json(hub.post(
        "/api/credits/grants",
        Some(ADMIN_KEY),
        &json!({"userDid": user, "amount": amount}),
    ));
    assert_eq!(status, 201, "{g}");
    g
}

pub(crate) fn balance(hub: &Hub, key: &str) -> String {
    let (status, b) = json(hub.get("/api/user/credit/balance", Some(key)));
    assert_eq!(status, 200, "{b}");
    b["balance"].as_str().expect("balance").to_owned()
}

pub(crate) fn dec(s: &str) -> rust_decimal::Decimal {
    rust_decimal::Decimal::from_str(s).expect("decimal")
}

fn grants_debits_and_402(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend).var("AIGNE_HUB_BILLING__ENABLED", "true");
    let hub = env.start();
    priced_provider(&hub, &mock, "mock-ok");
    let (key, user) = member(&hub, "payer");

    // No credits: 402 NOT_ENOUGH with the purchase link, before anything is sent or recorded.
    for stream in [false, true] {
        let e = error_of(
            hub.post("/api/v2/chat/completions", Some(&key), &chat(stream)),
            402,
        );
        assert_eq!(e["type"], "NOT_ENOUGH", "{e}");
        assert_eq!(e["link"], "/credits", "{e}");
        assert!(
            e["message"].as_str().expect("message").contains("/credits"),
            "{e}"
        );
    }
    let e = error_of(
        hub.post(
            "/api/v2/chat",
            Some(&key),
            &json!({"input": {"messages": [{"role": "user", "content": "hi"}]},
                    "model": "openai/gpt-5-mini"}),
        ),
        402,
    );
    assert_eq!(e["type"], "NOT_ENOUGH", "{e}");
    // Under an app's mount point (Blocklet Server's router says which), the link goes with it.
    let e = error_of(
        hub.request(reqwest::Method::POST, "/api/v2/chat/completions")
            .bearer_auth(&key)
            .header("x-path-prefix", "/aigne-hub")
            .json(&chat(false))
            .send()
            .expect("chat"),
        402,
    );
    assert_eq!(e["link"], "/aigne-hub/credits", "{e}");
    let (_, info) = json(
        hub.request(reqwest::Method::GET, "/api/user/info")
            .bearer_auth(&key)
            .header("x-path-prefix", "/aigne-hub/")
            .send()
            .expect("info"),
    );
    // Absolute in the user's info (clients print it), under the mount point.
    assert_eq!(info["paymentLink"], hub.url("/aigne-hub/credits"), "{info}");
    assert_eq!(mock.total_calls(), 0);
    assert!(env.database.calls().is_empty());
    // The status route says so too (signed in); anonymous callers only learn about the model.
    let (status, s) = json(hub.get("/api/v2/status?model=openai/gpt-5-mini", Some(&key)));
    assert_eq!(status, 200);
    assert_eq!(
        (&s["available"], &s["type"], &s["link"], &s["code"]),
        (
            &json!(false),
            &json!("NOT_ENOUGH"),
            &json!("/credits"),
            &json!(402)
        ),
        "{s}"
    );
    let (_, s) = json(hub.get("/api/v2/status?model=openai/gpt-5-mini", None));
    assert_eq!(s["available"], true, "{s}");

    // Bad grants are refused and change nothing.
    for (body, field) in [
        (json!({"userDid": user, "amount": "0"}), "amount"),
        (json!({"userDid": user, "amount": "-1"}), "amount"),
        (
            json!({"userDid": user, "amount": "0.00000000001"}),
            "amount",
        ),
        (json!({"userDid": "nobody", "amount": "1"}), "userDid"),
        (
            json!({"userDid": user, "amount": "1", "expiresAt": "2001-01-01T00:00:00Z"}),
            "expiresAt",
        ),
        (
            json!({"userDid": user, "amount": "1", "category": "gift"}),
            "category",
        ),
    ] {
        let e = error_of(hub.post("/api/credits/grants", Some(ADMIN_KEY), &body), 400);
        assert!(e["message"].as_str().expect("m").contains(field), "{e}");
    }
    error_of(
        hub.post(
            "/api/credits/grants",
            Some(&key),
            &json!({"userDid": user, "amount": "5"}),
        ),
        403,
    );
    assert_eq!(balance(&hub, &key), "0");

    // A grant, then calls: each debit is the call's credits, written with its row.
    let g = grant(&hub, &user, "0.025");
    assert_eq!(g["remaining"], "0.025");
    let (_, s) = json(hub.get("/api/v2/status?model=openai/gpt-5-mini", Some(&key)));
    assert_eq!(s["available"], true, "{s}");
    assert_eq!(g["category"], "paid");
    assert_eq!(balance(&hub, &key), "0.025");
    let (status, body) = json(hub.post("/api/v2/chat/completions", Some(&key), &chat(false)));
    assert_eq!(status, 200, "{body}");
    let res = hub.post("/api/v2/chat/completions", Some(&key), &chat(true));
    assert_eq!(res.status(), 200);
    let _ = res.text().expect("stream");
    // Stream: 3 completion tokens → 0.003.
    assert_eq!(balance(&hub, &key), "0.012");
    let (_, info) = json(hub.get("/api/user/info", Some(&key)));
    assert_eq!(info["enableCredit"], true, "{info}");
    assert_eq!(info["creditBalance"]["balance"], "0.012", "{info}");
    assert_eq!(info["paymentLink"], hub.url("/credits"));
    assert_eq!(info["user"]["did"], user.as_str());

    // The ledger: the grant, and the calls as `usage` rows (one per minute) that add up to
    // the calls' own credits.
    let (status, list) = json(hub.get("/api/user/credit/transactions", Some(&key)));
    assert_eq!(status, 200, "{list}");
    let entries = list["list"].as_array().expect("list");
    let grants: Vec<&Value> = entries.iter().filter(|t| t["kind"] == "grant").collect();
    assert_eq!(grants.len(), 1, "{list}");
    assert_eq!(grants[0]["amount"], "0.025");
    let usage: Vec<&Value> = entries.iter().filter(|t| t["kind"] == "usage").collect();
    assert!(!usage.is_empty() && usage.len() <= 2, "{list}");
    let spent: rust_decimal::Decimal = usage
        .iter()
        .map(|t| dec(t["amount"].as_str().expect("amount")))
        .sum();
    assert_eq!(spent, dec("-0.013"), "{list}");
    let calls: i64 = usage
        .iter()
        .map(|t| t["calls"].as_i64().expect("calls"))
        .sum();
    assert_eq!(calls, 2);
    let billed: rust_decimal::Decimal = env.database.calls().iter().map(|r| dec(&r.credits)).sum();
    assert_eq!(-spent, billed);

    // Spent down: one more call is admitted (0.012 > 0) and costs 0.01; the next one too
    // (0.002 > 0) and leaves −0.008 (its estimate gap); then 402.
    for _ in 0..2 {
        let (status, body) = json(hub.post("/api/v2/chat/completions", Some(&key), &chat(false)));
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(balance(&hub, &key), "-0.008");
    error_of(
        hub.post("/api/v2/chat/completions", Some(&key), &chat(false)),
        402,
    );
    // The next grant pays the debt first.
    let g = grant(&hub, &user, "1");
    assert_eq!(g["remaining"], "0.992");
    assert_eq!(balance(&hub, &key), "0.992");
    // Other users' transactions are not visible.
    let (_, mine) = json(hub.get("/api/user/credit/transactions", Some(ADMIN_KEY)));
    assert_eq!(mine["count"], 0, "{mine}");
}

#[test]
fn grants_debits_and_402_sqlite() {
    grants_debits_and_402(Backend::Sqlite);
}

#[test]
fn grants_debits_and_402_postgres() {
    grants_debits_and_402(Backend::Postgres);
}

/// 100 concurrent calls (spread over `hubs`) for a user whose balance covers exactly 10.
fn hundred_calls_for_ten(hubs: &[&Hub], key: &str) -> usize {
    let urls: Vec<String> = hubs
        .iter()
        .map(|h| h.url("/api/v2/chat/completions"))
        .collect();
    let handles: Vec<_> = (0..100)
        .map(|i| {
            let url = urls[i % urls.len()].clone();
            let key = key.to_owned();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                let res = client
                    .post(url)
                    .bearer_auth(key)
                    .json(&chat(false))
                    .send()
                    .expect("send");
                res.status().as_u16()
            })
        })
        .collect();
    let statuses: Vec<u16> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 402),
        "{statuses:?}"
    );
    statuses.iter().filter(|s| **s == 200).count()
}

#[test]
fn hundred_concurrent_calls_admit_at_most_ten_sqlite() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite).var("AIGNE_HUB_BILLING__ENABLED", "true");
    let hub = env.start();
    priced_provider(&hub, &mock, "mock-slow");
    let (key, user) = member(&hub, "racer");
    grant(&hub, &user, "0.1");
    let admitted = hundred_calls_for_ten(&[&hub], &key);
    // Each call holds exactly what it costs: exactly 10 fit, and nothing is overspent.
    assert_eq!(admitted, 10);
    assert_eq!(mock.total_calls(), 10);
    assert_eq!(balance(&hub, &key), "0");
}

#[test]
fn hundred_concurrent_calls_admit_at_most_ten_two_instances_postgres() {
    let mock = MockUpstream::start();
    let (a_env, b_env) = two_instances(&[("AIGNE_HUB_BILLING__ENABLED", "true")]);
    let a = a_env.start();
    priced_provider(&a, &mock, "mock-slow");
    let b = b_env.start();
    let (key, user) = member(&a, "racer");
    grant(&a, &user, "0.1");
    let admitted = hundred_calls_for_ten(&[&a, &b], &key);
    assert_eq!(admitted, 10);
    assert_eq!(mock.total_calls(), 10);
    assert_eq!(balance(&a, &key), "0");
    assert_eq!(balance(&b, &key), "0");
}

/// 50 chat calls at once from `key`'s user, spread over `hubs`; each must answer 200.
pub(crate) fn fifty_at_once(hubs: &[&Hub], key: &str) {
    let urls: Vec<String> = hubs
        .iter()
        .map(|h| h.url("/api/v2/chat/completions"))
        .collect();
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let url = urls[i % urls.len()].clone();
            let key = key.to_owned();
            std::thread::spawn(move || {
                reqwest::blocking::Client::new()
                    .post(url)
                    .bearer_auth(key)
                    .json(&chat(false))
                    .send()
                    .expect("send")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread"), 200);
    }
}

/// 50 first requests at once from one new user, over `hubs`: one starter grant, ever.
fn starter_race(hubs: &[&Hub], key: &str) {
    fifty_at_once(hubs, key);
    let (_, list) = json(hubs[0].get("/api/user/credit/transactions?pageSize=100", Some(key)));
    let grants: Vec<&Value> = list["list"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|t| t["kind"] == "grant")
        .collect();
    assert_eq!(grants.len(), 1, "{list}");
    assert_eq!(grants[0]["amount"], "5");
    assert_eq!(grants[0]["description"], "starter credits");
    // 5 − 50 × 0.01
    assert_eq!(dec(&balance(hubs[0], key)), dec("4.5"));
}

#[test]
fn starter_credits_once_under_a_race_sqlite() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite)
        .var("AIGNE_HUB_BILLING__ENABLED", "true")
        .var("AIGNE_HUB_BILLING__NEW_USER_CREDITS", "5");
    let hub = env.start();
    priced_provider(&hub, &mock, "mock-ok");
    let (key, _) = member(&hub, "newcomer");
    starter_race(&[&hub], &key);
}

#[test]
fn starter_credits_once_under_a_race_two_instances_postgres() {
    let mock = MockUpstream::start();
    let (a_env, b_env) = two_instances(&[
        ("AIGNE_HUB_BILLING__ENABLED", "true"),
        ("AIGNE_HUB_BILLING__NEW_USER_CREDITS", "5"),
    ]);
    let a = a_env.start();
    priced_provider(&a, &mock, "mock-ok");
    let b = b_env.start();
    let (key, _) = member(&a, "newcomer");
    starter_race(&[&a, &b], &key);
}

/// Two instances on PostgreSQL: an instance's unused lease goes back after a second idle, so
/// the other instance can spend the rest of the balance — and never more than it.
#[test]
fn idle_leases_return_to_other_instances_postgres() {
    let mock = MockUpstream::start();
    let (a_env, b_env) = two_instances(&[("AIGNE_HUB_BILLING__ENABLED", "true")]);
    let a = a_env.start();
    priced_provider(&a, &mock, "mock-ok");
    let b = b_env.start();
    let (key, user) = member(&a, "two-homes");
    grant(&a, &user, "0.1");
    // A's first call leases the whole balance (it is small): B finds nothing free meanwhile.
    let (status, body) = json(a.post("/api/v2/chat/completions", Some(&key), &chat(false)));
    assert_eq!(status, 200, "{body}");
    let e = error_of(
        b.post("/api/v2/chat/completions", Some(&key), &chat(false)),
        402,
    );
    assert_eq!(e["type"], "NOT_ENOUGH");
    // Idle for a second, A gives its lease back; B spends the other 9 calls, then 402.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    for i in 0..9 {
        let (status, body) = json(b.post("/api/v2/chat/completions", Some(&key), &chat(false)));
        assert_eq!(status, 200, "call {i}: {body}");
    }
    error_of(
        b.post("/api/v2/chat/completions", Some(&key), &chat(false)),
        402,
    );
    assert_eq!(balance(&a, &key), "0");
    assert_eq!(mock.total_calls(), 10);
}
