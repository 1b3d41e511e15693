//! Interop: the real clients (official `openai` for Python and Node, `@aigne/aigne-hub`), installed
//! at pinned versions by scripts/install-interop.sh, against the real binary and the mock upstream.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, json};
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;

fn interop_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/interop"))
}

fn setup() -> (MockUpstream, HubEnv, Hub, String) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    // OpenAI has two keys, which take turns (its conversations must survive that).
    for (name, keys) in [
        ("openai", &["mock-ok", "mock-ok2"][..]),
        ("anthropic", &["mock-ok"]),
        ("google", &["mock-ok"]),
        ("deepseek", &["mock-json"]),
        ("xai", &["mock-500"]),
    ] {
        let id = hub.add_provider(name, &mock);
        for (i, key) in keys.iter().enumerate() {
            hub.add_key(&id, &format!("k{i}"), key);
        }
    }
    // A member key, as an application would hold.
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "app", "role": "member"}),
    ));
    let key = created["key"].as_str().expect("key").to_owned();
    (mock, env, hub, key)
}

fn run(program: &str, args: &[&str], hub: &Hub, key: &str) {
    run_with(program, args, hub, key, &[]);
}

fn run_with(program: &str, args: &[&str], hub: &Hub, key: &str, vars: &[(&str, &str)]) {
    let dir = interop_dir();
    let mut cmd = Command::new(program);
    for (k, _) in std::env::vars() {
        if k.starts_with("BLOCKLET_") || k.starts_with("ABT_NODE_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(args)
        .current_dir(&dir)
        .env("HUB_URL", &hub.base)
        .env("HUB_KEY", key)
        .envs(vars.iter().copied())
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} {args:?}: {e}; run scripts/install-interop.sh (scripts/test.sh does)")
        });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{stdout}\n{stderr}\nhub logs:\n{}",
        hub.logs()
    );
    eprintln!("{}", stdout.trim());
}

/// Starts a node stand-in of `tests/interop` with the app key; it prints its port first.
fn node_server(script: &str, sk: &str) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut node = Command::new("node")
        .arg(script)
        .current_dir(interop_dir())
        .env("BLOCKLET_APP_SK", sk)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("node");
    let mut line = String::new();
    BufReader::new(node.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("port line");
    let port = line.trim().to_owned();
    (node, port)
}

fn require(path: &str) -> String {
    let full = interop_dir().join(path);
    assert!(
        full.exists(),
        "{} is missing: run scripts/install-interop.sh (scripts/test.sh does)",
        full.display()
    );
    full.display().to_string()
}

/// The official Anthropic SDKs on `/v1/messages`: create, stream, a tool round, thinking,
/// count_tokens, typed 400 and 401 errors, to an OpenAI-style and an Anthropic upstream.
#[test]
fn anthropic_sdks() {
    let python = require(".venv/bin/python");
    require("node_modules/@anthropic-ai/sdk/package.json");
    let (mock, env, hub, key) = setup();
    run("node", &["anthropic_node.mjs"], &hub, &key);
    // Extended thinking went upstream as a reasoning effort (2,048 budget tokens: low).
    assert!(
        mock.bodies()
            .iter()
            .any(|b| b["reasoning_effort"] == "low" && b["model"] == "gpt-5-mini")
    );
    run(&python, &["anthropic_python.py"], &hub, &key);
    let rows = crate::support::eventually(|| {
        let rows = env.database.calls();
        (rows.len() == 14).then_some(rows)
    });
    assert!(rows.iter().all(|r| r.status == "success"), "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.model == "anthropic/claude-sonnet-4-5")
    );
}

