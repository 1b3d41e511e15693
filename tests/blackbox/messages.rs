//! Anthropic Messages inbound (`/v1/messages`, `/api/v2/messages`): the shape Anthropic's SDKs
//! and Claude Code read, to an Anthropic upstream and, translated, to an OpenAI-style one; tool
//! rounds, streams, `count_tokens`, the model list, and every error in Anthropic's shape with
//! nothing sent upstream.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, json, typed_events};
use reqwest::blocking::Response;
use serde_json::{Value, json};

fn post(hub: &Hub, path: &str, key: &str, body: &Value) -> Response {
    hub.request(reqwest::Method::POST, path)
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .expect("request")
}

fn ask(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "max_tokens": 256,
        "stream": stream,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [{"name": "get_weather", "description": "Current weather", "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}]
    })
}

/// The text and the tool call a stream carried, and its final `message_delta`.
fn read_stream(events: &[Value]) -> (String, String, Value) {
    let mut text = String::new();
    let mut args = String::new();
    for e in events {
        match (e["type"].as_str(), e["delta"]["type"].as_str()) {
            (Some("content_block_delta"), Some("text_delta")) => {
                text.push_str(e["delta"]["text"].as_str().unwrap_or_default())
            }
            (Some("content_block_delta"), Some("input_json_delta")) => {
                args.push_str(e["delta"]["partial_json"].as_str().unwrap_or_default())
            }
            _ => {}
        }
    }
    let end = events
        .iter()
        .find(|e| e["type"] == "message_delta")
        .cloned()
        .unwrap_or(Value::Null);
    (text, args, end)
}

