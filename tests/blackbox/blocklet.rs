//! The Blocklet package (issue 8, SPEC §10): `blocklet.yml` (the repository's and the bundled
//! one) passes `@blocklet/meta`'s own validation; the bundle starts through the Node shim under a
//! simulated Blocklet environment, answers `HEAD /` and chat on `BLOCKLET_PORT`, and stops on
//! SIGTERM with exit 0 and nothing lost; the hooks upgrade a first-release database and restore it
//! when a migration fails.

use crate::support::blocklet_server::APP_SK;
use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, BIN};
use diesel::{Connection, RunQueryDsl, SqliteConnection};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn interop() -> PathBuf {
    let dir = repo().join("tests/interop");
    assert!(
        dir.join("node_modules/@blocklet/meta").exists(),
        "run scripts/install-interop.sh (scripts/test.sh does)"
    );
    dir
}

fn validate(dir: &Path, bundle: bool) -> std::process::Output {
    let mut cmd = Command::new("node");
    cmd.arg("validate_blocklet.cjs")
        .arg(dir)
        .current_dir(interop());
    if bundle {
        cmd.arg("--bundle");
    }
    cmd.output().expect("node")
}

/// `scripts/bundle.sh` around the test binary, into `out`.
fn bundle(out: &Path) {
    let res = Command::new("scripts/bundle.sh")
        .current_dir(repo())
        .env("BUNDLE_OUT", out)
        .env("BUNDLE_BIN", BIN)
        .output()
        .expect("bundle.sh");
    assert!(
        res.status.success(),
        "bundle failed: {}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(String::from_utf8_lossy(&res.stdout).contains("\"ok\":true"));
}

fn count(db: &Path, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = SqliteConnection::establish(&db.display().to_string()).expect("sqlite");
    let rows: Vec<N> = diesel::sql_query(sql).load(&mut conn).expect(sql);
    rows.first().map_or(0, |r| r.n)
}

