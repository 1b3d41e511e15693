//! `/api/user/info` in the real Hub's shape (what `aigne hub status` prints), profiles in
//! standalone mode, and the credit endpoints the SDKs call: `credit/grants`,
//! `credit/payment-link` (issue 27).

use crate::on_both_backends;
use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, HubEnv, error_of, json};
use serde_json::json;

fn user_info_and_profiles(backend: Backend) {
    let mock = MockUpstream::start();
    let hub = HubEnv::new(backend)
        .var("AIGNE_HUB_BILLING__ENABLED", "true")
        .var("AIGNE_HUB_BILLING__CREDIT_PREFIX", "$")
        .launch();
    let pid = hub.add_provider("openai", &mock);
    hub.add_key(&pid, "k", "mock-ok");
    hub.add_rate(&pid, "gpt-5-mini", "0.001", "0.002");
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "member", "role": "member"}),
    ));
    let key = created["key"].as_str().expect("key").to_owned();
    let did = created["userDid"].as_str().expect("did").to_owned();

    // A new user: no profile, no grants.
    let (status, info) = json(hub.get("/api/user/info", Some(&key)));
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["user"]["did"], did.as_str());
    for field in ["fullName", "email", "avatar"] {
        assert!(info["user"][field].is_null(), "{field}: {info}");
    }
    assert_eq!(info["enableCredit"], true);
    assert_eq!(info["creditPrefix"], "$");
    let base = hub.url("");
    assert_eq!(info["paymentLink"], format!("{base}/credits"));
    assert_eq!(info["profileLink"], format!("{base}/credit-usage"));
    let balance = &info["creditBalance"];
    assert_eq!(
        (
            &balance["balance"],
            &balance["total"],
            &balance["grantCount"]
        ),
        (&json!("0"), &json!("0"), &json!(0)),
        "{info}"
    );

    // The user edits their profile; bad values are named, nothing half-written.
    let profile = json!({"fullName": "  Ada Lovelace ", "email": "ada@example.com", "avatar": "https://img.example/ada.png"});
    let (status, set) = json(hub.put("/api/user/profile", Some(&key), &profile));
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["fullName"], "Ada Lovelace");
    for (body, field) in [
        (json!({"email": "not an address"}), "email"),
        (json!({"avatar": "javascript:alert(1)"}), "avatar"),
        (json!({"fullName": "x".repeat(101)}), "fullName"),
    ] {
        let e = error_of(hub.put("/api/user/profile", Some(&key), &body), 400);
        assert_eq!(e["param"], field, "{e}");
    }
    error_of(
        hub.put("/api/user/profile", Some(&key), &json!({"nickname": "x"})),
        400,
    );
    // Only an admin edits someone else's.
    error_of(
        hub.put(
            &format!("/api/users/{did}/profile"),
            Some(&key),
            &json!({"email": "x@example.com"}),
        ),
        403,
    );
    let (status, _) = json(hub.put(
        &format!("/api/users/{did}/profile"),
        Some(ADMIN_KEY),
        &json!({"email": "ada@lovelace.example", "avatar": null}),
    ));
    assert_eq!(status, 200);
    error_of(
        hub.put(
            "/api/users/z1NoSuchUser/profile",
            Some(ADMIN_KEY),
            &json!({"email": "x@example.com"}),
        ),
        404,
    );

    // Two grants, one call: total is what was granted, balance what is left.
    for amount in ["10", "5"] {
        let (status, g) = json(hub.post(
            "/api/credits/grants",
            Some(ADMIN_KEY),
            &json!({"userDid": did, "amount": amount}),
        ));
        assert_eq!(status, 201, "{g}");
    }
    let (status, _) = json(hub.post(
        "/api/v2/chat/completions",
        Some(&key),
        &json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]}),
    ));
    assert_eq!(status, 200);
    let (_, info) = json(hub.get("/api/user/info", Some(&key)));
    assert_eq!(info["user"]["fullName"], "Ada Lovelace");
    assert_eq!(info["user"]["email"], "ada@lovelace.example");
    assert!(info["user"]["avatar"].is_null());
    let balance = &info["creditBalance"];
    assert_eq!(balance["total"], "15", "{info}");
    assert_eq!(balance["grantCount"], 2);
    let cost = env_cost(&hub);
    assert_eq!(
        balance["balance"],
        (rust_decimal::Decimal::from(15) - cost)
            .normalize()
            .to_string(),
        "{info}"
    );
    assert_eq!(balance["pendingCredit"], "0");

    // The grants, newest first, and the purchase link as a JSON string.
    let (status, grants) = json(hub.get("/api/user/credit/grants?pageSize=1", Some(&key)));
    assert_eq!(status, 200, "{grants}");
    assert_eq!(grants["count"], 2);
    assert_eq!(grants["list"][0]["amount"], "5");
    assert_eq!(grants["list"][0]["status"], "granted");
    let (status, link) = json(hub.get("/api/user/credit/payment-link", Some(&key)));
    assert_eq!((status, link), (200, json!(format!("{base}/credits"))));
    error_of(hub.get("/api/user/credit/grants", None), 401);
}

/// What the member's one call cost (from its row).
fn env_cost(hub: &crate::support::Hub) -> rust_decimal::Decimal {
    let (_, calls) = json(hub.get("/api/user/model-calls?allUsers=true", Some(ADMIN_KEY)));
    calls["list"][0]["credits"]
        .as_str()
        .expect("credits")
        .parse()
        .expect("decimal")
}

on_both_backends!(user_info_and_profiles);

/// Without billing, as the real Hub: no balance, credits off; the profile still answers.
#[test]
fn user_info_without_billing() {
    let hub = HubEnv::new(Backend::Sqlite).launch();
    let (_, info) = json(hub.get("/api/user/info", Some(ADMIN_KEY)));
    assert!(info["creditBalance"].is_null(), "{info}");
    assert_eq!(info["enableCredit"], false);
    assert_eq!(info["creditPrefix"], "");
    assert!(info["user"]["did"].is_string());
}
