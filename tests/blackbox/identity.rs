//! v2 identity (SPEC §7.1): where the token may be (header > cookie > body > query, duplicates
//! refused like `@blocklet/sdk`), DID-session login tokens, and Blocklet access keys verified by a
//! fake Blocklet Server that checks the Hub's own request signature.

use crate::support::blocklet_server::{APP_DID, APP_PID, APP_SK, FakeBlockletServer};
use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const SESSION_SECRET: &str = "hub-test-session-secret";
const USER_DID: &str = "z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn mint(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

fn status_of(hub: &Hub, token: &str, path: &str) -> u16 {
    hub.get(path, Some(token)).status().as_u16()
}

#[test]
fn token_locations_precedence_and_duplicates() {
    let mock = MockUpstream::start();
    let hub = HubEnv::new(Backend::Sqlite)
        .var("OPENAI_API_KEY", "mock-ok")
        .var("OPENAI_BASE_URL", &mock.base)
        .launch();
    let get =
        |f: &dyn Fn(reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder| {
            f(hub.request(Method::GET, "/api/access-keys"))
                .send()
                .expect("GET")
        };
    // Each place alone.
    assert_eq!(get(&|r| r.bearer_auth(ADMIN_KEY)).status(), 200);
    assert_eq!(
        get(&|r| r.header("cookie", format!("theme=dark; login_token={ADMIN_KEY}"))).status(),
        200
    );
    let query = hub
        .request(
            Method::GET,
            &format!("/api/access-keys?access_token={ADMIN_KEY}"),
        )
        .send()
        .expect("GET");
    assert_eq!(query.status(), 200);
    let chat = json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}], "access_token": ADMIN_KEY});
    let (status, body) = json(
        hub.request(Method::POST, "/api/v2/chat/completions")
            .json(&chat)
            .send()
            .expect("POST"),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    // The caller's token stays in the Hub.
    let sent = mock.bodies();
    assert!(
        sent.iter().all(|b| b.get("access_token").is_none()),
        "{sent:?}"
    );
    // Nowhere: 401.
    let e = error_of(get(&|r| r), 401);
    assert!(
        e["message"]
            .as_str()
            .expect("message")
            .contains("missing access token"),
        "{e}"
    );
    // The same token in the header and the cookie: 400, like @blocklet/sdk.
    let e = error_of(
        get(&|r| {
            r.bearer_auth(ADMIN_KEY)
                .header("cookie", format!("login_token={ADMIN_KEY}"))
        }),
        400,
    );
    assert!(
        e["message"]
            .as_str()
            .expect("message")
            .contains("multiple locations"),
        "{e}"
    );
    // Two tokens outside the header: 400 even when they differ.
    let two = hub
        .request(Method::GET, "/api/access-keys?access_token=other")
        .header("cookie", format!("login_token={ADMIN_KEY}"))
        .send()
        .expect("GET");
    error_of(two, 400);
    // Header token repeated in the body.
    let dup = hub
        .request(Method::POST, "/api/v2/chat/completions")
        .bearer_auth(ADMIN_KEY)
        .json(&chat)
        .send()
        .expect("POST");
    error_of(dup, 400);
    // Account switch: a different cookie under a valid header is not a duplicate; the header wins.
    assert_eq!(
        get(&|r| r
            .bearer_auth(ADMIN_KEY)
            .header("cookie", "login_token=stale"))
        .status(),
        200
    );
    // Nothing reached the upstream for the refused requests.
    assert_eq!(mock.total_calls(), 1);
}