#[test]
fn blocklet_yml_passes_blocklet_meta_in_the_repository_and_the_bundle() {
    let out = validate(&repo(), false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("validator answer");
    assert_eq!(parsed["name"], "ai-kit");
    assert_eq!(parsed["did"], "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ");
    assert_eq!(parsed["main"], "api/shim/index.js");
    // The validator is real: a wrong group is refused.
    let broken = tempfile::tempdir().expect("dir");
    let text = std::fs::read_to_string(repo().join("blocklet.yml")).expect("yml");
    std::fs::write(
        broken.path().join("blocklet.yml"),
        text.replace("group: dapp", "group: nonsense"),
    )
    .expect("write");
    let out = validate(broken.path(), false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("group"));
    // The bundle: every listed file, the logo and the entry exist.
    let dir = tempfile::tempdir().expect("dir");
    bundle(dir.path());
    let out = validate(dir.path(), true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The check is the server's own: a bundle without the entry it runs is refused.
    std::fs::remove_file(dir.path().join("blocklet.js")).expect("rm blocklet.js");
    let out = validate(dir.path(), true);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing blocklet.js"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Self-contained: no libpq (nor libssl) to find on the server.
    let ldd = Command::new("ldd")
        .arg(dir.path().join("bin/aigne-hub"))
        .output()
        .expect("ldd");
    let libs = String::from_utf8_lossy(&ldd.stdout);
    assert!(ldd.status.success(), "{libs}");
    assert!(
        !libs.contains("libpq") && !libs.contains("libssl"),
        "{libs}"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

#[test]
fn bundle_runs_through_the_shim_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let app = dir.path().join("app");
    bundle(&app);
    let data = dir.path().join("data");
    let mock = MockUpstream::start();
    let port = free_port();
    let mut cmd = Command::new("node");
    cmd.arg("api/shim/index.js").current_dir(&app);
    for (key, _) in std::env::vars() {
        if key.starts_with("AIGNE_HUB_") || key.starts_with("BLOCKLET_") {
            cmd.env_remove(key);
        }
    }
    let mut shim = cmd
        .env("BLOCKLET_PORT", port.to_string())
        .env("BLOCKLET_DATA_DIR", &data)
        .env("BLOCKLET_APP_SK", APP_SK)
        .env("BLOCKLET_APP_EK", "0123456789abcdef0123456789abcdef")
        .env("BLOCKLET_DID", "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ")
        .env("BLOCKLET_MOUNT_POINTS", "[]")
        .env("AIGNE_HUB_ADMIN_KEY", ADMIN_KEY)
        // Longer than the Blocklet default (0.8 s): here the calls in flight fit in the grace.
        .env("AIGNE_HUB_SHUTDOWN_TIMEOUT_SECS", "10")
        // Every answer takes ~300 ms (JSON) or a chunk every 300 ms (streams).
        .env("OPENAI_API_KEY", "mock-slow")
        .env("OPENAI_BASE_URL", &mock.base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("shim");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();
    let started = Instant::now();
    loop {
        match client.head(format!("{base}/")).send() {
            Ok(res) if res.status() == 200 => break,
            _ if started.elapsed() < Duration::from_secs(20) => {
                std::thread::sleep(Duration::from_millis(100))
            }
            other => panic!("HEAD / did not answer 200: {other:?}"),
        }
    }
    let chat = |stream: bool| {
        serde_json::json!({"model": "openai/gpt-4o-mini", "stream": stream,
            "messages": [{"role": "user", "content": "hello"}]})
    };
    let res = client
        .post(format!("{base}/api/v2/chat/completions"))
        .bearer_auth(ADMIN_KEY)
        .json(&chat(false))
        .send()
        .expect("chat");
    assert_eq!(res.status(), 200);
    // Requests in flight when the stop comes all finish within the grace.
    let inflight: Vec<_> = [false, true, true]
        .into_iter()
        .map(|stream| {
            let (url, body) = (format!("{base}/api/v2/chat/completions"), chat(stream));
            std::thread::spawn(move || {
                let res = reqwest::blocking::Client::new()
                    .post(url)
                    .bearer_auth(ADMIN_KEY)
                    .json(&body)
                    .send()
                    .expect("send");
                let status = res.status().as_u16();
                (status, res.text().expect("body"))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    crate::support::signal(shim.id(), "TERM");
    for h in inflight {
        let (status, body) = h.join().expect("thread");
        assert_eq!(status, 200, "{body}");
        assert!(
            body.contains("[DONE]") || body.contains("\"choices\""),
            "{body}"
        );
    }
    let status = crate::support::wait_for(&mut shim, Duration::from_secs(20));
    assert!(status.success(), "shim exited {status:?}");
    // The Hub is gone with it, and every call was written before it went.
    let bin = app.join("bin/aigne-hub").display().to_string();
    let left = Command::new("pgrep")
        .args(["-f", &bin])
        .output()
        .expect("pgrep");
    assert!(
        String::from_utf8_lossy(&left.stdout).trim().is_empty(),
        "the Hub outlived the shim"
    );
    let db = data.join("aigne-hub.db");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM model_calls WHERE status = 'success'"
        ),
        4
    );
}

#[test]
fn shim_and_post_install_refuse_a_missing_binary_clearly() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(dir.path().join("api/shim")).expect("mkdir");
    std::fs::copy(
        repo().join("api/shim/index.js"),
        dir.path().join("api/shim/index.js"),
    )
    .expect("copy");
    let out = Command::new("node")
        .arg("api/shim/index.js")
        .current_dir(dir.path())
        .env_remove("AIGNE_BIN")
        .output()
        .expect("node");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no executable Hub binary"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hook = repo().join("hooks/post-install.sh");
    let ok = Command::new("sh")
        .arg(&hook)
        .env("AIGNE_BIN", BIN)
        .output()
        .expect("sh");
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("aigne-hub"));
    let bad = Command::new("sh")
        .arg(&hook)
        .env("AIGNE_BIN", dir.path().join("nope"))
        .output()
        .expect("sh");
    assert!(!bad.status.success());
    assert!(!bad.stderr.is_empty());
}

#[test]
fn pre_start_hook_upgrades_a_first_release_database_and_restores_a_failed_one() {
    let fixture = repo().join("tests/fixtures/upgrade/first-release.db");
    let hook = repo().join("hooks/pre-start.sh");
    let run = |data: &Path| {
        Command::new("sh")
            .arg(&hook)
            .current_dir(data)
            .env("AIGNE_BIN", BIN)
            .env("BLOCKLET_DATA_DIR", data)
            .env_remove("AIGNE_HUB_DATABASE_URL")
            .env_remove("AIGNE_HUB_DATA_DIR")
            .output()
            .expect("sh")
    };
    // Upgrade: every migration applied, the data kept (and backfilled where a migration does).
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("aigne-hub.db");
    std::fs::copy(&fixture, &db).expect("copy");
    let out = run(dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let migrations = std::fs::read_dir(repo().join("migrations/sqlite"))
        .expect("migrations")
        .count() as i64;
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM __diesel_schema_migrations"),
        migrations
    );
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM model_calls"), 3);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM credit_grants WHERE remaining = '10'"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM ai_providers WHERE name = 'openai'"
        ),
        1
    );
    // A database a migration cannot apply to: restored as it was, stderr, non-zero.
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("aigne-hub.db");
    std::fs::copy(&fixture, &db).expect("copy");
    {
        let mut conn = SqliteConnection::establish(&db.display().to_string()).expect("sqlite");
        diesel::sql_query("CREATE TABLE credit_accounts (x TEXT)")
            .execute(&mut conn)
            .expect("sabotage");
    }
    let before = std::fs::read(&db).expect("read");
    let out = run(dir.path());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("restored"), "{stderr}");
    assert_eq!(std::fs::read(&db).expect("read"), before, "not restored");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM __diesel_schema_migrations"),
        1
    );
}

/// Building the console again without a change rewrites nothing, so the release binary (whose
/// build script watches ui/dist) is not rebuilt by every bundle; nor is the lockfile rewritten.
/// scripts/test.sh has built the console before the tests run.
#[test]
fn console_build_without_changes_rewrites_nothing() {
    let stamp = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    let ui = repo().join("ui");
    let watched: Vec<PathBuf> = std::fs::read_dir(ui.join("dist/assets"))
        .expect("ui/dist/assets (scripts/build-ui.sh)")
        .map(|e| e.expect("entry").path())
        .chain([ui.join("dist/index.html"), ui.join("package-lock.json")])
        .collect();
    let before: Vec<_> = watched.iter().map(|p| stamp(p)).collect();
    let out = Command::new("scripts/build-ui.sh")
        .current_dir(repo())
        .output()
        .expect("build-ui.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("up to date"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let after: Vec<_> = watched.iter().map(|p| stamp(p)).collect();
    assert_eq!(before, after, "rewritten: {watched:?}");
}