/// Claude Code (`claude -p`, non-interactive, telemetry and updates off, its own empty home) with
/// `ANTHROPIC_BASE_URL` at the Hub and the Hub's key; `model` is what it asks for (its own
/// default models when `None`).
fn claude(
    hub: &Hub,
    key: &str,
    model: Option<&str>,
    prompt: &str,
    extra: &[&str],
) -> serde_json::Value {
    let bin = require("node_modules/.bin/claude");
    let home = tempfile::tempdir().expect("home");
    let mut cmd = Command::new(bin);
    cmd.args(["-p", prompt, "--output-format", "json"])
        .env_remove("ANTHROPIC_SMALL_FAST_MODEL")
        .env_remove("ANTHROPIC_MODEL");
    if let Some(model) = model {
        cmd.args(["--model", model])
            .env("ANTHROPIC_SMALL_FAST_MODEL", model);
    }
    let out = cmd
        .args(extra)
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("ANTHROPIC_BASE_URL", &hub.base)
        .env("ANTHROPIC_API_KEY", key)
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_NON_ESSENTIAL_MODEL_CALLS", "1")
        .env_remove("ANTHROPIC_AUTH_TOKEN")
        .output()
        .expect("claude");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "claude failed:\n{stdout}\n{stderr}\nhub logs:\n{}",
        hub.logs()
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Claude Code as its users run it headless: a plain prompt to an OpenAI upstream, a tool loop
/// (the model asks for a tool Claude Code does not have; Claude Code answers with an error
/// result and the model finishes in text) and the same through an Anthropic upstream.
#[test]
fn claude_code() {
    let (mock, env, hub, key) = setup();
    let said = claude(&hub, &key, Some("openai/gpt-5-mini"), "Say hello", &[]);
    assert_eq!(said["is_error"], false, "{said:#}");
    assert_eq!(said["result"], "Hello, world", "{said:#}");

    let before = mock.bodies().len();
    let looped = claude(
        &hub,
        &key,
        Some("openai/tool-caller"),
        "What is the weather in Paris?",
        &[],
    );
    assert_eq!(looped["is_error"], false, "{looped:#}");
    assert!(looped["num_turns"].as_u64().unwrap_or(0) >= 2, "{looped:#}");
    // The second upstream call carried Claude Code's tool result as an OpenAI tool message.
    let bodies = mock.bodies();
    assert!(
        bodies[before..].iter().any(|b| b["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"))),
        "{bodies:#?}"
    );

    let native = claude(
        &hub,
        &key,
        Some("anthropic/claude-sonnet-4-5"),
        "Say hello",
        &[],
    );
    assert_eq!(native["is_error"], false, "{native:#}");

    let rows = env.database.calls();
    assert!(rows.len() >= 4, "{rows:?}");
    assert!(rows.iter().all(|r| r.status == "success"), "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.dialect.as_deref() == Some("anthropic")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.model == "anthropic/claude-sonnet-4-5")
    );
}

/// Claude Code with its own default model names, which an operator's glob alias (`claude-*`)
/// sends to an OpenAI-style upstream, with billing on: every row is the target model, keeps the
/// name Claude Code asked for, and the member's balance fell by exactly the rows' credits.
#[test]
fn claude_code_through_an_alias() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite).var("AIGNE_HUB_BILLING__ENABLED", "true");
    let hub = env.start();
    crate::ledger::priced_provider(&hub, &mock, "mock-ok");
    let (status, alias) = json(hub.post(
        "/api/model-aliases",
        Some(ADMIN_KEY),
        &json!({"pattern": "claude-*", "target": "openai/gpt-5-mini"}),
    ));
    assert_eq!(status, 201, "{alias}");
    let (key, user) = crate::ledger::member(&hub, "coder");
    let (status, grant) = json(hub.post(
        "/api/credits/grants",
        Some(ADMIN_KEY),
        &json!({"userDid": user, "amount": "100"}),
    ));
    assert_eq!(status, 201, "{grant}");

    let said = claude(&hub, &key, None, "Say hello", &[]);
    assert_eq!(said["is_error"], false, "{said:#}");
    assert_eq!(said["result"], "Hello, world", "{said:#}");

    let rows = crate::support::eventually(|| {
        let rows = env.database.calls();
        (!rows.is_empty() && rows.iter().all(|r| r.status != "processing")).then_some(rows)
    });
    assert!(rows.iter().all(|r| r.status == "success"), "{rows:?}");
    assert!(
        rows.iter().all(|r| r.model == "openai/gpt-5-mini"),
        "{rows:?}"
    );
    for row in &rows {
        let metadata: serde_json::Value =
            serde_json::from_str(row.metadata.as_deref().unwrap_or("{}")).expect("metadata");
        let asked = metadata["originalModel"].as_str().unwrap_or_default();
        assert!(asked.starts_with("claude-"), "{row:?}");
    }
    let spent: rust_decimal::Decimal = rows.iter().map(|r| crate::ledger::dec(&r.credits)).sum();
    assert!(spent > rust_decimal::Decimal::ZERO, "{rows:?}");
    assert_eq!(
        crate::ledger::dec(&crate::ledger::balance(&hub, &key)),
        crate::ledger::dec("100") - spent
    );
}

#[test]
fn openai_python_sdk() {
    let python = require(".venv/bin/python");
    let (mock, env, hub, key) = setup();
    run(&python, &["openai_python.py"], &hub, &key);
    // The SDK's tool definitions reached the upstream translated for Anthropic.
    assert!(
        mock.bodies()
            .iter()
            .any(|b| b["tools"][0]["input_schema"].is_object())
    );
    let rows = env.database.calls();
    assert!(
        rows.iter()
            .any(|r| r.status == "failed" && r.model == "xai/grok-4")
    );
    assert!(
        rows.iter().filter(|r| r.status == "success").count() >= 5,
        "{rows:?}"
    );
}

#[test]
fn openai_node_sdk() {
    require("node_modules/openai/package.json");
    let (_mock, _env, hub, key) = setup();
    run("node", &["openai_node.mjs"], &hub, &key);
}

