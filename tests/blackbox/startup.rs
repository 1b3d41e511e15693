//! A fresh start: health, readiness, the generated admin key and where it is.

use crate::support::{Backend, HubEnv, json};
use std::os::unix::fs::PermissionsExt;

#[test]
fn fresh_start_serves_health_and_says_where_the_admin_key_is() {
    let env = HubEnv::new(Backend::Sqlite).without("AIGNE_HUB_ADMIN_KEY");
    let hub = env.start();
    let (status, body) = json(hub.get("/healthz", None));
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = json(hub.get("/readyz", None));
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));

    let key_path = env.data_dir().join("admin.key");
    let logs = hub.logs();
    assert!(
        logs.contains(&key_path.display().to_string()),
        "admin key path not logged:\n{logs}"
    );
    let mode = std::fs::metadata(&key_path)
        .expect("admin.key")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let key = std::fs::read_to_string(&key_path).expect("read key");
    let key = key.trim();
    assert!(key.starts_with("aigne-"));
    assert!(!logs.contains(key), "the admin key itself was logged");
    let secret_mode = std::fs::metadata(env.data_dir().join("secret.key"))
        .expect("secret.key")
        .permissions()
        .mode();
    assert_eq!(secret_mode & 0o777, 0o600);

    // The generated key is an owner key.
    let (status, _) = json(hub.get("/api/ai-providers", Some(key)));
    assert_eq!(status, 200);

    // A restart keeps the same key and says where it is again; it does not make another.
    assert!(hub.stop().success());
    let hub = env.start();
    assert!(hub.logs().contains(&key_path.display().to_string()));
    assert_eq!(
        std::fs::read_to_string(&key_path).expect("read").trim(),
        key
    );
    let (status, _) = json(hub.get("/api/ai-providers", Some(key)));
    assert_eq!(status, 200);
}

#[test]
fn admin_key_from_env_works_and_a_changed_value_retires_the_old_one() {
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    assert!(
        !env.data_dir().join("admin.key").exists(),
        "no admin.key when AIGNE_HUB_ADMIN_KEY is set"
    );
    let (status, _) = json(hub.get("/api/ai-providers", Some(crate::support::ADMIN_KEY)));
    assert_eq!(status, 200);
    assert!(hub.stop().success());

    let env = env.var("AIGNE_HUB_ADMIN_KEY", "another-admin-key-abcdef");
    let hub = env.start();
    let (status, _) = json(hub.get("/api/ai-providers", Some("another-admin-key-abcdef")));
    assert_eq!(status, 200);
    let (status, _) = json(hub.get("/api/ai-providers", Some(crate::support::ADMIN_KEY)));
    assert_eq!(
        status, 401,
        "the previous AIGNE_HUB_ADMIN_KEY must stop working"
    );
}

#[test]
fn default_listen_address_is_127_0_0_1_8090() {
    if std::net::TcpListener::bind("127.0.0.1:8090").is_err() {
        panic!("127.0.0.1:8090 is taken by another process; stop it and run the suite again");
    }
    let env = HubEnv::new(Backend::Sqlite).without("AIGNE_HUB_ADMIN_KEY");
    let hub = crate::support::Hub::spawn(&mut env.command());
    assert_eq!(hub.base, "http://127.0.0.1:8090");
    let (status, _) = json(hub.get("/healthz", None));
    assert_eq!(status, 200);
    assert!(hub.logs().contains("admin.key"));
}
