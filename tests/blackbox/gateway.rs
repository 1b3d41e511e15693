//! The gateway: `/api/v2/chat/completions` through an OpenAI-compatible upstream (the mock),
//! JSON and SSE, failover, credential disabling, stream failures, and the rows every attempt
//! leaves. On both engines.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

const K: Option<&str> = Some(ADMIN_KEY);

/// Creates `name` pointing at the mock with one credential per key, in order.
fn provider(hub: &Hub, name: &str, mock: &MockUpstream, keys: &[&str]) -> String {
    hub.add_provider_with_keys(name, mock, keys)
}

fn chat(hub: &Hub, body: Value) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .post(hub.url("/api/v2/chat/completions"))
        .bearer_auth(ADMIN_KEY)
        .header("x-aigne-hub-client-did", "zNKappDidForTests")
        .json(&body)
        .send()
        .expect("chat")
}

fn hello(model: &str, stream: bool) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "Say hello"}], "stream": stream,
           "stream_options": {"include_usage": true}})
}

/// The `data:` payloads of an SSE body.
fn sse_data(res: reqwest::blocking::Response) -> Vec<String> {
    BufReader::new(res)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| l.strip_prefix("data: ").map(str::to_owned))
        .collect()
}

fn json_and_stream(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    provider(&hub, "openai", &mock, &["mock-ok"]);

    let res = chat(&hub, hello("openai/gpt-5-mini", false));
    let timing = res.headers()["server-timing"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let names: Vec<&str> = timing
        .split(", ")
        .filter_map(|m| m.split(';').next())
        .collect();
    assert_eq!(names, ["auth", "upstream", "total"], "{timing}");
    let (status, body) = json(res);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "openai/gpt-5-mini");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello, world");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29})
    );
    // Upstream got the bare model name.
    assert_eq!(mock.bodies()[0]["model"], "gpt-5-mini");

    let res = chat(&hub, hello("openai/gpt-5-mini", true));
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let frames = sse_data(res);
    assert_eq!(frames.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = frames[..frames.len() - 1]
        .iter()
        .map(|f| serde_json::from_str(f).expect("chunk"))
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello, world");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c["model"] == "openai/gpt-5-mini")
    );
    let usage = chunks.last().expect("usage chunk");
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["total_tokens"], 22);
    // Usage is always forced upstream, even when the client did not ask for it.
    assert_eq!(mock.bodies()[1]["stream_options"]["include_usage"], true);
    let frames = sse_data(chat(
        &hub,
        json!({"model": "openai/gpt-5-mini", "stream": true, "messages": [{"role": "user", "content": "x"}]}),
    ));
    assert!(
        frames.iter().all(|f| !f.contains("\"usage\"")),
        "usage sent without include_usage"
    );

    let rows = env.database.calls();
    assert_eq!(rows.len(), 3, "{rows:?}");
    for row in &rows {
        assert_eq!(row.status, "success", "{row:?}");
        assert_eq!(row.model, "openai/gpt-5-mini");
        assert_eq!(row.app_did.as_deref(), Some("zNKappDidForTests"));
        assert!(row.user_did.is_some() && row.ttfb_ms.is_some());
    }
    assert_eq!(rows[0].total_usage, 29);
    let metrics: Value =
        serde_json::from_str(rows[0].usage_metrics.as_deref().expect("metrics")).expect("json");
    assert_eq!(
        (
            metrics["promptTokens"].clone(),
            metrics["completionTokens"].clone()
        ),
        (json!(19), json!(10))
    );
    // Stored small: what is usual (the model asked for is the row's, the first attempt, no
    // cache tokens) is left out of the row, and the call log's view puts it back.
    let meta: Value =
        serde_json::from_str(rows[1].metadata.as_deref().expect("metadata")).expect("json");
    assert_eq!(
        meta,
        json!({"endpoint": "/api/v2/chat/completions", "stream": true})
    );
    assert_eq!(
        rows[0].usage_metrics.as_deref(),
        Some(r#"{"promptTokens":19,"completionTokens":10}"#)
    );
    let (status, log) = crate::support::json(hub.get(
        "/api/user/model-calls?allUsers=true",
        Some(crate::support::ADMIN_KEY),
    ));
    assert_eq!(status, 200, "{log}");
    let streamed = log["list"]
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["id"] == rows[1].id.as_str())
        .expect("the streamed call")
        .clone();
    assert_eq!(
        streamed["metadata"],
        json!({"endpoint": "/api/v2/chat/completions", "originalModel": "openai/gpt-5-mini",
               "stream": true, "attempt": 1})
    );
    assert_eq!(streamed["usageMetrics"]["cacheReadTokens"], 0);
    assert_eq!(rows[1].total_usage, 22);
    assert_eq!(
        rows[2].total_usage, 22,
        "usage recorded though the client did not ask for it"
    );
}