/// `responses.create` and friends in the official Node and Python SDKs, at
/// `OPENAI_BASE_URL=HUB/v1`.
#[test]
fn openai_sdks_responses() {
    require("node_modules/openai/package.json");
    let python = require(".venv/bin/python");
    let (mock, env, hub, key) = setup();
    run("node", &["openai_responses.mjs"], &hub, &key);
    run(&python, &["openai_python_responses.py"], &hub, &key);
    // The reasoning conversation went to OpenAI's Responses API on both keys (the mock refuses
    // reasoning another key wrote, as OpenAI does).
    let keys: std::collections::HashSet<String> = mock
        .keys()
        .into_iter()
        .zip(mock.paths())
        .filter(|(_, p)| p == "/v1/responses")
        .map(|(k, _)| k)
        .collect();
    assert!(
        keys.contains("mock-ok") && keys.contains("mock-ok2"),
        "{keys:?}"
    );
    let rows = env.database.calls();
    assert!(
        rows.iter().any(|r| r.model == "anthropic/claude-sonnet-4-5"
            && r.dialect.as_deref() == Some("responses")),
        "{rows:?}"
    );
}

/// Codex (`codex exec`, non-interactive, its own empty home) with a custom provider at the Hub
/// (`wire_api = "responses"`); `model` is what it asks for. Returns its JSONL events.
fn codex(hub: &Hub, key: &str, model: &str, prompt: &str) -> Vec<serde_json::Value> {
    let (events, _) = codex_at(&format!("{}/v1", hub.base), key, model, prompt, &|| {
        hub.logs()
    });
    events
}

/// Codex with its custom provider at `base_url`; its JSONL events and its wall time. `logs`:
/// the server's logs, shown when it fails.
fn codex_at(
    base_url: &str,
    key: &str,
    model: &str,
    prompt: &str,
    logs: &dyn Fn() -> String,
) -> (Vec<serde_json::Value>, std::time::Duration) {
    let bin = require("node_modules/.bin/codex");
    let home = tempfile::tempdir().expect("home");
    let codex_home = home.path().join(".codex");
    // OpenAI's hosted web search runs on OpenAI models (the Hub passes the tool on); for others
    // the Hub refuses it with a 400 naming the tool, so Codex is told not to offer it.
    let web_search = if model.starts_with("openai/") {
        ""
    } else {
        "web_search = \"disabled\""
    };
    std::fs::create_dir_all(&codex_home).expect("codex home");
    std::fs::write(
        codex_home.join("config.toml"),
        format!(
            r#"model = "{model}"
model_provider = "hub"
check_for_update_on_startup = false
{web_search}

[analytics]
enabled = false

[model_providers.hub]
name = "AIGNE Hub"
base_url = "{base_url}"
env_key = "AIGNE_HUB_KEY"
wire_api = "responses"
"#
        ),
    )
    .expect("config");
    let started = std::time::Instant::now();
    let out = Command::new(bin)
        .args(["exec", "--skip-git-repo-check", "--json", prompt])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("CODEX_HOME", &codex_home)
        .env("AIGNE_HUB_KEY", key)
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("codex");
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "codex failed:\n{stdout}\n{stderr}\nserver logs:\n{}",
        logs()
    );
    let events = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (events, took)
}

/// Benchmark, not part of the suite (`cargo nextest run --run-ignored only codex_wall_time
/// --no-capture`): `codex exec` through the Hub against the same run straight at the mock's
/// Responses API, alternating, five rounds each; prints the medians and their ratio.
#[test]
#[ignore = "benchmark: run on demand, see docs/performance.md"]
fn codex_wall_time() {
    let (mock, _env, hub, key) = setup();
    let said = |events: &[serde_json::Value]| {
        events
            .iter()
            .any(|e| e["item"]["type"] == "agent_message" && e["item"]["text"] == "Hello, world")
    };
    let (mut through, mut straight) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let base = format!("{}/v1", hub.base);
        let (events, t) = codex_at(&base, &key, "openai/gpt-5-mini", "Say hello", &|| {
            hub.logs()
        });
        assert!(said(&events), "{events:#?}");
        through.push(t);
        let (events, t) = codex_at(
            &mock.base,
            "mock-ok",
            "gpt-5-mini",
            "Say hello",
            &String::new,
        );
        assert!(said(&events), "{events:#?}");
        straight.push(t);
    }
    through.sort();
    straight.sort();
    let (h, m) = (through[2], straight[2]);
    println!(
        "codex exec median: through the Hub {h:?}, straight at the mock {m:?}, ratio {:.3}",
        h.as_secs_f64() / m.as_secs_f64()
    );
}