#[test]
fn login_tokens_with_roles_and_refusals() {
    let hub = HubEnv::new(Backend::Sqlite)
        .var("BLOCKLET_SESSION_SECRET", SESSION_SECRET)
        .launch();
    let exp = now() + 3600;
    let owner = mint(
        &json!({"did": USER_DID, "role": "owner", "fullName": "Alice", "provider": "wallet", "iat": now(), "exp": exp}),
        SESSION_SECRET,
    );
    let member = mint(
        &json!({"did": USER_DID, "role": "member", "iat": now(), "exp": exp}),
        SESSION_SECRET,
    );
    let admin = mint(
        &json!({"did": USER_DID, "role": "admin", "iat": now(), "exp": exp}),
        SESSION_SECRET,
    );
    let guest = mint(
        &json!({"did": "z1guest", "role": "guest", "iat": now(), "exp": exp}),
        SESSION_SECRET,
    );
    let custom = mint(
        &json!({"did": "z1custom", "role": "vip", "iat": now(), "exp": exp}),
        SESSION_SECRET,
    );
    let component = mint(
        &json!({"did": "z1comp", "role": "component", "iat": now(), "exp": exp}),
        SESSION_SECRET,
    );
    // Owner and admin reach admin routes; member, guest and unknown roles (as guests) only their
    // own data; a token cannot claim the component role.
    assert_eq!(status_of(&hub, &owner, "/api/ai-providers"), 200);
    assert_eq!(status_of(&hub, &admin, "/api/ai-providers"), 200);
    for token in [&member, &guest, &custom, &component] {
        assert_eq!(status_of(&hub, token, "/api/access-keys"), 200);
        error_of(hub.get("/api/ai-providers", Some(token)), 403);
        error_of(hub.get("/api/access-keys?allUsers=true", Some(token)), 403);
    }
    assert_eq!(
        status_of(&hub, &admin, "/api/access-keys?allUsers=true"),
        200
    );
    // The login_token cookie works too, and the user is the token's DID.
    let (status, keys) = json(
        hub.request(Method::POST, "/api/access-keys")
            .header("cookie", format!("login_token={member}"))
            .json(&json!({"name": "mine"}))
            .send()
            .expect("POST"),
    );
    assert_eq!(status, 201, "{keys}");
    assert_eq!(keys["userDid"], USER_DID, "{keys}");
    // Refusals: expired, refresh, wrong secret, alg none, malformed, no exp.
    let expired = mint(
        &json!({"did": USER_DID, "role": "owner", "exp": now() - 5}),
        SESSION_SECRET,
    );
    let refresh = mint(
        &json!({"did": USER_DID, "role": "owner", "exp": exp, "tokenType": "refresh"}),
        SESSION_SECRET,
    );
    let wrong = mint(
        &json!({"did": USER_DID, "role": "owner", "exp": exp}),
        "another-secret",
    );
    let none = {
        let b64 = |v: &Value| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&json!({"did": USER_DID, "role": "owner", "exp": exp}))
        )
    };
    let no_exp = mint(&json!({"did": USER_DID, "role": "owner"}), SESSION_SECRET);
    for (what, token) in [
        ("expired", expired),
        ("refresh", refresh),
        ("wrong secret", wrong),
        ("alg none", none),
        ("malformed", "abc.def.ghi".to_owned()),
        ("no exp", no_exp),
    ] {
        let e = error_of(hub.get("/api/access-keys", Some(&token)), 401);
        assert!(e["message"].as_str().is_some(), "{what}: {e}");
    }
}

#[test]
fn login_tokens_need_blocklet_mode() {
    let hub = HubEnv::new(Backend::Sqlite).launch();
    let token = mint(
        &json!({"did": USER_DID, "role": "owner", "exp": now() + 60}),
        SESSION_SECRET,
    );
    let e = error_of(hub.get("/api/access-keys", Some(&token)), 401);
    assert!(
        e["message"].as_str().expect("m").contains("Blocklet mode"),
        "{e}"
    );
}