fn failover_prefixed_and_disabled_keys(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    let pid = provider(&hub, "openai", &mock, &["mock-500", "mock-401", "mock-ok"]);

    // First request: 500 → next credential (401 → disabled) → next → 200.
    let (status, body) = json(chat(&hub, hello("openai/gpt-5-mini", false)));
    assert_eq!(status, 200, "{body}");
    let rows = env.database.calls();
    let statuses: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["failed", "failed", "success"], "{rows:?}");
    assert!(
        rows[0]
            .error_reason
            .as_deref()
            .is_some_and(|e| e.contains("500"))
    );
    assert!(
        rows[1]
            .error_reason
            .as_deref()
            .is_some_and(|e| e.contains("401"))
    );
    assert_ne!(rows[0].credential_id, rows[1].credential_id);

    // The 401 key is disabled, visibly, and skipped from now on.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, creds) = json(hub.get(&format!("/api/ai-providers/{pid}/credentials"), K));
        let bad = creds["list"]
            .as_array()
            .expect("list")
            .iter()
            .find(|c| c["name"] == "key-1")
            .expect("key-1")
            .clone();
        if bad["active"] == false {
            assert!(
                bad["error"].as_str().is_some_and(|e| e.contains("401")),
                "{bad}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "credential was not disabled: {bad}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..4 {
        let (status, _) = json(chat(&hub, hello("openai/gpt-5-mini", false)));
        assert_eq!(status, 200);
    }
    assert_eq!(mock.calls("mock-401"), 1, "a disabled key was used again");

    // Every key failing: the client gets the provider's error, never a key.
    let env2 = HubEnv::new(backend);
    let hub2 = env2.start();
    provider(&hub2, "openai", &mock, &["mock-500"]);
    let err = error_of(chat(&hub2, hello("openai/gpt-5-mini", false)), 502);
    assert!(
        err["message"].as_str().expect("m").contains("openai"),
        "{err}"
    );
}

fn unprefixed_429_fails_over_to_another_provider(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    provider(&hub, "openrouter", &mock, &["mock-429"]);
    provider(&hub, "ollama", &mock, &["mock-ok"]);
    let (status, body) = json(chat(&hub, hello("llama-3.3-70b", false)));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], "llama-3.3-70b");
    let rows = env.database.calls();
    let summary: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.model.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("openrouter/llama-3.3-70b", "failed"),
            ("ollama/llama-3.3-70b", "success")
        ]
    );
    // openrouter is cooling down: the next call goes straight to ollama.
    let (status, _) = json(chat(&hub, hello("llama-3.3-70b", false)));
    assert_eq!(status, 200);
    assert_eq!(mock.calls("mock-429"), 1);
}

