//! Notifications to a webhook receiver that checks their signatures: a key disabled and
//! restored, a low balance, credits granted; through a receiver outage and a Hub restart each is
//! accepted exactly once, and the console's list shows every delivery's state.

use crate::support::mock::MockUpstream;
use crate::support::webhook::Receiver;
use crate::support::{ADMIN_KEY, Backend, HubEnv, eventually, eventually_within, json};
use serde_json::{Value, json};
use std::time::Duration;

const K: Option<&str> = Some(ADMIN_KEY);
const SECRET: &str = "webhook-secret-for-the-test";

fn webhooks(backend: Backend) {
    let mock = MockUpstream::start();
    let receiver = Receiver::start(SECRET);
    let env = HubEnv::new(backend)
        .var("AIGNE_HUB_NOTIFICATIONS__WEBHOOK_URLS", &receiver.url)
        .var("AIGNE_HUB_NOTIFICATIONS__WEBHOOK_SECRET", SECRET)
        .var("AIGNE_HUB_NOTIFICATIONS__LOW_BALANCE", "0.9999")
        .var("AIGNE_HUB_NOTIFICATIONS__LOW_BALANCE_CHECK_SECS", "1")
        .var("AIGNE_HUB_UPSTREAM__RECHECK_BASE_SECS", "1")
        .var("AIGNE_HUB_BILLING__ENABLED", "true")
        .var("AIGNE_HUB_BILLING__NEW_USER_CREDITS", "1");
    let hub = env.start();
    let (_, me) = json(hub.get("/api/user/info", K));
    let admin = me["user"]["did"].as_str().expect("did").to_owned();
    let pid = hub.add_provider_with_keys("openai", &mock, &["mock-flaky", "mock-ok"]);
    hub.add_rate(&pid, "gpt-5-mini", "0.0000025", "0.00001");

    // The first key is refused (401): disabled, the call fails over and costs 0.0001475 of the
    // admin's starter credit, which leaves less than 0.9999.
    let (status, body) = json(hub.chat(K, "openai/gpt-5-mini", "Say hello."));
    assert_eq!(status, 200, "{body}");
    let disabled = eventually(|| receiver.of("credential_disabled"));
    assert_eq!(disabled["severity"], "error");
    assert_eq!(disabled["data"]["provider"], "openai");
    assert!(
        !disabled.to_string().contains("mock-flaky"),
        "the key is in the notice: {disabled}"
    );
    let low = eventually(|| receiver.of("balance_low"));
    assert_eq!(low["userDid"], admin.as_str(), "{low}");
    assert_eq!(low["data"]["balance"], "0.9998525", "{low}");

    // The provider takes the key again: the background re-check restores it.
    mock.heal();
    let restored = eventually_within(Duration::from_secs(10), || {
        receiver.of("credential_restored")
    });
    assert_eq!(
        restored["data"]["credentialId"],
        disabled["data"]["credentialId"]
    );

    // The receiver goes down: a grant's notice waits in the outbox, retried.
    receiver.set_down(true);
    let (status, grant) = json(hub.post(
        "/api/credits/grants",
        K,
        &json!({"userDid": admin, "amount": "5"}),
    ));
    assert_eq!(status, 201, "{grant}");
    eventually(|| (receiver.refused_while_down() >= 1).then_some(()));
    let pending = |hub: &crate::support::Hub| -> Value {
        let (status, list) = json(hub.get("/api/notifications", K));
        assert_eq!(status, 200, "{list}");
        list["list"]
            .as_array()
            .expect("list")
            .iter()
            .find(|n| n["type"] == "credits_granted")
            .cloned()
            .expect("listed")
    };
    let waiting = eventually(|| {
        let n = pending(&hub);
        (n["deliveries"][0]["lastError"].is_string()).then_some(n)
    });
    assert!(
        waiting["deliveries"][0]["deliveredAt"].is_null(),
        "{waiting}"
    );
    assert!(
        waiting["deliveries"][0]["attempts"].as_i64() >= Some(1),
        "{waiting}"
    );

    // The Hub stops while it is pending, the receiver comes back, the Hub starts again: the
    // notice arrives, once.
    assert!(hub.stop().success());
    receiver.set_down(false);
    let hub = env.start();
    let granted = eventually_within(Duration::from_secs(8), || receiver.of("credits_granted"));
    assert_eq!(granted["data"]["amount"], "5", "{granted}");
    assert_eq!(granted["userDid"], admin.as_str());
    eventually(|| {
        pending(&hub)["deliveries"][0]["deliveredAt"]
            .is_string()
            .then_some(())
    });

    std::thread::sleep(Duration::from_millis(1500));
    let acks = receiver.acks();
    assert_eq!(acks.len(), 4, "{acks:?}");
    assert!(acks.values().all(|n| *n == 1), "not exactly once: {acks:?}");
    assert_eq!(receiver.refused_signatures(), 0);

    // Every notice is listed, delivered; a member sees only theirs, without webhook URLs.
    let (_, list) = json(hub.get("/api/notifications", K));
    assert_eq!(list["count"], 4, "{list}");
    for n in list["list"].as_array().expect("list") {
        assert!(n["deliveries"][0]["deliveredAt"].is_string(), "{n}");
        assert_eq!(n["deliveries"][0]["channel"], receiver.url.as_str());
    }
    let (status, key) = json(hub.post(
        "/api/access-keys",
        K,
        &json!({"name": "member", "role": "member"}),
    ));
    assert_eq!(status, 201, "{key}");
    let member = key["key"].as_str().expect("key");
    let (status, own) = json(hub.get("/api/notifications", Some(member)));
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["count"], 0, "{own}");
}

crate::on_both_backends!(webhooks);

/// Webhook URLs without a secret, or not http(s), stop the start with a clear message.
#[test]
fn webhook_settings_are_checked_at_start() {
    for (vars, needle) in [
        (
            vec![(
                "AIGNE_HUB_NOTIFICATIONS__WEBHOOK_URLS",
                "http://127.0.0.1:9/x",
            )],
            "webhook_secret",
        ),
        (
            vec![
                ("AIGNE_HUB_NOTIFICATIONS__WEBHOOK_URLS", "ftp://x"),
                ("AIGNE_HUB_NOTIFICATIONS__WEBHOOK_SECRET", "s"),
            ],
            "webhook_urls",
        ),
    ] {
        let env = HubEnv::new(Backend::Sqlite);
        let mut cmd = env.command();
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run");
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success() && text.contains(needle), "{text}");
    }
}