/// Codex against the Hub, to an OpenAI-style and to an Anthropic upstream.
#[test]
fn codex_exec() {
    let (mock, env, hub, key) = setup();
    for model in ["openai/gpt-5-mini", "anthropic/claude-sonnet-4-5"] {
        let events = codex(&hub, &key, model, "Say hello");
        let said: Vec<&str> = events
            .iter()
            .filter(|e| e["item"]["type"] == "agent_message")
            .filter_map(|e| e["item"]["text"].as_str())
            .collect();
        assert!(said.contains(&"Hello, world"), "{model}: {events:#?}");
    }
    // To OpenAI, Codex's request went as a Responses call, its hosted web search included.
    assert!(
        mock.paths().iter().any(|p| p == "/v1/responses"),
        "{:?}",
        mock.paths()
    );
    assert!(
        mock.bodies().iter().any(|b| b["store"] == false
            && b["tools"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["type"] == "web_search"))),
        "no web_search reached OpenAI"
    );
    let rows = env.database.calls();
    assert!(
        rows.iter().any(|r| r.model == "anthropic/claude-sonnet-4-5"
            && r.dialect.as_deref() == Some("responses")),
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.status == "success"), "{rows:?}");
}

/// `@google/genai` at `baseUrl = HUB`: Gemini's API to an OpenAI-style and a Gemini upstream.
#[test]
fn google_genai_sdk() {
    require("node_modules/@google/genai/package.json");
    let (mock, env, hub, key) = setup();
    run("node", &["google_genai.mjs"], &hub, &key);
    // Gemini's schema reached the OpenAI-style upstream as JSON Schema.
    assert!(
        mock.bodies().iter().any(
            |b| b["response_format"]["json_schema"]["schema"]["properties"]["temp"]["type"]
                == "number"
        ),
        "{:#?}",
        mock.bodies()
    );
    let rows = env.database.calls();
    assert!(
        rows.iter()
            .all(|r| r.dialect.as_deref() == Some("gemini") && r.status == "success"),
        "{rows:?}"
    );
    assert!(rows.iter().any(|r| r.model == "google/gemini-2.5-flash"));
}

/// Gemini CLI (`gemini -p`, non-interactive, its own empty home with telemetry, usage
/// statistics and update checks off) with `GOOGLE_GEMINI_BASE_URL` at the Hub and the Hub's key
/// as `GEMINI_API_KEY`; `model` is what it asks for. Returns its JSON output.
fn gemini_cli(hub: &Hub, key: &str, model: &str, prompt: &str) -> serde_json::Value {
    let bin = require("node_modules/.bin/gemini");
    let home = tempfile::tempdir().expect("home");
    let settings = home.path().join(".gemini");
    std::fs::create_dir_all(&settings).expect("settings dir");
    std::fs::write(
        settings.join("settings.json"),
        json!({
            "general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false, "disableAutoUpdate": true, "disableUpdateNag": true},
            "privacy": {"usageStatisticsEnabled": false},
            "telemetry": {"enabled": false},
            "security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": false}}
        })
        .to_string(),
    )
    .expect("settings");
    let started = std::time::Instant::now();
    let out = Command::new(bin)
        .args(["-p", prompt, "-m", model, "--output-format", "json"])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("GOOGLE_GEMINI_BASE_URL", &hub.base)
        .env("GEMINI_API_KEY", key)
        .env("GEMINI_CLI_NO_RELAUNCH", "true")
        .env("GEMINI_TELEMETRY_ENABLED", "false")
        .env_remove("GOOGLE_API_KEY")
        .env_remove("GOOGLE_CLOUD_PROJECT")
        .env_remove("GOOGLE_GENAI_USE_VERTEXAI")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("gemini");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("gemini -p took {:?}", started.elapsed());
    assert!(
        out.status.success(),
        "gemini failed:\n{stdout}\n{stderr}\nhub logs:\n{}",
        hub.logs()
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

/// Gemini CLI against the Hub, to a Gemini and to an OpenAI-style upstream.
#[test]
fn gemini_cli_prompt() {
    let (mock, env, hub, key) = setup();
    for model in ["google/gemini-2.5-flash", "openai/gpt-5-mini"] {
        let said = gemini_cli(&hub, &key, model, "Say hello");
        assert_eq!(said["response"], "Hello, world", "{model}: {said:#}");
    }
    // A tool turn through each family: the model calls a tool Gemini CLI does not have, the CLI
    // answers with an error result, and the model finishes in text.
    for model in ["google/tool-caller", "openai/tool-caller"] {
        let before = mock.bodies().len();
        let said = gemini_cli(&hub, &key, model, "What is the weather in Paris?");
        assert!(
            said["response"]
                .as_str()
                .is_some_and(|r| r.ends_with("Hello, world")),
            "{model}: {said:#}"
        );
        let tools = &said["stats"]["tools"]["byName"]["get_weather"];
        assert_eq!(tools["count"], 1, "{model}: {said:#}");
        let bodies = mock.bodies();
        assert!(
            bodies[before..]
                .iter()
                .any(|b| b.to_string().contains("functionResponse")
                    || b["messages"]
                        .as_array()
                        .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"))),
            "{model}: the tool result went upstream: {bodies:#?}"
        );
    }
    let rows = env.database.calls();
    assert!(
        rows.iter().any(|r| r.model == "google/gemini-2.5-flash"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .all(|r| r.dialect.as_deref() == Some("gemini") && r.status == "success"),
        "{rows:?}"
    );
}

/// The Vercel AI SDK's default OpenAI provider (Responses) and its Anthropic provider.
#[test]
fn vercel_ai_sdk() {
    require("node_modules/ai/package.json");
    let (_mock, env, hub, key) = setup();
    run("node", &["ai_sdk.mjs"], &hub, &key);
    let rows = env.database.calls();
    for dialect in ["responses", "anthropic"] {
        assert!(
            rows.iter()
                .any(|r| r.dialect.as_deref() == Some(dialect) && r.status == "success"),
            "{dialect}: {rows:?}"
        );
    }
}

#[test]
fn aigne_hub_client() {
    require("node_modules/@aigne/aigne-hub/package.json");
    let (_mock, env, hub, key) = setup();
    run("node", &["aigne_hub.mjs"], &hub, &key);
    let rows = env.database.calls();
    assert!(
        rows.iter()
            .any(|r| r.model == "anthropic/claude-sonnet-4-5" && r.status == "success")
    );
}

#[test]
fn media_clients() {
    let python = require(".venv/bin/python");
    require("node_modules/@aigne/aigne-hub/package.json");
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite).var("AIGNE_HUB_UPSTREAM__JOB_POLL_MS", "50");
    let hub = env.start();
    for name in ["openai", "anthropic"] {
        let id = hub.add_provider(name, &mock);
        hub.add_key(&id, "k", "mock-ok");
        if name == "openai" {
            for (model, kind, input, output) in [
                ("gpt-image-1", "imageGeneration", "0.000005", "0.04"),
                ("dall-e-3", "imageGeneration", "0", "0.08"),
                ("sora-2", "video", "0", "0.1"),
                ("text-embedding-3-small", "embedding", "0.00000002", "0"),
            ] {
                let (status, r) = json(hub.post(
                    &format!("/api/ai-providers/{id}/model-rates"),
                    Some(ADMIN_KEY),
                    &json!({"model": model, "type": kind, "inputRate": input, "outputRate": output}),
                ));
                assert_eq!(status, 201, "{r}");
            }
        }
    }
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "app", "role": "member"}),
    ));
    let key = created["key"].as_str().expect("key").to_owned();
    run(&python, &["openai_python_media.py"], &hub, &key);
    run("node", &["aigne_hub_media.mjs"], &hub, &key);
    let rows = env.database.calls();
    for kind in ["embedding", "imageGeneration", "video", "audio"] {
        assert!(
            rows.iter()
                .any(|r| r.call_type == kind && r.status == "success"),
            "a successful {kind} row: {rows:?}"
        );
    }
    let video = rows.iter().find(|r| r.call_type == "video").expect("video");
    assert_eq!(video.credits, "0.4", "4 s × 0.1");
}