fn stream_cut_and_client_disconnect(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    provider(&hub, "openai", &mock, &["mock-cut"]);
    provider(&hub, "deepseek", &mock, &["mock-slow"]);

    let frames = sse_data(chat(&hub, hello("openai/gpt-5-mini", true)));
    let last: Value = serde_json::from_str(frames.last().expect("frames")).expect("json");
    assert!(
        last["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("openai")),
        "{frames:?}"
    );
    assert!(!frames.contains(&"[DONE]".to_owned()));
    let rows = env.database.calls();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "failed");
    assert!(rows[0].total_usage > 0, "tokens seen so far: {:?}", rows[0]);
    assert!(
        rows[0]
            .usage_metrics
            .as_deref()
            .is_some_and(|m| m.contains("estimated"))
    );

    // A client that goes away mid-stream still leaves a row.
    let mut res = chat(&hub, hello("deepseek/deepseek-chat", true));
    let mut first = [0u8; 64];
    std::io::Read::read(&mut res, &mut first).expect("first bytes");
    drop(res);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = env.database.calls();
        if let Some(row) = rows
            .iter()
            .find(|r| r.model.starts_with("deepseek/"))
            .filter(|r| r.status != "processing")
        {
            assert_eq!(row.status, "failed");
            assert!(
                row.error_reason
                    .as_deref()
                    .is_some_and(|e| e.contains("disconnected")),
                "{row:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no row for the disconnected stream: {rows:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn bad_requests_never_reach_upstream(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    provider(&hub, "openai", &mock, &["mock-ok"]);
    let (status, _) = json(hub.post("/api/ai-providers", K, &json!({"name": "xai"})));
    assert_eq!(status, 201);

    let err = error_of(chat(&hub, hello("mystery-model", false)), 404);
    assert!(
        err["message"]
            .as_str()
            .expect("m")
            .contains("mystery-model")
    );
    error_of(chat(&hub, hello("foo/bar", false)), 404);
    let err = error_of(chat(&hub, hello("xai/grok-4", false)), 503);
    assert!(err["message"].as_str().expect("m").contains("xai"));
    error_of(chat(&hub, hello("deepseek/deepseek-chat", false)), 503);
    let err = error_of(
        chat(&hub, json!({"model": "openai/gpt-5-mini", "messages": []})),
        400,
    );
    assert_eq!(err["param"], "messages");
    let err = error_of(
        chat(
            &hub,
            json!({"model": "openai/gpt-5-mini", "messages": "hi"}),
        ),
        400,
    );
    assert_eq!(err["param"], "messages");
    let err = error_of(
        chat(
            &hub,
            json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}),
        ),
        400,
    );
    assert_eq!(err["param"], "temperature");
    let err = error_of(
        chat(
            &hub,
            json!({"model": "openai/gpt-5-mini", "messages": [{"role": "wizard", "content": "x"}]}),
        ),
        400,
    );
    assert_eq!(err["param"], "messages[0].role");
    let res = reqwest::blocking::Client::new()
        .post(hub.url("/api/v2/chat/completions"))
        .json(&hello("openai/gpt-5-mini", false))
        .send()
        .expect("send");
    error_of(res, 401);
    assert_eq!(mock.total_calls(), 0, "a bad request reached the upstream");
    assert!(env.database.calls().is_empty());
}

crate::on_both_backends!(
    json_and_stream,
    failover_prefixed_and_disabled_keys,
    unprefixed_429_fails_over_to_another_provider,
    stream_cut_and_client_disconnect,
    bad_requests_never_reach_upstream,
);

/// Anthropic behind the OpenAI-compatible route: JSON (with cache tokens), a stream with text and a
/// tool call, and failover between Anthropic keys.
fn anthropic_messages(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    provider(&hub, "anthropic", &mock, &["mock-500", "mock-ok"]);

    let body = json!({
        "model": "anthropic/claude-sonnet-4-5",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}],
        "max_tokens": 300,
    });
    let (status, answer) = json(chat(&hub, body));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["choices"][0]["message"]["content"], "Hello, world");
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    assert_eq!(answer["usage"]["prompt_tokens"], 2095 + 1024);
    assert_eq!(
        answer["usage"]["prompt_tokens_details"]["cached_tokens"],
        1024
    );
    assert_eq!(answer["usage"]["completion_tokens"], 503);
    let sent = mock.bodies();
    let last = sent.last().expect("sent");
    assert_eq!(last["model"], "claude-sonnet-4-5");
    assert_eq!(last["system"][0]["text"], "be brief");
    assert_eq!(last["max_tokens"], 300);
    assert_eq!(mock.calls("mock-500"), 1, "failed over from the first key");

    let frames = sse_data(chat(&hub, hello("anthropic/claude-sonnet-4-5", true)));
    assert_eq!(frames.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = frames[..frames.len() - 1]
        .iter()
        .map(|f| serde_json::from_str(f).expect("chunk"))
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello, world");
    let args: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, r#"{"location": "San Francisco"}"#);
    let named = chunks
        .iter()
        .find_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["name"].as_str());
    assert_eq!(named, Some("get_weather"));
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "tool_calls")
    );
    assert_eq!(chunks.last().expect("usage")["usage"]["prompt_tokens"], 35);
    assert_eq!(
        chunks.last().expect("usage")["usage"]["completion_tokens"],
        15
    );

    let rows = env.database.calls();
    let ok: Vec<_> = rows.iter().filter(|r| r.status == "success").collect();
    assert_eq!(ok.len(), 2, "{rows:?}");
    assert_eq!(ok[0].total_usage, 2095 + 1024 + 503);
    assert_eq!(ok[1].total_usage, 35 + 15);
    assert!(
        ok[1]
            .usage_metrics
            .as_deref()
            .is_some_and(|m| m.contains("\"cacheWriteTokens\":10"))
    );
}

