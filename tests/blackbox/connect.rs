//! The connect flow of `aigne hub connect` on a standalone Hub (issue 27): a session opened
//! without credentials, approved or refused by a signed-in user in the console, polled by the CLI
//! for the key it decrypts, then deleted. (The real CLI and the console page in Chromium:
//! `interop::aigne_cli_connect`.)

use crate::on_both_backends;
use crate::support::blocklet_server::APP_SK;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use aigne_hub::auth::cli_secret;
use serde_json::{Value, json};

const SESSION: &str = "/.well-known/service/api/access-key/session";

fn open(hub: &Hub) -> (String, String) {
    let (status, s) = json(hub.post(SESSION, None, &json!({})));
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["status"], "pending");
    let id = s["id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 64, "{s}");
    (id, s["challenge"].as_str().expect("challenge").to_owned())
}

fn poll(hub: &Hub, sid: &str) -> reqwest::blocking::Response {
    hub.get(&format!("{SESSION}?sid={sid}"), None)
}

/// A member of the Hub with a key of their own, as the console's user.
fn member(hub: &Hub) -> (String, String) {
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "console", "role": "member"}),
    ));
    (
        created["key"].as_str().expect("key").to_owned(),
        created["userDid"].as_str().expect("did").to_owned(),
    )
}

fn connect_sessions(backend: Backend) {
    let hub = HubEnv::new(backend).launch();
    let (console_key, user_did) = member(&hub);

    // Approved: the CLI gets a key of the approving user, once decrypted.
    let (sid, challenge) = open(&hub);
    let (status, pending) = json(poll(&hub, &sid));
    assert_eq!((status, &pending["status"]), (200, &json!("pending")));
    assert!(pending.get("accessKeyId").is_none(), "{pending}");
    let page = format!("/api/connect-sessions/{sid}");
    error_of(hub.get(&page, None), 401);
    let (_, shown) = json(hub.get(&page, Some(&console_key)));
    assert_eq!(shown["status"], "pending");
    let approve = format!("{page}/approve");
    error_of(hub.post(&approve, None, &json!({"appName": "x"})), 401);
    let (status, approved) = json(hub.post(
        &approve,
        Some(&console_key),
        &json!({"appName": " AIGNE CLI"}),
    ));
    assert_eq!(status, 200, "{approved}");
    let e = error_of(
        hub.post(&approve, Some(ADMIN_KEY), &json!({"appName": "again"})),
        409,
    );
    assert!(
        e["message"]
            .as_str()
            .expect("m")
            .contains("already approved")
    );
    let (status, got) = json(poll(&hub, &sid));
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["status"], "approved");
    assert_eq!(got["challenge"], challenge.as_str());
    let key_id = got["accessKeyId"].as_str().expect("accessKeyId");
    assert_eq!(key_id, approved["accessKeyId"].as_str().expect("id"));
    let sealed = got["accessKeySecret"].as_str().expect("secret");
    assert!(
        !sealed.starts_with("aigne-"),
        "the secret travels encrypted"
    );
    let secret = cli_secret::decrypt(sealed, key_id, &challenge).expect("decrypts");
    assert!(secret.starts_with("aigne-"), "{secret}");
    assert_ne!(
        cli_secret::decrypt(sealed, key_id, "another challenge"),
        Some(secret.clone()),
        "only the session's challenge opens it"
    );
    let (status, me) = json(hub.get("/api/user/info", Some(&secret)));
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user"]["did"], user_did.as_str());
    let (_, keys) = json(hub.get("/api/access-keys", Some(&console_key)));
    let minted: Vec<&Value> = keys["list"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|k| k["id"] == key_id)
        .collect();
    assert_eq!(minted.len(), 1, "{keys}");
    assert_eq!(minted[0]["name"], "AIGNE CLI (connected)");
    assert_eq!(minted[0]["role"], "member");
    // Collected: deleted, and gone for anyone replaying the id.
    let (status, _) = json(hub.delete(&format!("{SESSION}?sid={sid}"), None));
    assert_eq!(status, 200);
    for res in [
        poll(&hub, &sid),
        hub.delete(&format!("{SESSION}?sid={sid}"), None),
        hub.get(&page, Some(&console_key)),
    ] {
        let e = error_of(res, 404);
        assert!(
            e["message"]
                .as_str()
                .expect("m")
                .contains("aigne hub connect"),
            "{e}"
        );
    }
    let e = error_of(
        hub.post(&approve, Some(&console_key), &json!({"appName": "x"})),
        404,
    );
    assert!(e["message"].as_str().expect("m").contains("expired"), "{e}");

    // Refused: the CLI's poll stops with the Hub's message, and nobody can approve it after.
    let (sid, _) = open(&hub);
    let (status, _) = json(hub.post(
        &format!("/api/connect-sessions/{sid}/refuse"),
        Some(&console_key),
        &json!({}),
    ));
    assert_eq!(status, 200);
    let e = error_of(poll(&hub, &sid), 403);
    assert!(e["message"].as_str().expect("m").contains("refused"), "{e}");
    error_of(
        hub.post(
            &format!("/api/connect-sessions/{sid}/approve"),
            Some(&console_key),
            &json!({}),
        ),
        409,
    );

    // Guessed or malformed ids get nothing; the poll names its missing parameter.
    let guess = "0".repeat(64);
    error_of(poll(&hub, &guess), 404);
    error_of(
        hub.post(
            &format!("/api/connect-sessions/{guess}/approve"),
            Some(&console_key),
            &json!({}),
        ),
        404,
    );
    let e = error_of(hub.get(SESSION, None), 400);
    assert_eq!(e["param"], "sid");
    // The approval body is checked like any other.
    let (sid, _) = open(&hub);
    let e = error_of(
        hub.post(
            &format!("/api/connect-sessions/{sid}/approve"),
            Some(&console_key),
            &json!({"appName": 7}),
        ),
        400,
    );
    assert!(e["message"].as_str().expect("m").contains("appName"), "{e}");
    let (_, still) = json(poll(&hub, &sid));
    assert_eq!(still["status"], "pending");
}

on_both_backends!(connect_sessions);

/// On Blocklet Server these paths are Blocklet Server's: the Hub serves none of them.
#[test]
fn blocklet_mode_leaves_the_connect_paths_to_blocklet_server() {
    let hub = HubEnv::new(Backend::Sqlite)
        .var("BLOCKLET_PORT", "0")
        .var("BLOCKLET_DID", "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ")
        .var("BLOCKLET_APP_SK", APP_SK)
        .launch();
    error_of(hub.post(SESSION, None, &json!({})), 404);
    error_of(hub.get(&format!("{SESSION}?sid=abc"), None), 404);
}