/// Billing on, a user without credits: the 402 (`NOT_ENOUGH`, purchase link) reaches the
/// official SDKs and `@aigne/aigne-hub` as errors carrying the link.
#[test]
fn payment_required_reaches_the_clients() {
    let python = require(".venv/bin/python");
    require("node_modules/@aigne/aigne-hub/package.json");
    let mock = MockUpstream::start();
    let link = "https://pay.example.com/buy-credits";
    let env = HubEnv::new(Backend::Sqlite)
        .var("AIGNE_HUB_BILLING__ENABLED", "true")
        .var("AIGNE_HUB_BILLING__PAYMENT_LINK", link);
    let hub = env.start();
    let id = hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);
    hub.add_rate(&id, "gpt-5-mini", "0.001", "0.001");
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "broke", "role": "member"}),
    ));
    let key = created["key"].as_str().expect("key");
    let vars = [("HUB_LINK", link)];
    run_with("node", &["payment_required.mjs"], &hub, key, &vars);
    run_with(&python, &["payment_required.py"], &hub, key, &vars);
    assert_eq!(mock.total_calls(), 0);
    assert!(env.database.calls().is_empty());
}

/// The Hub's canonical JSON (what component signatures are made over) against the real
/// `json-stable-stringify` in node, on thousands of generated values: numbers of every shape
/// (integers past 2^53, exponents at JavaScript's 1e21 / 1e-7 switch points, -0, subnormals),
/// strings with escapes and astral characters, keys that sort differently in UTF-16.
#[test]
fn canonical_json_matches_json_stable_stringify() {
    let seed = std::process::id().to_string();
    let out = Command::new("node")
        .args(["canonical_vectors.mjs", "5000", &seed])
        .current_dir(interop_dir())
        .output()
        .expect("node; run scripts/install-interop.sh (scripts/test.sh does)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut checked = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let case: serde_json::Value = serde_json::from_str(line).expect("vector line");
        let text = case["text"].as_str().expect("text");
        let expected = case["canonical"].as_str().expect("canonical");
        let value: serde_json::Value = serde_json::from_str(text).expect("the hub parses the text");
        let ours = aigne_hub::auth::canonical::to_string(&value);
        assert_eq!(ours, expected, "seed {seed}, input {text}");
        checked += 1;
    }
    assert!(checked >= 4900, "only {checked} vectors");
}

