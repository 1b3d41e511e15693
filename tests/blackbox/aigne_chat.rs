//! `/api/v2/chat`, the AIGNE-native format of `@aigne/aigne-hub`: JSON answers, stream frames,
//! tool calls with object arguments, structured output, errors. On both engines.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};

const K: Option<&str> = Some(ADMIN_KEY);

fn setup(hub: &Hub, mock: &MockUpstream, name: &str, key: &str) {
    let id = hub.add_provider(name, mock);
    hub.add_key(&id, "k", key);
}

/// The body `@aigne/aigne-hub` sends (interop-vectors/hub-chat-mock.mjs).
fn body(model: &str, streaming: bool) -> Value {
    json!({
        "input": {
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "file", "data": "aGVsbG8=", "mimeType": "text/plain", "filename": "a.txt"}]},
                {"role": "agent", "content": "", "toolCalls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
                {"role": "tool", "toolCallId": "call_1", "content": "{\"temp\":20}"}
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
            "toolChoice": "auto",
            "modelOptions": {"model": model, "temperature": 0.2}
        },
        "agent": "$CHAT_MODEL",
        "options": {"streaming": streaming, "userContext": {}, "memories": []}
    })
}

fn post(hub: &Hub, body: &Value) -> reqwest::blocking::Response {
    hub.post("/api/v2/chat", K, body)
}

/// `(event, data)` pairs of an SSE body.
fn events(res: reqwest::blocking::Response) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut event = String::from("message");
    for line in BufReader::new(res).lines().map_while(Result::ok) {
        if let Some(e) = line.strip_prefix("event: ") {
            event = e.to_owned();
        } else if let Some(d) = line.strip_prefix("data: ") {
            out.push((event.clone(), d.to_owned()));
            event = "message".into();
        }
    }
    out
}

fn aigne_chat(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    setup(&hub, &mock, "openai", "mock-ok");
    setup(&hub, &mock, "anthropic", "mock-ok");
    setup(&hub, &mock, "deepseek", "mock-json");
    setup(&hub, &mock, "xai", "mock-cut");

    let (status, answer) = json(post(&hub, &body("openai/gpt-5-mini", false)));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["text"], "Hello, world");
    assert_eq!(answer["model"], "gpt-5-mini");
    assert_eq!(answer["modelWithProvider"], "openai/gpt-5-mini");
    assert_eq!(answer["usage"]["inputTokens"], 19);
    assert_eq!(answer["usage"]["outputTokens"], 10);
    assert!(answer["usage"]["aigneHubCredits"].is_number());
    let call_id = answer["usage"]["modelCallId"]
        .as_str()
        .expect("modelCallId");
    // The agent's tool call went upstream with JSON-text arguments; the tool result followed.
    let sent = mock.bodies();
    let upstream = sent.last().expect("sent");
    assert_eq!(
        upstream["messages"][2]["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"Paris"}"#
    );
    assert_eq!(upstream["messages"][3]["tool_call_id"], "call_1");
    assert_eq!(upstream["temperature"], 0.2);
    assert_eq!(upstream["model"], "gpt-5-mini");

    // Streaming from Anthropic: model frame first, text deltas, tool calls whole, usage last.
    let res = post(&hub, &body("anthropic/claude-sonnet-4-5", true));
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    assert_eq!(res.headers()["x-accel-buffering"], "no");
    let frames = events(res);
    assert!(
        frames.iter().all(|(e, d)| e == "message" && d != "[DONE]"),
        "{frames:?}"
    );
    let values: Vec<Value> = frames
        .iter()
        .map(|(_, d)| serde_json::from_str(d).expect("frame"))
        .collect();
    assert_eq!(
        values[0],
        json!({"delta": {"json": {"model": "anthropic/claude-sonnet-4-5"}}})
    );
    let text: String = values
        .iter()
        .filter_map(|v| v.pointer("/delta/text/text").and_then(Value::as_str))
        .collect();
    assert_eq!(text, "Hello, world");
    let calls = values
        .iter()
        .find_map(|v| v.pointer("/delta/json/toolCalls"))
        .expect("toolCalls frame");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(
        calls[0]["function"]["arguments"],
        json!({"location": "San Francisco"})
    );
    let usage = values
        .last()
        .and_then(|v| v.pointer("/delta/json/usage"))
        .expect("usage last");
    assert_eq!(usage["inputTokens"], 35);
    assert_eq!(usage["outputTokens"], 15);
    assert_eq!(usage["cacheCreationInputTokens"], 10);

    // Structured output.
    let mut structured = body("deepseek/deepseek-chat", false);
    structured["input"]["responseFormat"] = json!({"type": "json_schema", "jsonSchema": {"name": "out", "schema": {"type": "object"}, "strict": true}});
    let (status, answer) = json(post(&hub, &structured));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["json"], json!({"answer": 42}));
    assert!(answer.get("text").is_none());
    let sent = mock.bodies();
    assert_eq!(
        sent.last().expect("sent")["response_format"]["type"],
        "json_schema"
    );

    // A stream that breaks ends with `event: error`.
    let frames = events(post(&hub, &body("xai/grok-4", true)));
    let (event, data) = frames.last().expect("frames");
    assert_eq!(event, "error");
    let err: Value = serde_json::from_str(data).expect("json");
    assert!(
        err["message"].as_str().is_some_and(|m| m.contains("xai")),
        "{err}"
    );

    // Errors before the stream are the JSON error shape the client reads (`error.message`).
    let err = error_of(
        hub.post(
            "/api/v2/chat",
            Some("aigne-nope"),
            &body("openai/gpt-5-mini", false),
        ),
        401,
    );
    assert!(err["message"].is_string());
    let err = error_of(post(&hub, &json!({"input": {"messages": []}})), 400);
    assert_eq!(err["param"], "input.messages");
    let err = error_of(
        post(
            &hub,
            &json!({"input": {"messages": [{"role": "robot", "content": "x"}]}}),
        ),
        400,
    );
    assert_eq!(err["param"], "input.messages[0].role");
    error_of(post(&hub, &json!({"messages": []})), 400);

    // Rows: every call, with the id the client was given.
    let rows = env.database.calls();
    assert_eq!(
        rows.iter().filter(|r| r.status == "success").count(),
        3,
        "{rows:?}"
    );
    assert_eq!(rows.iter().filter(|r| r.status == "failed").count(), 1);
    let row = rows
        .iter()
        .find(|r| r.id == call_id)
        .expect("modelCallId names the call's row");
    assert_eq!(
        (row.model.as_str(), row.status.as_str()),
        ("openai/gpt-5-mini", "success")
    );
}

crate::on_both_backends!(aigne_chat);