/// The `{"type": "error", "error": {type, message}}` body of a `status` answer.
fn anthropic_error(res: Response, status: u16) -> Value {
    let (got, body) = json(res);
    assert_eq!(got, status, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    body["error"].clone()
}

fn messages(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);
    hub.add_provider_with_keys("anthropic", &mock, &["mock-ok"]);

    // To an OpenAI-style upstream, translated both ways.
    let (status, answer) = json(post(
        &hub,
        "/v1/messages",
        ADMIN_KEY,
        &ask("openai/gpt-5-mini", false),
    ));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], "message");
    assert_eq!(answer["role"], "assistant");
    assert_eq!(answer["model"], "openai/gpt-5-mini");
    assert!(answer["id"].as_str().expect("id").starts_with("msg_"));
    assert_eq!(
        answer["content"],
        json!([{"type": "text", "text": "Hello, world"}])
    );
    assert_eq!(answer["stop_reason"], "end_turn");
    assert_eq!(answer["usage"]["input_tokens"], 19);
    assert_eq!(answer["usage"]["output_tokens"], 10);
    let sent = mock.bodies().pop().expect("sent");
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(sent["max_tokens"], 256, "{sent}");

    // To an Anthropic upstream: its usage with cache reads comes back in Anthropic's terms.
    let (status, answer) = json(post(
        &hub,
        "/api/v2/messages",
        ADMIN_KEY,
        &ask("anthropic/claude-sonnet-4-5", false),
    ));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["content"][0]["text"], "Hello, world");
    assert_eq!(
        answer["usage"],
        json!({"input_tokens": 2095, "output_tokens": 503, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1024})
    );
    let sent = mock.bodies().pop().expect("sent");
    assert_eq!(sent["system"][0]["text"], "Be brief.");
    assert_eq!(sent["max_tokens"], 256);

    // A tool round through an OpenAI-style upstream: the model asks, the client answers.
    let mut body = ask("openai/tool-caller", false);
    let (status, first) = json(post(&hub, "/v1/messages", ADMIN_KEY, &body));
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["stop_reason"], "tool_use");
    let call = first["content"]
        .as_array()
        .and_then(|c| c.iter().find(|b| b["type"] == "tool_use"))
        .cloned()
        .expect("tool_use block");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["input"], json!({"location": "Paris, France"}));
    body["messages"]
        .as_array_mut()
        .expect("messages")
        .extend([
            json!({"role": "assistant", "content": first["content"]}),
            json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "18°C and sunny"}]}),
        ]);
    let (status, second) = json(post(&hub, "/v1/messages", ADMIN_KEY, &body));
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["content"][0]["text"], "Hello, world");
    let sent = mock.bodies().pop().expect("sent");
    let upstream_messages = sent["messages"].as_array().expect("messages");
    let tool = upstream_messages.last().expect("tool message");
    assert_eq!(tool["role"], "tool");
    assert_eq!(tool["tool_call_id"], call["id"]);
    assert_eq!(tool["content"], "18°C and sunny");

    // Streams, to both families: blocks opened and closed in order, usage at the end.
    let res = post(
        &hub,
        "/v1/messages",
        ADMIN_KEY,
        &ask("openai/tool-caller", true),
    );
    assert_eq!(res.status(), 200);
    let evs = typed_events(res);
    assert_eq!(evs[0]["type"], "message_start");
    assert_eq!(evs.last().expect("last")["type"], "message_stop");
    let (_, args, end) = read_stream(&evs);
    assert_eq!(args, r#"{"location":"Paris, France"}"#);
    assert_eq!(end["delta"]["stop_reason"], "tool_use");
    assert_eq!(end["usage"]["input_tokens"], 82);
    let res = post(
        &hub,
        "/v1/messages",
        ADMIN_KEY,
        &ask("anthropic/claude-sonnet-4-5", true),
    );
    // To Anthropic the stream is Anthropic's own, event for event.
    let evs = typed_events(res);
    let (text, args, _) = read_stream(&evs);
    assert_eq!(text, "Hello, world");
    assert_eq!(args, r#"{"location": "San Francisco"}"#);
    let upstream: Vec<Value> = crate::support::mock::fixture("anthropic/message.stream.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("fixture event"))
        .collect();
    assert_eq!(evs, upstream);

    // Every call has its row.
    let rows = crate::support::eventually(|| {
        let rows = env.database.calls();
        (rows.len() == 6).then_some(rows)
    });
    assert!(rows.iter().all(|r| r.status == "success"), "{rows:?}");
    assert_eq!(rows[1].model, "anthropic/claude-sonnet-4-5");

    // count_tokens: an estimate that says so; nothing goes upstream.
    let before = mock.total_calls();
    let res = post(
        &hub,
        "/v1/messages/count_tokens",
        ADMIN_KEY,
        &json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hello world"}]}),
    );
    assert_eq!(
        res.headers()
            .get("x-aigne-hub-token-count")
            .and_then(|v| v.to_str().ok()),
        Some("estimated; tokenizer=o200k_base")
    );
    let (status, count) = json(res);
    assert_eq!(status, 200, "{count}");
    assert_eq!(count["input_tokens"], 5, "3 framing + 2 text tokens");
    assert_eq!(mock.total_calls(), before);

    // A model Anthropic serves is counted by Anthropic (with a Hub key), unbilled and unrecorded.
    let res = post(
        &hub,
        "/v1/messages/count_tokens",
        ADMIN_KEY,
        &json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 9, "messages": [{"role": "user", "content": "hello world"}]}),
    );
    assert_eq!(
        res.headers()
            .get("x-aigne-hub-token-count")
            .and_then(|v| v.to_str().ok()),
        Some("provider=anthropic")
    );
    let (status, count) = json(res);
    assert_eq!(status, 200, "{count}");
    assert!(
        count["input_tokens"].as_u64().is_some_and(|n| n > 1000),
        "{count}"
    );
    let sent = mock.bodies().pop().expect("sent");
    assert!(sent.get("max_tokens").is_none(), "{sent}");
    assert_eq!(env.database.calls().len(), 6);

    // The call log says which API every call came in on (on both backends' insert paths).
    let (_, log) = json(hub.get("/api/user/model-calls?allUsers=true", Some(ADMIN_KEY)));
    let items = log["list"].as_array().expect("list");
    assert!(!items.is_empty(), "{log}");
    assert!(items.iter().all(|c| c["dialect"] == "anthropic"), "{log}");

    // The model list in Anthropic's shape for Anthropic clients, OpenAI's for the others.
    let (status, list) = json(
        hub.request(reqwest::Method::GET, "/v1/models")
            .header("x-api-key", ADMIN_KEY)
            .header("anthropic-version", "2023-06-01")
            .send()
            .expect("models"),
    );
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["has_more"], false);
    assert!(
        list["data"]
            .as_array()
            .expect("data")
            .iter()
            .all(|m| m["type"] == "model" && m["id"].as_str().is_some_and(|id| id.contains('/'))),
        "{list}"
    );
    let (status, list) = json(hub.get("/v1/models", Some(ADMIN_KEY)));
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["object"], "list");
}