/// Gemini behind the OpenAI-compatible route, JSON and SSE; a 429 key fails over to the next key
/// (prefixed model: SPEC §6 retries on the provider's next credential).
fn gemini_generate_content(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    provider(&hub, "google", &mock, &["mock-429", "mock-ok"]);

    let (status, answer) = json(chat(&hub, hello("google/gemini-2.5-flash", false)));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(mock.calls("mock-429"), 1);
    assert_eq!(answer["choices"][0]["message"]["content"], "Hello, world");
    assert_eq!(answer["usage"]["prompt_tokens"], 12);
    assert_eq!(
        answer["usage"]["completion_tokens"], 15,
        "thoughts count as completion tokens"
    );
    let sent = mock.bodies();
    assert_eq!(
        sent.last().expect("sent")["contents"][0]["parts"][0]["text"],
        "Say hello"
    );

    let frames = sse_data(chat(&hub, hello("google/gemini-tool-caller", true)));
    assert_eq!(frames.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = frames[..frames.len() - 1]
        .iter()
        .map(|f| serde_json::from_str(f).expect("chunk"))
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello, world");
    let call = chunks
        .iter()
        .find_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0).cloned())
        .expect("a tool call");
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(call["function"]["arguments"], r#"{"location":"Paris"}"#);
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "tool_calls")
    );
    assert_eq!(chunks.last().expect("usage")["usage"]["total_tokens"], 21);
    let rows = env.database.calls();
    assert_eq!(
        rows.iter().filter(|r| r.status == "success").count(),
        2,
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.model.starts_with("google/gemini-")));
}

crate::on_both_backends!(anthropic_messages, gemini_generate_content);

