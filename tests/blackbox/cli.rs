//! The command line: help, version, migrate, keys create.

use crate::support::{Backend, HubEnv, command, error_of, json};

fn stdout_of(args: &[&str]) -> String {
    let out = command().args(args).output().expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn help_documents_every_subcommand_and_version() {
    let help = stdout_of(&["--help"]);
    for word in ["serve", "migrate", "keys", "stats", "--config", "--version"] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
    let keys = stdout_of(&["keys", "create", "--help"]);
    for word in ["--name", "--role", "--user-did", "admin", "member"] {
        assert!(
            keys.contains(word),
            "keys create --help lacks {word}:\n{keys}"
        );
    }
    assert!(stdout_of(&["serve", "--help"]).contains("serve"));
    assert!(stdout_of(&["migrate", "--help"]).contains("migrations"));
    let version = stdout_of(&["--version"]);
    assert_eq!(
        version.trim(),
        format!("aigne-hub {}", env!("CARGO_PKG_VERSION"))
    );
}

fn keys_create(env: &HubEnv, extra: &[&str]) -> std::process::Output {
    env.command()
        .args(["keys", "create"])
        .args(extra)
        .output()
        .expect("keys create")
}

fn keys_cli(backend: Backend) {
    let env = HubEnv::new(backend);
    let migrate = env.command().arg("migrate").output().expect("migrate");
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    // Idempotent.
    assert!(
        env.command()
            .arg("migrate")
            .status()
            .expect("migrate")
            .success()
    );

    let out = keys_create(&env, &["--name", "ci", "--role", "member"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let member = stdout.lines().last().expect("a line").to_owned();
    assert!(
        member.starts_with("aigne-") && !member.contains(' '),
        "last line is not a key: {stdout:?}"
    );

    let did = "z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP";
    let out = keys_create(
        &env,
        &["--name", "ops", "--role", "admin", "--user-did", did],
    );
    assert!(out.status.success());
    let admin = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("line")
        .to_owned();

    let bad = keys_create(
        &env,
        &["--name", "x", "--role", "admin", "--user-did", "not-a-did"],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--user-did"));
    let bad = keys_create(&env, &["--name", "x", "--role", "root"]);
    assert!(!bad.status.success());

    let hub = env.start();
    error_of(hub.get("/api/ai-providers", Some(&member)), 403);
    let (status, _) = json(hub.get("/api/ai-providers", Some(&admin)));
    assert_eq!(status, 200);
    let (_, keys) = json(hub.get("/api/access-keys?allUsers=true&pageSize=100", Some(&admin)));
    let ops = keys["list"]
        .as_array()
        .expect("list")
        .iter()
        .find(|k| k["name"] == "ops")
        .expect("ops key")
        .clone();
    assert_eq!(ops["userDid"], did);
    assert_eq!(ops["role"], "admin");
}

crate::on_both_backends!(keys_cli);