/// Login tokens minted with `@blocklet/sdk`'s own secret recipe and `jsonwebtoken`, both secret
/// sources: the derived one (app SK + address + salt) and `BLOCKLET_SESSION_SECRET`.
#[test]
fn blocklet_login_tokens_from_the_sdk() {
    require("node_modules/@blocklet/sdk/package.json");
    const SK: &str = crate::support::blocklet_server::APP_SK;
    let derived: &[(&str, &str)] = &[("BLOCKLET_APP_SK", SK), ("BLOCKLET_APP_SALT", "hub-salt")];
    let explicit: &[(&str, &str)] = &[
        ("BLOCKLET_APP_SK", SK),
        ("BLOCKLET_SESSION_SECRET", "an-explicit-session-secret"),
    ];
    for vars in [derived, explicit] {
        let mut env = HubEnv::new(Backend::Sqlite);
        for (k, v) in vars {
            env = env.var(k, v);
        }
        let hub = env.start();
        run_with("node", &["blocklet_login.cjs"], &hub, "", vars);
    }
}

/// A real `@blocklet/sdk` `component.call` to the v1 routes is accepted; the same signed request
/// with its body, query, path or method changed, an expired `exp`, an `iat` an hour ahead, or
/// another app's key is refused with 401 (and with no signature headers, 400).
#[test]
fn blocklet_component_call_to_v1() {
    require("node_modules/@blocklet/sdk/package.json");
    let mock = MockUpstream::start();
    let sk = crate::support::blocklet_server::APP_SK;
    let hub = HubEnv::new(Backend::Sqlite)
        .var("BLOCKLET_APP_SK", sk)
        .var("OPENAI_API_KEY", "mock-ok")
        .var("OPENAI_BASE_URL", &mock.base)
        .launch();
    let port = hub.addr().rsplit(':').next().expect("port").to_owned();
    run_with(
        "node",
        &["blocklet_component_call.cjs"],
        &hub,
        "",
        &[
            ("BLOCKLET_APP_SK", sk),
            ("HUB_PORT", &port),
            ("HUB_MODEL", "openai/gpt-5-mini"),
        ],
    );
    // The accepted calls reached the upstream and were recorded; refused ones did not.
    assert_eq!(mock.total_calls(), 2);
}

/// The Hub's own signed component calls (`blocklet::ComponentClient`, what it uses for Payment Kit)
/// against `@blocklet/sdk`'s real `verifySig` middleware: accepted with the app's key, refused
/// with another key.
#[test]
fn hub_signed_calls_pass_the_sdk_verify_sig() {
    use aigne_hub::auth::component_sig::AppKey;
    use aigne_hub::blocklet::component_call::Call;
    use aigne_hub::blocklet::{ComponentClient, mount_points};
    require("node_modules/@blocklet/sdk/package.json");
    let sk = crate::support::blocklet_server::APP_SK;
    let (mut node, port) = node_server("verify_sig_server.cjs", sk);
    let points = mount_points::parse(&format!(
        r#"[{{"did":"z2qaCNvKMv5GjouKdcDWexv6WqtHbpNPQDnAk","name":"payment-kit","title":"Payment Kit","mountPoint":"/payment","port":{port},"status":6}}]"#
    ))
    .expect("mount points");
    let client = |secret: &str| {
        let key = AppKey::from_env(None, Some(secret), None)
            .expect("key")
            .expect("some");
        ComponentClient::new(
            reqwest::Client::new(),
            key,
            points.clone(),
            Some("z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ".into()),
        )
    };
    let ours = client(sk);
    let stranger = client(
        "0xabababababababababababababababababababababababababababababababab248acbdbaf9e050196de704bea2d68770e519150d103b587dae2d9cad53dd930",
    );
    let body = json!({"event_name": "aigne_hub_ai_usage", "identifier": "req-1", "payload": {"customer_id": "z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP", "value": "0.0042"}, "timestamp": 1.5e9});
    actix_web::rt::System::new().block_on(async {
        let post = Call {
            component: "payment-kit",
            method: reqwest::Method::POST,
            path: "/api/meter-events",
            query: &[("livemode", "true")],
            body: Some(&body),
        };
        let res = ours.send(&post).await.expect("send");
        assert_eq!(res.status(), 200);
        let echo: serde_json::Value = res.json().await.expect("json");
        // Equal as JSON values (JavaScript has one number type: 1.5e9 comes back as 1500000000).
        assert_eq!(echo["body"]["payload"], body["payload"]);
        assert_eq!(echo["body"]["timestamp"].as_f64(), Some(1.5e9));
        assert_eq!(echo["query"]["livemode"], "true");
        let get = Call {
            component: "Payment Kit",
            method: reqwest::Method::GET,
            path: "/api/customers/z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP/credit",
            query: &[("currency", "x y"), ("livemode", "false")],
            body: None,
        };
        let res = ours.send(&get).await.expect("send");
        assert_eq!(res.status(), 200, "{:?}", res.text().await);
        // Another app's key: verifySig refuses.
        assert_eq!(stranger.send(&post).await.expect("send").status(), 401);
        assert!(
            ours.send(&Call {
                component: "nope",
                ..post
            })
            .await
            .is_err()
        );
    });
    let _ = node.kill();
    let _ = node.wait();
}