crate::on_both_backends!(messages);

/// To an Anthropic upstream a Messages request goes out as the client wrote it — fields the Hub
/// does not model, cache control, thinking blocks with their signatures, Anthropic's own server
/// tools and their results, `anthropic-beta` — and its answer comes back as Anthropic wrote it;
/// the row still has its tokens.
#[test]
fn anthropic_upstream_gets_the_request_as_written() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    hub.add_provider_with_keys("anthropic", &mock, &["mock-ok"]);
    let body = json!({
        "model": "anthropic/claude-sonnet-4-5",
        "max_tokens": 2048,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        "tools": [
            {"name": "get_weather", "description": "Current weather", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
        ],
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
        "messages": [
            {"role": "user", "content": "News, then weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "paris news"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": [{"type": "web_search_result", "url": "https://example.com", "title": "News", "encrypted_content": "Eq0B", "page_age": null}]},
                {"type": "text", "text": "Here is the news.", "citations": [{"type": "web_search_result_location", "url": "https://example.com", "title": "News", "encrypted_index": "Eo8B", "cited_text": "..."}]}
            ]},
            {"role": "user", "content": "And the weather?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "I should call the tool.", "signature": "EqQBCkYIBxgCKkDsig"},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"location": "Paris"}}
            ]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "18°C", "cache_control": {"type": "ephemeral"}}]}
        ]
    });
    let res = hub
        .request(reqwest::Method::POST, "/v1/messages")
        .header("x-api-key", ADMIN_KEY)
        .header("anthropic-version", "2023-06-01")
        .header(
            "anthropic-beta",
            "interleaved-thinking-2025-05-14,context-management-2025-06-27",
        )
        .json(&body)
        .send()
        .expect("request");
    let (status, answer) = json(res);
    assert_eq!(status, 200, "{answer}");
    let mut expected = body.clone();
    expected["model"] = json!("claude-sonnet-4-5");
    expected["stream"] = json!(false);
    assert_eq!(mock.bodies().pop().expect("sent"), expected);
    let headers = mock.headers().pop().expect("headers");
    assert_eq!(
        headers.get("anthropic-beta").map(String::as_str),
        Some("interleaved-thinking-2025-05-14,context-management-2025-06-27")
    );
    assert_eq!(
        headers.get("anthropic-version").map(String::as_str),
        Some("2023-06-01")
    );
    // The message exactly as the upstream answered it (the mock names the model it was asked).
    let mut upstream: Value =
        serde_json::from_str(&crate::support::mock::fixture("anthropic/message.json"))
            .expect("fixture");
    upstream["model"] = json!("claude-sonnet-4-5");
    assert_eq!(answer, upstream);
    let rows = crate::support::eventually(|| {
        let rows = env.database.calls();
        (rows.len() == 1 && rows[0].status == "success").then_some(rows)
    });
    assert_eq!(rows[0].dialect.as_deref(), Some("anthropic"));
    assert!(rows[0].total_usage > 0, "{rows:?}");

    // count_tokens gets the same body, without what only generation takes.
    let res = hub
        .request(reqwest::Method::POST, "/v1/messages/count_tokens")
        .header("x-api-key", ADMIN_KEY)
        .header("anthropic-beta", "context-management-2025-06-27")
        .json(&body)
        .send()
        .expect("count");
    let (status, count) = json(res);
    assert_eq!(status, 200, "{count}");
    let sent = mock.bodies().pop().expect("sent");
    assert_eq!(sent["context_management"], body["context_management"]);
    assert_eq!(sent["messages"], body["messages"]);
    assert!(sent.get("max_tokens").is_none(), "{sent}");
    assert_eq!(
        mock.headers()
            .pop()
            .expect("headers")
            .get("anthropic-beta")
            .map(String::as_str),
        Some("context-management-2025-06-27")
    );
}

