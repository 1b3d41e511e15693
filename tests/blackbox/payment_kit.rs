//! Billing through Payment Kit (SPEC §9) against the Node stand-in, whose `verifySig` is
//! @blocklet/sdk's own: balances read from it, every billed call reported exactly once (lost
//! answers, an outage under traffic and a Hub restart included), starter credits granted once,
//! `verify-availability` deciding for users with nothing left, v1 subscriptions.

use crate::ledger::{chat, dec, fifty_at_once, member, priced_provider};
use crate::support::blocklet_server::APP_SK;
use crate::support::mock::MockUpstream;
use crate::support::payment_kit::PaymentKitStandIn;
use crate::support::{Backend, Hub, HubEnv, error_of, eventually, eventually_within, json};
use std::time::Duration;

/// Reports retry with backoff: settling takes a few seconds.
const SETTLE: Duration = Duration::from_secs(20);
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::HashMap;

fn hub_env(backend: Backend, pk: &PaymentKitStandIn) -> HubEnv {
    HubEnv::new(backend)
        .var("AIGNE_HUB_BILLING__ENABLED", "true")
        .var("BLOCKLET_APP_SK", APP_SK)
        .var("BLOCKLET_MOUNT_POINTS", &pk.mount_points())
}

/// `n` chat calls, four at a time; returns their statuses.
fn calls(hub: &Hub, key: &str, n: usize) -> Vec<u16> {
    let url = hub.url("/api/v2/chat/completions");
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (url, key) = (url.clone(), key.to_owned());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                (t..n)
                    .step_by(4)
                    .map(|i| {
                        client
                            .post(&url)
                            .bearer_auth(&key)
                            .json(&chat(i % 3 == 0))
                            .send()
                            .and_then(|r| {
                                let status = r.status().as_u16();
                                r.bytes().map(|_| status)
                            })
                            .expect("send")
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect()
}

fn all_ok(statuses: &[u16]) {
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

fn reports_every_call_exactly_once(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let mut pk = PaymentKitStandIn::start(dir.path());
    let mock = MockUpstream::start();
    let env = hub_env(backend, &pk);
    let hub = env.start();
    priced_provider(&hub, &mock, "mock-ok");
    let (key, user) = member(&hub, "payer");

    // Nothing granted at Payment Kit: 402 with the purchase link, nothing sent upstream.
    let e = error_of(
        hub.post("/api/v2/chat/completions", Some(&key), &chat(false)),
        402,
    );
    assert_eq!(e["type"], "NOT_ENOUGH", "{e}");
    assert_eq!(mock.total_calls(), 0);

    pk.control("grant", &json!({"did": user, "amount": "100"}));
    // The first report reaches Payment Kit but its answer is lost: the Hub must send it again
    // under the same identifier.
    pk.control("drop", &json!({"count": 1}));
    all_ok(&calls(&hub, &key, 20));
    eventually_within(SETTLE, || {
        let rows = env.database.outbox();
        (rows.len() == 20 && rows.iter().all(|r| r.status == "sent")).then_some(())
    });

    // Payment Kit stops under traffic: calls go on from the cached balance, reports wait.
    pk.stop();
    all_ok(&calls(&hub, &key, 20));
    let waiting = env
        .database
        .outbox()
        .into_iter()
        .filter(|r| r.status == "pending")
        .count();
    assert_eq!(waiting, 20);
    // The Hub restarts while Payment Kit is still down: nothing is lost.
    eventually_within(SETTLE, || {
        env.database
            .outbox()
            .iter()
            .any(|r| r.status == "pending" && r.attempts > 0)
            .then_some(())
    });
    assert!(hub.stop().success());
    let hub = env.start();
    pk.resume();
    // Again a lost answer, for the reports that waited through the restart.
    pk.control("drop", &json!({"count": 1}));
    all_ok(&calls(&hub, &key, 10));
    eventually_within(SETTLE, || {
        let rows = env.database.outbox();
        (rows.len() == 50 && rows.iter().all(|r| r.status == "sent")).then_some(())
    });

    // Every report arrived once (the two lost answers were posted twice, counted once), and what
    // Payment Kit counted is what the calls cost.
    let state = pk.state();
    let events = state["events"].as_array().expect("events");
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for e in events {
        *seen
            .entry(e["identifier"].as_str().expect("id"))
            .or_default() += 1;
    }
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    let posted_twice = state["posts"]
        .as_object()
        .expect("posts")
        .values()
        .filter(|n| n.as_u64() == Some(2))
        .count();
    assert_eq!(posted_twice, 2, "{}", state["posts"]);
    let outbox_ids: std::collections::HashSet<String> = env
        .database
        .outbox()
        .into_iter()
        .map(|r| r.identifier.expect("identified"))
        .collect();
    assert_eq!(
        outbox_ids,
        seen.keys().map(|k| (*k).to_owned()).collect(),
        "one event per identifier"
    );
    let reported: Decimal = events
        .iter()
        .map(|e| dec(e["value"].as_str().expect("value")))
        .sum();
    let calls = env.database.calls();
    assert_eq!(calls.len(), 50);
    let cost: Decimal = calls.iter().map(|c| dec(&c.credits)).sum();
    assert!(cost > Decimal::ZERO);
    assert_eq!(reported, cost);
    // One outbox row per call, written with it.
    let outbox = env.database.outbox();
    let owed: Decimal = outbox.iter().map(|r| dec(&r.amount)).sum();
    assert_eq!(owed, cost);
    let call_ids: std::collections::HashSet<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    assert!(outbox.iter().all(|r| {
        r.model_call_id
            .as_deref()
            .is_some_and(|id| call_ids.contains(id))
    }));
    for e in events {
        assert_eq!(e["did"], user.as_str());
    }
    // The user's transactions are Payment Kit's.
    let (status, list) = json(hub.get("/api/user/credit/transactions?pageSize=2", Some(&key)));
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["count"], events.len(), "{list}");
    assert_eq!(list["list"].as_array().expect("list").len(), 2, "{list}");
    // Once Payment Kit has applied the events, its balance and the Hub's agree.
    eventually(|| {
        let (status, b) = json(hub.get("/api/user/credit/balance", Some(&key)));
        assert_eq!(status, 200, "{b}");
        (dec(b["balance"].as_str().expect("balance")) == dec("100") - cost).then_some(())
    });
}

#[test]
fn payment_kit_reports_every_call_exactly_once_sqlite() {
    reports_every_call_exactly_once(Backend::Sqlite);
}

#[test]
fn payment_kit_reports_every_call_exactly_once_postgres() {
    reports_every_call_exactly_once(Backend::Postgres);
}

/// Starter credits under a race of 50 first calls (one promotional grant), `verify-availability`
/// for a user with nothing left, and v1 apps needing a subscription.
#[test]
fn payment_kit_starter_credits_availability_and_subscriptions() {
    use crate::v1::{APP_ID, APP_PK, USER, app_key, now, remote_headers, send};
    let dir = tempfile::tempdir().expect("dir");
    let pk = PaymentKitStandIn::start(dir.path());
    let mock = MockUpstream::start();
    let env = hub_env(Backend::Sqlite, &pk).var("AIGNE_HUB_BILLING__NEW_USER_CREDITS", "1");
    let hub = env.start();
    priced_provider(&hub, &mock, "mock-ok");
    let (key, user) = member(&hub, "newcomer");
    fifty_at_once(&[&hub], &key);
    let state = pk.state();
    let starters: Vec<&Value> = state["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .filter(|g| g["did"] == user.as_str())
        .collect();
    assert_eq!(starters.len(), 1, "{starters:?}");
    assert_eq!(starters[0]["category"], "promotional");
    assert_eq!(starters[0]["metadata"]["reason"], "new-user");

    // 1 − 50 × 0.01 left: 50 more calls use it up (the 100th settles at exactly 0), then 402.
    all_ok(&calls(&hub, &key, 50));
    eventually_within(SETTLE, || {
        let rows = env.database.outbox();
        (rows.len() == 100 && rows.iter().all(|r| r.status == "sent")).then_some(())
    });
    let e = eventually(|| {
        let res = hub.post("/api/v2/chat/completions", Some(&key), &chat(false));
        (res.status() == 402).then(|| error_of(res, 402))
    });
    assert_eq!(e["type"], "NOT_ENOUGH", "{e}");
    // Payment Kit lets the user go on (auto-recharge): admitted with nothing left.
    pk.control("availability", &json!({"canContinue": true}));
    let (status, body) = json(hub.post("/api/v2/chat/completions", Some(&key), &chat(false)));
    assert_eq!(status, 200, "{body}");
    pk.control("availability", &json!({"canContinue": false}));

    // v1: an app calling with its own signature needs an active or trialing subscription.
    pk.control("grant", &json!({"did": USER, "amount": "1"}));
    let (status, _) = json(hub.post("/api/app/register", None, &json!({"publicKey": APP_PK})));
    assert_eq!(status, 200);
    let data = json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "Hi"}], "maxTokens": 10});
    let v1_call = || {
        send(
            &hub,
            reqwest::Method::POST,
            "/api/v1/chat/completions",
            &remote_headers(&app_key(), APP_ID, now(), &data),
            Some(&data),
        )
    };
    let upstream_before = mock.total_calls();
    let e = error_of(v1_call(), 402);
    assert_eq!(e["type"], "UNSUBSCRIBED", "{e}");
    assert_eq!(e["link"], "/credits", "{e}");
    assert_eq!(mock.total_calls(), upstream_before);
    let status_of_app = || {
        json(send(
            &hub,
            reqwest::Method::GET,
            "/api/app/status",
            &remote_headers(&app_key(), APP_ID, now(), &json!({})),
            None,
        ))
    };
    let (status, s) = status_of_app();
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["subscription"], Value::Null, "{s}");
    pk.control("subscribe", &json!({"appId": APP_ID, "status": "canceled"}));
    error_of(v1_call(), 402);
    // Past due: still no calls, but the app's status shows it and where to pay.
    pk.control("subscribe", &json!({"appId": APP_ID, "status": "past_due"}));
    error_of(v1_call(), 402);
    let (_, s) = status_of_app();
    assert_eq!(s["subscription"]["status"], "past_due", "{s}");
    let detail = s["subscriptionDetailUrl"].as_str().expect("detail url");
    assert!(
        detail.starts_with(&hub.url("/payment/customer/subscription/sub_")),
        "{detail}"
    );
    pk.control("subscribe", &json!({"appId": APP_ID, "status": "trialing"}));
    let (status, answer) = json(v1_call());
    assert_eq!(status, 200, "{answer}");
    let (_, s) = status_of_app();
    assert_eq!(s["subscription"]["status"], "trialing", "{s}");
}

/// `@blocklet/aigne-hub`'s helpers with billing through Payment Kit: the user's grants,
/// balance and transactions are Payment Kit's.
#[test]
fn blocklet_aigne_hub_helpers_with_payment_kit() {
    let dir = tempfile::tempdir().expect("dir");
    let pk = PaymentKitStandIn::start(dir.path());
    let hub = hub_env(Backend::Sqlite, &pk).launch();
    let (key, user) = crate::ledger::member(&hub, "blocklet user");
    pk.control("grant", &json!({"did": user, "amount": "100"}));
    crate::interop::blocklet_aigne_hub(&hub, &key, "payment-kit");
}