#[test]
fn blocklet_access_keys_through_blocklet_server() {
    let server = FakeBlockletServer::start();
    server.add_key("blocklet-admin1", USER_DID, "blocklet-admin");
    server.add_key("blocklet-guest1", "z1guestDid", "blocklet-guest");
    let hub = HubEnv::new(Backend::Sqlite)
        .var("ABT_NODE_PORT", &server.port.to_string())
        .var("BLOCKLET_APP_SK", APP_SK)
        .var("BLOCKLET_APP_PID", APP_PID)
        .var("AIGNE_HUB_BLOCKLET_KEY_CACHE_SECS", "3")
        .launch();
    assert_eq!(status_of(&hub, "blocklet-admin1", "/api/ai-providers"), 200);
    assert!(server.refused().is_empty(), "{:?}", server.refused());
    error_of(hub.get("/api/ai-providers", Some("blocklet-guest1")), 403);
    let e = error_of(hub.get("/api/access-keys", Some("blocklet-unknown")), 401);
    assert!(
        e["message"].as_str().expect("m").contains("not found"),
        "{e}"
    );
    // The user's profile is Blocklet Server's (its avatar path is the app's, made absolute).
    server.add_user(
        USER_DID,
        json!({"did": USER_DID, "fullName": "Blocklet Admin", "email": "admin@blocklet.example",
               "avatar": "/.well-known/service/user/avatar/admin.png"}),
    );
    let (status, info) = json(hub.get("/api/user/info", Some("blocklet-admin1")));
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["user"]["fullName"], "Blocklet Admin");
    assert_eq!(info["user"]["email"], "admin@blocklet.example");
    assert_eq!(
        info["user"]["avatar"],
        hub.url("/.well-known/service/user/avatar/admin.png")
    );
    // Cached: a second use does not ask again.
    let calls = server.calls();
    assert_eq!(status_of(&hub, "blocklet-admin1", "/api/access-keys"), 200);
    assert_eq!(server.calls(), calls);
    // Revoked at the server: works until the cache (3 s here, 60 s by default) ends, then not.
    server.revoke("blocklet-admin1");
    assert_eq!(status_of(&hub, "blocklet-admin1", "/api/access-keys"), 200);
    std::thread::sleep(Duration::from_secs(4));
    error_of(hub.get("/api/access-keys", Some("blocklet-admin1")), 401);
    let _ = APP_DID;
}

#[test]
fn blocklet_access_keys_when_the_server_is_down_or_absent() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let hub = HubEnv::new(Backend::Sqlite)
        .var("ABT_NODE_PORT", &port.to_string())
        .var("BLOCKLET_APP_SK", APP_SK)
        .launch();
    let e = error_of(hub.get("/api/access-keys", Some("blocklet-x")), 503);
    assert!(
        e["message"]
            .as_str()
            .expect("m")
            .contains("Blocklet Server"),
        "{e}"
    );
    let standalone = HubEnv::new(Backend::Sqlite).launch();
    let e = error_of(standalone.get("/api/access-keys", Some("blocklet-x")), 401);
    assert!(
        e["message"]
            .as_str()
            .expect("m")
            .contains("Blocklet Server"),
        "{e}"
    );
}

#[test]
fn did_key_and_did_abt_are_accepted_where_a_user_did_is_expected() {
    use aigne_hub::auth::did::{DidRole, address, did_key_public_key};
    let hub = HubEnv::new(Backend::Sqlite).launch();
    let did_key = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
    let expected = address(&did_key_public_key(did_key).expect("pk"), DidRole::Account);
    for (given, stored) in [
        (did_key.to_owned(), expected.clone()),
        (format!("did:abt:{USER_DID}"), USER_DID.to_owned()),
    ] {
        let (status, body) = json(hub.post(
            "/api/access-keys",
            Some(ADMIN_KEY),
            &json!({"name": "k", "userDid": given}),
        ));
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["userDid"], stored.as_str());
    }
    for bad in [
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
        "z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WQ",
    ] {
        let e = error_of(
            hub.post(
                "/api/access-keys",
                Some(ADMIN_KEY),
                &json!({"name": "k", "userDid": bad}),
            ),
            400,
        );
        assert!(e["message"].as_str().expect("m").contains("userDid"), "{e}");
    }
}