/// Bad input and refusals, each in Anthropic's error shape, nothing sent upstream, no row left.
#[test]
fn errors_in_anthropic_shape() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite)
        .var("AIGNE_HUB_BILLING__ENABLED", "true")
        .var("AIGNE_HUB_REQUEST_ENTITY_SIZE_LIMIT", "64kb");
    let hub = env.start();
    let id = hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);
    hub.add_rate(&id, "gpt-5-mini", "0.001", "0.001");

    // A body over the limit: 413 in Anthropic's shape.
    let mut big = ask("openai/gpt-5-mini", false);
    big["messages"][0]["content"] = json!("x".repeat(70 * 1024));
    let e = anthropic_error(post(&hub, "/v1/messages", ADMIN_KEY, &big), 413);
    assert_eq!(e["type"], "request_too_large", "{e}");

    let e = anthropic_error(
        post(
            &hub,
            "/v1/messages",
            "wrong-key",
            &ask("openai/gpt-5-mini", false),
        ),
        401,
    );
    assert_eq!(e["type"], "authentication_error", "{e}");
    let res = hub
        .request(reqwest::Method::POST, "/v1/messages")
        .json(&ask("openai/gpt-5-mini", false))
        .send()
        .expect("request");
    assert_eq!(anthropic_error(res, 401)["type"], "authentication_error");

    let cases = [
        (
            json!({"model": "openai/gpt-5-mini", "messages": []}),
            "max_tokens",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "hologram"}]}]}),
            "messages[0].content[0].type",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "1"}]}]}),
            "messages[0].content[0].tool_use_id",
        ),
        (
            json!({"model": "openai/../files", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}),
            "model",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
            "web_search_20250305",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "max_tokens": "many"}),
            "max_tokens",
        ),
    ];
    for (body, named) in cases {
        let e = anthropic_error(post(&hub, "/v1/messages", ADMIN_KEY, &body), 400);
        assert_eq!(e["type"], "invalid_request_error", "{e}");
        assert!(
            e["message"].as_str().is_some_and(|m| m.contains(named)),
            "{named}: {e}"
        );
    }

    // Billing on and no credits: 402 with the purchase link, before anything is sent.
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "broke", "role": "member"}),
    ));
    let broke = created["key"].as_str().expect("key");
    for stream in [false, true] {
        let e = anthropic_error(
            post(
                &hub,
                "/v1/messages",
                broke,
                &ask("openai/gpt-5-mini", stream),
            ),
            402,
        );
        assert_eq!(e["type"], "billing_error", "{e}");
        assert_eq!(e["link"], "/credits", "{e}");
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("/credits")),
            "{e}"
        );
    }
    assert_eq!(mock.total_calls(), 0);
    assert!(env.database.calls().is_empty());
}

/// An upstream failure after every attempt reaches the client as Anthropic's error of that
/// status; a stream that breaks after it began ends with an `error` event.
#[test]
fn upstream_failures_in_anthropic_shape() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    hub.add_provider_with_keys("openai", &mock, &["mock-429"]);
    hub.add_provider_with_keys("xai", &mock, &["mock-cut"]);
    let e = anthropic_error(
        post(
            &hub,
            "/v1/messages",
            ADMIN_KEY,
            &ask("openai/gpt-5-mini", false),
        ),
        429,
    );
    assert_eq!(e["type"], "rate_limit_error", "{e}");
    let res = post(&hub, "/v1/messages", ADMIN_KEY, &ask("xai/grok-4", true));
    assert_eq!(res.status(), 200);
    let evs = typed_events(res);
    let last = evs.last().expect("an event");
    assert_eq!(last["type"], "error", "{evs:?}");
    assert_eq!(last["error"]["type"], "api_error");
}