/// A key disabled by a 401 is re-checked in the background and re-enabled once it works again.
fn disabled_key_is_rechecked_and_restored(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend).var("AIGNE_HUB_UPSTREAM__RECHECK_BASE_SECS", "1");
    let hub = env.start();
    let pid = provider(&hub, "openai", &mock, &["mock-flaky", "mock-ok"]);
    let (status, _) = json(chat(&hub, hello("openai/gpt-5-mini", false)));
    assert_eq!(status, 200);
    let flaky = |hub: &Hub| {
        let (_, creds) = json(hub.get(&format!("/api/ai-providers/{pid}/credentials"), K));
        creds["list"]
            .as_array()
            .expect("list")
            .iter()
            .find(|c| c["name"] == "key-0")
            .expect("key-0")
            .clone()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while flaky(&hub)["active"] != false {
        assert!(Instant::now() < deadline, "not disabled");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Still rejected at the first re-check (1 + 2^0 s): stays disabled.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(flaky(&hub)["active"], false);
    let checks_before_heal = mock.calls("mock-flaky");
    assert!(
        checks_before_heal >= 2,
        "no re-check happened: {checks_before_heal}"
    );
    mock.heal();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = flaky(&hub);
        if c["active"] == true {
            assert_eq!(c["error"], Value::Null, "{c}");
            break;
        }
        assert!(Instant::now() < deadline, "not re-enabled: {c}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Back in rotation.
    for _ in 0..4 {
        let (status, _) = json(chat(&hub, hello("openai/gpt-5-mini", false)));
        assert_eq!(status, 200);
    }
    assert!(
        mock.calls("mock-flaky") > checks_before_heal + 1,
        "the restored key is not used"
    );
}

crate::on_both_backends!(disabled_key_is_rechecked_and_restored);

/// `[[providers]]` in the TOML file: upserted at start, keys as `config-<n>` credentials that
/// follow the file across restarts; a bad entry stops the start naming it.
#[test]
fn providers_from_the_config_file() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let file = env.dir.path().join("hub.toml");
    let write = |keys: &str| {
        std::fs::write(
            &file,
            format!(
                "[[providers]]\nname = \"openai\"\nbase_url = \"{}\"\nkeys = [{keys}]\n",
                mock.base
            ),
        )
        .expect("write config");
    };
    write(r#""mock-500", "mock-ok""#);
    let env = env.var("AIGNE_HUB_CONFIG", &file.display().to_string());
    let hub = env.start();
    let (status, body) = json(chat(&hub, hello("openai/gpt-5-mini", false)));
    assert_eq!(status, 200, "{body}");
    assert_eq!(mock.calls("mock-500"), 1);
    let (_, providers) = json(hub.get("/api/ai-providers", K));
    let creds = providers["list"][0]["credentials"]
        .as_array()
        .expect("credentials")
        .clone();
    let names: Vec<&str> = creds.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["config-0", "config-1"]);
    assert_eq!(creds[1]["maskedValue"], "***");
    assert!(hub.stop().success());

    // The file changes: config-0 gets the new key, config-1 goes away.
    write(r#""mock-json""#);
    let hub = env.start();
    let (_, providers) = json(hub.get("/api/ai-providers", K));
    assert_eq!(providers["count"], 1);
    let creds = providers["list"][0]["credentials"]
        .as_array()
        .expect("credentials")
        .clone();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0]["name"], "config-0");
    let (_, answer) = json(chat(&hub, hello("openai/gpt-5-mini", false)));
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        r#"{"answer": 42}"#
    );
    assert!(hub.stop().success());

    std::fs::write(&file, "[[providers]]\nname = \"skynet\"\n").expect("write");
    let out = env.command().output().expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("providers[0]") && stderr.contains("skynet"),
        "{stderr}"
    );
}

/// Deadlines: a provider that never answers is cut at the time-to-first-byte deadline and the next
/// key answers (or 504 when none is left); a stream that goes silent is cut at the idle deadline
/// with an error frame and a failed row.
fn ttfb_and_idle_deadlines(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend)
        .var("AIGNE_HUB_UPSTREAM__TTFB_TIMEOUT_SECS", "1")
        .var("AIGNE_HUB_UPSTREAM__IDLE_TIMEOUT_SECS", "1");
    let hub = env.start();
    provider(&hub, "openai", &mock, &["mock-hang", "mock-ok"]);
    provider(&hub, "xai", &mock, &["mock-hang"]);
    provider(&hub, "deepseek", &mock, &["mock-stall"]);

    let started = Instant::now();
    let (status, body) = json(chat(&hub, hello("openai/gpt-5-mini", false)));
    assert_eq!(status, 200, "{body}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = error_of(chat(&hub, hello("xai/grok-4", false)), 504);
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("xai") && m.contains("did not answer")),
        "{err}"
    );

    let frames = sse_data(chat(&hub, hello("deepseek/deepseek-chat", true)));
    let text: String = frames
        .iter()
        .filter_map(|f| serde_json::from_str::<Value>(f).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "Hello", "the chunks before the stall were forwarded");
    let last: Value = serde_json::from_str(frames.last().expect("frames")).expect("json");
    assert!(
        last["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("did not answer")),
        "{frames:?}"
    );

    let rows = env.database.calls();
    let timed_out = rows
        .iter()
        .filter(|r| {
            r.error_reason
                .as_deref()
                .is_some_and(|e| e.contains("did not answer"))
        })
        .count();
    assert_eq!(timed_out, 3, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.status == "success").count(), 1);
}

crate::on_both_backends!(ttfb_and_idle_deadlines);
