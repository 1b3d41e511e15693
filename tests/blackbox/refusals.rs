//! Not every refusal is a dead key: providers' real error answers (`tests/fixtures/errors/`)
//! through the gateway. Invalid keys and empty accounts take the key out of rotation, whatever
//! status they come with; a region block or a model the key may not use fails over and leaves
//! the key in; refused content goes back to the caller as a 403 and tries nobody else.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const K: Option<&str> = Some(ADMIN_KEY);

fn chat(hub: &Hub, model: &str) -> reqwest::blocking::Response {
    hub.post(
        "/api/v2/chat/completions",
        K,
        &json!({"model": model, "messages": [{"role": "user", "content": "Say hello"}]}),
    )
}

/// The provider's credentials by name.
fn credentials(hub: &Hub, pid: &str) -> Vec<Value> {
    let (status, creds) = json(hub.get(&format!("/api/ai-providers/{pid}/credentials"), K));
    assert_eq!(status, 200, "{creds}");
    creds["list"].as_array().expect("list").clone()
}

fn active(hub: &Hub, pid: &str, name: &str) -> bool {
    credentials(hub, pid)
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name}"))["active"]
        == true
}

/// Waits until `dead` is disabled (it is, in the background), then says whether `alive` still
/// is active: both failures happened in the same call, before the wait.
fn disabled_while_kept(hub: &Hub, pid: &str, dead: &str, alive: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while active(hub, pid, dead) {
        assert!(Instant::now() < deadline, "{dead} was not disabled");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(active(hub, pid, alive), "{alive} was disabled");
}

fn refusals(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();

    // OpenAI: an exhausted quota (a 429) disables the key; a region block (403) and a model this
    // project may not use (403) fail over and keep theirs.
    let openai = hub.add_provider_with_keys(
        "openai",
        &mock,
        &[
            "mock-err:openai/insufficient-quota",
            "mock-err:openai/region",
            "mock-err:openai/model-access",
            "mock-ok",
        ],
    );
    let (status, body) = json(chat(&hub, "openai/gpt-5-mini"));
    assert_eq!(status, 200, "{body}");
    disabled_while_kept(&hub, &openai, "key-0", "key-1");
    assert!(active(&hub, &openai, "key-2"));
    // The kept keys are still picked (they were not set aside in memory either); the disabled
    // one never is.
    for _ in 0..3 {
        let (status, _) = json(chat(&hub, "openai/gpt-5-mini"));
        assert_eq!(status, 200);
    }
    assert_eq!(mock.calls("mock-err:openai/insufficient-quota"), 1);
    assert!(mock.calls("mock-err:openai/region") > 1);

    // The health view says the same: the empty account disabled with its reason, the
    // region-blocked key active with its last failure, the working key's last success.
    let (status, health) = json(hub.get("/api/ai-providers/health", K));
    assert_eq!(status, 200, "{health}");
    let p = health["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .find(|p| p["id"] == openai.as_str())
        .expect("openai")
        .clone();
    let cred = |name: &str| {
        p["credentials"]
            .as_array()
            .expect("credentials")
            .iter()
            .find(|c| c["name"] == name)
            .expect("credential")
            .clone()
    };
    assert_eq!(cred("key-0")["state"], "disabled", "{p}");
    assert!(
        cred("key-0")["error"]
            .as_str()
            .is_some_and(|e| e.contains("quota")),
        "{p}"
    );
    assert_eq!(cred("key-1")["state"], "active", "{p}");
    assert!(
        cred("key-1")["lastFailure"]
            .as_str()
            .is_some_and(|e| e.contains("Country, region")),
        "{p}"
    );
    assert!(cred("key-3")["lastSuccessAt"].is_string(), "{p}");
    assert_eq!(p["usableCredentials"], 3, "{p}");

    // Anthropic's empty balance comes as a 400: still the key's account, so it is disabled and
    // the call fails over instead of answering 400.
    let anthropic = hub.add_provider_with_keys(
        "anthropic",
        &mock,
        &[
            "mock-err:anthropic/low-balance",
            "mock-err:anthropic/permission",
            "mock-ok",
        ],
    );
    let (status, body) = json(chat(&hub, "anthropic/claude-sonnet-4-5"));
    assert_eq!(status, 200, "{body}");
    disabled_while_kept(&hub, &anthropic, "key-0", "key-1");

    // Google's invalid key is a 400 too.
    let google = hub.add_provider_with_keys(
        "google",
        &mock,
        &[
            "mock-err:google/invalid-key",
            "mock-err:google/region",
            "mock-ok",
        ],
    );
    let (status, body) = json(chat(&hub, "google/gemini-2.5-flash"));
    assert_eq!(status, 200, "{body}");
    disabled_while_kept(&hub, &google, "key-0", "key-1");

    // Moderation: the caller's content, refused; a 403 in the caller's shape, no other key
    // tried, the key kept.
    let openrouter = hub.add_provider_with_keys(
        "openrouter",
        &mock,
        &["mock-err:openrouter/moderation", "mock-ok"],
    );
    let before = mock.calls("mock-ok");
    let err = error_of(chat(&hub, "openrouter/openai/gpt-4o-mini"), 403);
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("flagged")),
        "{err}"
    );
    assert_eq!(
        mock.calls("mock-ok"),
        before,
        "a refused prompt was sent elsewhere"
    );
    let xai = hub.add_provider_with_keys("xai", &mock, &["mock-err:xai/content"]);
    error_of(chat(&hub, "xai/grok-4"), 403);
    // xAI's team without credits answers 403 too, but that one is the key's account.
    let deepseek =
        hub.add_provider_with_keys("deepseek", &mock, &["mock-err:deepseek/balance", "mock-ok"]);
    let (status, body) = json(chat(&hub, "deepseek/deepseek-chat"));
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while active(&hub, &deepseek, "key-0") {
        assert!(
            Instant::now() < deadline,
            "DeepSeek's empty balance kept the key"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        active(&hub, &openrouter, "key-0"),
        "moderation disabled a key"
    );
    assert!(active(&hub, &xai, "key-0"), "moderation disabled a key");

    // A 429: the key weighted down and its provider cooling down, both until a stated time.
    let limited = hub.add_provider_with_keys("poe", &mock, &["mock-429", "mock-ok"]);
    let (status, _) = json(chat(&hub, "poe/gpt-5-mini"));
    assert_eq!(status, 200);
    let (_, health) = json(hub.get("/api/ai-providers/health", K));
    let p = health["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .find(|p| p["id"] == limited.as_str())
        .expect("poe")
        .clone();
    assert!(p["coolingDownUntil"].is_string(), "{p}");
    assert_eq!(p["credentials"][0]["state"], "cooling_down", "{p}");

    // The failed attempts' rows say why.
    let rows = env.database.calls();
    assert!(
        rows.iter().any(|r| r
            .error_reason
            .as_deref()
            .is_some_and(|e| e.contains("Country, region, or territory not supported"))),
        "{rows:?}"
    );
}

crate::on_both_backends!(refusals);

/// Keys tried before they are saved: the default test models, an unsaved key's test (a real
/// one-token call, nothing stored), a create that refuses a rejected key unless forced, and at
/// most five tests a minute per admin.
fn key_tests(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    let pid = hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);

    let (status, models) = json(hub.get("/api/ai-providers/test-models", K));
    assert_eq!(status, 200, "{models}");
    assert_eq!(models["openai"], "gpt-4.1-nano");
    assert_eq!(models["anthropic"], "claude-haiku-4-5");
    assert!(models.get("ideogram").is_none(), "{models}");

    let test = format!("/api/ai-providers/{pid}/credentials/test");
    let (status, ok) = json(hub.post(
        &test,
        K,
        &json!({"value": "mock-ok", "testModel": "gpt-5-mini"}),
    ));
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["model"], "gpt-5-mini");
    let sent = mock.bodies().last().cloned().expect("a call");
    assert_eq!(sent["model"], "gpt-5-mini", "{sent}");

    // The default model; an empty account is `rejected`, its cause named.
    let (status, bad) = json(hub.post(
        &test,
        K,
        &json!({"value": "mock-err:openai/insufficient-quota"}),
    ));
    assert_eq!(status, 200, "{bad}");
    assert_eq!(bad["ok"], false, "{bad}");
    assert_eq!(bad["rejected"], true, "{bad}");
    assert_eq!(bad["cause"], "billing", "{bad}");
    assert_eq!(bad["model"], "gpt-4.1-nano");
    assert!(
        !bad["message"]
            .as_str()
            .unwrap_or_default()
            .contains("mock-err"),
        "{bad}"
    );
    // A region block is not a rejection of the key.
    let (_, region) = json(hub.post(&test, K, &json!({"value": "mock-err:openai/region"})));
    assert_eq!(
        (region["ok"].clone(), region["rejected"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(credentials(&hub, &pid).len(), 1, "a test stored a key");

    // Creating with a test: refused when rejected, unless forced.
    let create = format!("/api/ai-providers/{pid}/credentials");
    let err = error_of(
        hub.post(
            &create,
            K,
            &json!({"name": "empty", "value": "mock-err:openai/insufficient-quota",
                    "testModel": "gpt-4.1-nano"}),
        ),
        400,
    );
    assert_eq!(err["param"], "value", "{err}");
    assert!(
        err["message"].as_str().is_some_and(|m| m.contains("force")),
        "{err}"
    );
    assert_eq!(credentials(&hub, &pid).len(), 1);
    let (status, forced) = json(hub.post(
        &create,
        K,
        &json!({"name": "empty", "value": "mock-err:openai/insufficient-quota",
                "testModel": "gpt-4.1-nano", "force": true}),
    ));
    assert_eq!(status, 201, "{forced}");
    assert_eq!(forced["test"]["rejected"], true, "{forced}");
    assert_eq!(credentials(&hub, &pid).len(), 2);

    // Creating does not count against the limit; tests do: three so far, two more, then 429.
    let stored = credentials(&hub, &pid)[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, again) = json(hub.post(
        &format!("/api/ai-providers/{pid}/credentials/{stored}/test?testModel=gpt-5-mini"),
        K,
        &json!({}),
    ));
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["model"], "gpt-5-mini");
    let (status, _) = json(hub.post(&test, K, &json!({"value": "mock-ok"})));
    assert_eq!(status, 200);
    let res = hub.post(&test, K, &json!({"value": "mock-ok"}));
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let err = error_of(res, 429);
    assert_eq!(err["type"], "rate_limit_error", "{err}");
    assert!(
        retry_after.is_some_and(|s| (1..=60).contains(&s)),
        "{retry_after:?}"
    );

    // Bad input, before any call.
    let calls = mock.total_calls();
    let err = error_of(
        hub.post(
            &create,
            K,
            &json!({"name": "x", "value": "k", "testModel": ""}),
        ),
        400,
    );
    assert_eq!(err["param"], "testModel", "{err}");
    assert_eq!(mock.total_calls(), calls);
}

crate::on_both_backends!(key_tests);

/// A key disabled because its account could not pay is re-checked with a one-token call, not
/// with the free model list (which an empty account still answers): it stays disabled.
fn an_empty_account_stays_disabled(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend).var("AIGNE_HUB_UPSTREAM__RECHECK_BASE_SECS", "1");
    let hub = env.start();
    let pid = hub.add_provider_with_keys("openai", &mock, &["mock-broke", "mock-ok"]);
    let (status, body) = json(chat(&hub, "openai/gpt-5-mini"));
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while active(&hub, &pid, "key-0") {
        assert!(Instant::now() < deadline, "not disabled");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The first re-check runs after 1 + 2^0 s.
    std::thread::sleep(Duration::from_millis(2600));
    assert!(mock.calls("mock-broke") >= 2, "no re-check happened");
    assert!(
        !active(&hub, &pid, "key-0"),
        "re-enabled by the free key check"
    );
    let probe = mock
        .bodies()
        .into_iter()
        .rfind(|b| b["model"] == "gpt-4.1-nano")
        .expect("the re-check's chat call");
    assert!(probe["max_tokens"].is_number() || probe["max_completion_tokens"].is_number());
}

crate::on_both_backends!(an_empty_account_stays_disabled);
