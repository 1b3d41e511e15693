//! The web console (issue 7): served by the binary (files, client routes, the JSON 404 kept for
//! API clients), and driven in a real browser (`ui/e2e/console.mjs`: Debian's Chromium through
//! playwright-core) against this Hub and the mock upstream.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, HubEnv};
use std::path::PathBuf;
use std::process::Command;

fn ui_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ui"))
}

fn require_built() {
    for (path, how) in [
        ("dist/index.html", "scripts/build-ui.sh"),
        ("node_modules/playwright-core", "scripts/build-ui.sh"),
    ] {
        assert!(
            ui_dir().join(path).exists(),
            "ui/{path} is missing: run {how} (scripts/test.sh does)"
        );
    }
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "Debian's chromium is missing: scripts/test.sh installs it"
    );
}

#[test]
fn console_is_served_with_client_routes_and_cached_assets() {
    require_built();
    let hub = HubEnv::new(Backend::Sqlite).launch();
    let client = reqwest::blocking::Client::new();
    let html = |path: &str| {
        client
            .get(hub.url(path))
            .header("accept", "text/html")
            .send()
            .expect("get")
    };
    for path in ["/", "/config/usage", "/playground"] {
        let res = html(path);
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache");
        assert!(res.text().expect("body").contains("<div id=\"root\">"));
    }
    let index = html("/").text().expect("index");
    assert!(index.contains(r#"<base href="/">"#), "{index}");
    // Relative to the base: the same build works under an app's mount point.
    let asset = index
        .split('"')
        .find(|s| s.starts_with("./assets/") && s.ends_with(".js"))
        .expect("a relative hashed script in index.html")
        .trim_start_matches('.')
        .to_owned();
    // Behind Blocklet Server's router at /aigne-hub: the base is the mount point; a header that
    // is not a plain path is ignored (it is written into the page).
    for (prefix, base) in [
        ("/aigne-hub", "/aigne-hub/"),
        ("/aigne-hub/", "/aigne-hub/"),
        ("/x\"><script>alert(1)</script>", "/"),
    ] {
        let page = client
            .get(hub.url("/config/usage"))
            .header("accept", "text/html")
            .header("x-path-prefix", prefix)
            .send()
            .expect("get")
            .text()
            .expect("page");
        assert!(
            page.contains(&format!(r#"<base href="{base}">"#)),
            "{prefix}: {page}"
        );
    }
    let res = client.get(hub.url(&asset)).send().expect("asset");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .expect("header")
            .contains("immutable")
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("header")
            .contains("javascript")
    );
    // API clients keep the JSON 404; a missing file is a 404 too.
    let res = client.get(hub.url("/no-such-page")).send().expect("get");
    assert_eq!(res.status(), 404);
    assert!(res.text().expect("body").contains("\"error\""));
    assert_eq!(html("/api/nope").status(), 404);
    assert_eq!(html("/assets/missing.js").status(), 404);
}

/// Runs `ui/e2e/<script>` in Debian's Chromium against a fresh Hub and a mock upstream; it
/// must print `<name> e2e: ok`.
fn browser_test(script: &str, name: &str) {
    require_built();
    let mock = MockUpstream::start();
    let hub = HubEnv::new(Backend::Sqlite).launch();
    let out = Command::new("node")
        .arg(format!("e2e/{script}"))
        .current_dir(ui_dir())
        .env("HUB_URL", hub.url(""))
        .env("ADMIN_KEY", ADMIN_KEY)
        .env("MOCK_BASE", &mock.base)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} e2e failed:\n{stdout}\n{stderr}\nhub log:\n{}",
        hub.logs()
    );
    assert!(stdout.contains(&format!("{name} e2e: ok")), "{stdout}");
}

#[test]
fn console_in_a_real_browser() {
    browser_test("console.mjs", "console");
}

/// Model rates in the browser: exact decimals both ways, the server's list of call types.
#[test]
fn rates_in_a_real_browser_keep_their_digits() {
    browser_test("rates.mjs", "rates");
}

/// The call log and the usage charts in the browser.
#[test]
fn calls_in_a_real_browser() {
    browser_test("calls.mjs", "calls");
}

/// Access keys, dark mode and a phone-width screen in the browser.
#[test]
fn keys_in_a_real_browser() {
    browser_test("members.mjs", "members");
}

/// Members and visitors in the browser.
#[test]
fn members_and_visitors_in_a_real_browser() {
    browser_test("visitors.mjs", "visitors");
}