/// A live remote-app signature made by node with a fresh `@ocap/wallet` key is accepted after
/// registration; one outside ±600 s is refused.
#[test]
fn remote_app_signed_by_ocap_wallet() {
    require("node_modules/@ocap/wallet/package.json");
    let mock = MockUpstream::start();
    let hub = HubEnv::new(Backend::Sqlite)
        .var("OPENAI_API_KEY", "mock-ok")
        .var("OPENAI_BASE_URL", &mock.base)
        .launch();
    run_with(
        "node",
        &["blocklet_remote_app.cjs"],
        &hub,
        "",
        &[("HUB_MODEL", "openai/gpt-5-mini")],
    );
    assert_eq!(mock.total_calls(), 2);
}

/// Runs `ui/e2e/aigne-cli.mjs` (the real `aigne` CLI, its browser step in Debian's Chromium)
/// against `hub`; the console user is the owner of `key`. Returns the script's output.
fn aigne_cli(hub: &Hub, key: &str, scenario: &str, mock: &MockUpstream) -> String {
    let aigne = require("node_modules/.bin/aigne");
    let ui = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ui"));
    assert!(
        ui.join("node_modules/playwright-core").exists() && ui.join("dist/index.html").exists(),
        "the console is not built: run scripts/build-ui.sh (scripts/test.sh does)"
    );
    let (_, me) = json(hub.get("/api/user/info", Some(key)));
    let did = me["user"]["did"].as_str().expect("did");
    let out = Command::new("node")
        .arg("e2e/aigne-cli.mjs")
        .current_dir(&ui)
        .env("HUB_URL", hub.url(""))
        .env("ADMIN_KEY", ADMIN_KEY)
        .env("MOCK_BASE", &mock.base)
        .env("USER_KEY", key)
        .env("USER_DID", did)
        .env("AIGNE", &aigne)
        .env("SCENARIO", scenario)
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("aigne-cli e2e: ok"),
        "aigne-cli ({scenario}) failed:\n{stdout}\n{stderr}\nhub logs:\n{}",
        hub.logs()
    );
    stdout
}

/// `aigne hub connect` against a standalone Hub (approved in the console),
/// `aigne hub status` (a user with a profile and credits), and an agent run with the connected
/// key.
#[test]
fn aigne_cli_connect_status_and_run() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite).var("AIGNE_HUB_BILLING__ENABLED", "true");
    let hub = env.start();
    let pid = hub.add_provider("openai", &mock);
    hub.add_key(&pid, "k", "mock-ok");
    // Small enough that the agent's call, run beside `aigne hub status`, does not change the
    // whole credits it prints.
    hub.add_rate(&pid, "gpt-4o-mini", "0.0001", "0.0002");
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "console", "role": "member"}),
    ));
    let key = created["key"].as_str().expect("key").to_owned();
    let did = created["userDid"].as_str().expect("did").to_owned();
    let (status, _) = json(hub.put(
        "/api/user/profile",
        Some(&key),
        &json!({"fullName": "Ada Lovelace", "email": "ada@example.com"}),
    ));
    assert_eq!(status, 200);
    let (status, _) = json(hub.post(
        "/api/credits/grants",
        Some(ADMIN_KEY),
        &json!({"userDid": did, "amount": "12345.5"}),
    ));
    assert_eq!(status, 201);
    let out = aigne_cli(&hub, &key, "full", &mock);
    assert!(out.contains(r#""Total":"12,345""#), "{out}");
    let connected = out
        .lines()
        .find_map(|l| l.strip_prefix("connected key: "))
        .expect("the connected key");
    // The connected key is the console user's own member key, and the agent's call is theirs.
    let (_, me) = json(hub.get("/api/user/info", Some(connected)));
    assert_eq!(me["user"]["did"], did.as_str());
    let rows = env.database.calls();
    let row = rows
        .iter()
        .find(|r| r.model == "openai/gpt-4o-mini" && r.status == "success")
        .unwrap_or_else(|| panic!("no row of the agent's call: {rows:?}"));
    assert_eq!(row.user_did.as_deref(), Some(did.as_str()));
    assert!(
        row.app_did.as_deref().is_some_and(|a| a.contains("aigne")),
        "the CLI's app: {:?}",
        row.app_did
    );
    assert_ne!(row.credits, "0", "the agent's call is billed");
}

/// A connect request the user refuses: the CLI stops with the Hub's message.
#[test]
fn aigne_cli_connect_refused() {
    let mock = MockUpstream::start();
    let hub = HubEnv::new(Backend::Sqlite).launch();
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "console", "role": "member"}),
    ));
    aigne_cli(&hub, created["key"].as_str().expect("key"), "refuse", &mock);
}

/// A connect request nobody answers: the CLI stops with the Hub's message when it expires.
#[test]
fn aigne_cli_connect_expires() {
    let mock = MockUpstream::start();
    let hub = HubEnv::new(Backend::Sqlite)
        .var("AIGNE_HUB_CONNECT_SESSION_SECS", "5")
        .launch();
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "console", "role": "member"}),
    ));
    aigne_cli(&hub, created["key"].as_str().expect("key"), "expire", &mock);
}

/// `@blocklet/aigne-hub`'s helpers (`tests/interop/blocklet-aigne-hub/helpers.cjs`) against `hub`, where
/// `key`'s user has a profile and 100 credits granted; `billing` names the ledger for the output.
pub(crate) fn blocklet_aigne_hub(hub: &Hub, key: &str, billing: &str) {
    require("blocklet-aigne-hub/node_modules/@blocklet/aigne-hub/package.json");
    let (status, _) = json(hub.put(
        "/api/user/profile",
        Some(key),
        &json!({"fullName": "Grace Hopper", "email": "grace@example.com"}),
    ));
    assert_eq!(status, 200);
    run_with(
        "node",
        &["blocklet-aigne-hub/helpers.cjs"],
        hub,
        key,
        &[("ADMIN_KEY", ADMIN_KEY), ("BILLING", billing)],
    );
}

/// The helpers with the built-in ledger.
#[test]
fn blocklet_aigne_hub_helpers_with_the_ledger() {
    let hub = HubEnv::new(Backend::Sqlite)
        .var("AIGNE_HUB_BILLING__ENABLED", "true")
        .launch();
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "blocklet user", "role": "member"}),
    ));
    let key = created["key"].as_str().expect("key");
    let (status, _) = json(hub.post(
        "/api/credits/grants",
        Some(ADMIN_KEY),
        &json!({"userDid": created["userDid"], "amount": "100"}),
    ));
    assert_eq!(status, 201);
    blocklet_aigne_hub(&hub, key, "ledger");
}

/// Notifications on Blocklet Server: sent to its notification service as `@blocklet/sdk`'s
/// `sendToUser` sends them, checked by the real `@arcblock/jwt` and the SDK's validators (a
/// stand-in service, `notification_service.cjs`): a disabled key goes to the owner, a grant to
/// the user it is for.
#[test]
fn blocklet_notifications_pass_the_real_jwt_and_validators() {
    require("node_modules/@arcblock/jwt/package.json");
    let sk = crate::support::blocklet_server::APP_SK;
    let (mut node, port) = node_server("notification_service.cjs", sk);
    let service = format!("http://127.0.0.1:{port}");
    let mock = MockUpstream::start();
    let hub = HubEnv::new(Backend::Sqlite)
        .var("BLOCKLET_APP_SK", sk)
        .var("ABT_NODE_SERVICE_PORT", &port)
        .launch();
    let (_, me) = json(hub.get("/api/user/info", Some(ADMIN_KEY)));
    let owner = me["user"]["did"].as_str().expect("did").to_owned();
    hub.add_provider_with_keys("openai", &mock, &["mock-401", "mock-ok"]);
    let (status, body) = json(hub.chat(Some(ADMIN_KEY), "openai/gpt-5-mini", "Say hello."));
    assert_eq!(status, 200, "{body}");
    let (status, grant) = json(hub.post(
        "/api/credits/grants",
        Some(ADMIN_KEY),
        &json!({"userDid": "z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP", "amount": "2"}),
    ));
    assert_eq!(status, 201, "{grant}");
    let client = reqwest::blocking::Client::new();
    let get = |path: &str| -> Vec<serde_json::Value> {
        client
            .get(format!("{service}{path}"))
            .send()
            .and_then(|r| r.json())
            .expect("stand-in answers")
    };
    let received = crate::support::eventually(|| {
        let r = get("/received");
        (r.len() >= 2).then_some(r)
    });
    assert_eq!(get("/refused"), Vec::<serde_json::Value>::new());
    let to = |title: &str| {
        received
            .iter()
            .find(|d| {
                d["notification"]["title"]
                    .as_str()
                    .is_some_and(|t| t.contains(title))
            })
            .unwrap_or_else(|| panic!("{title}: {received:?}"))
            .clone()
    };
    let disabled = to("key was disabled");
    assert_eq!(disabled["receiver"], owner.as_str());
    assert_eq!(disabled["notification"]["severity"], "error");
    let granted = to("Credits granted");
    assert_eq!(granted["receiver"], "z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP");
    let _ = node.kill();
    let _ = node.wait();
}
