//! OpenAI Responses inbound (`/v1/responses`, `/api/v2/responses`): answers and typed stream
//! events as OpenAI's SDKs read them, to an OpenAI-style and an Anthropic upstream; stored turns
//! continued by `previous_response_id` across a change of provider; get, input items, delete;
//! bad input in OpenAI's error shape with nothing sent upstream.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json, typed_events};
use serde_json::{Value, json};

fn create(hub: &Hub, key: &str, body: &Value) -> (u16, Value) {
    json(hub.post("/v1/responses", Some(key), body))
}

/// The events of a stream, each checked to name its own type and to be numbered in order.
fn events(res: reqwest::blocking::Response) -> Vec<Value> {
    let out = typed_events(res);
    for (i, e) in out.iter().enumerate() {
        assert_eq!(e["sequence_number"], i, "{e}");
    }
    out
}

fn responses(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);
    hub.add_provider_with_keys("anthropic", &mock, &["mock-ok"]);

    // A string input, to an OpenAI-style upstream.
    let (status, first) = create(
        &hub,
        ADMIN_KEY,
        &json!({"model": "openai/gpt-5-mini", "input": "My name is Ada.", "instructions": "Be brief.",
                "max_output_tokens": 100, "metadata": {"ticket": "7"}}),
    );
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["object"], "response");
    assert_eq!(first["status"], "completed");
    assert!(first["id"].as_str().expect("id").starts_with("resp_"));
    assert_eq!(first["model"], "openai/gpt-5-mini");
    assert_eq!(first["metadata"], json!({"ticket": "7"}));
    assert_eq!(first["instructions"], "Be brief.");
    assert_eq!(first["output"][0]["type"], "message");
    assert_eq!(first["output"][0]["role"], "assistant");
    assert_eq!(
        first["output"][0]["content"][0],
        json!({"type": "output_text", "text": "Hello, world", "annotations": []})
    );
    assert_eq!(first["usage"]["input_tokens"], 19);
    assert_eq!(first["usage"]["output_tokens"], 10);
    assert_eq!(first["usage"]["total_tokens"], 29);
    let sent = mock.bodies().pop().expect("sent");
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(sent["messages"][1]["content"], "My name is Ada.");

    // The next turn goes to another provider: the Hub rebuilds the conversation for it.
    let (status, second) = create(
        &hub,
        ADMIN_KEY,
        &json!({"model": "anthropic/claude-sonnet-4-5", "previous_response_id": first["id"],
                "input": [{"role": "user", "content": "What is my name?"}], "max_output_tokens": 100}),
    );
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["previous_response_id"], first["id"]);
    let sent = mock.bodies().pop().expect("sent");
    let texts: Vec<String> = sent["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["content"].to_string())
        .collect();
    assert_eq!(texts.len(), 3, "{sent}");
    assert!(texts[0].contains("My name is Ada."), "{sent}");
    assert!(texts[1].contains("Hello, world"), "{sent}");
    assert!(texts[2].contains("What is my name?"), "{sent}");
    assert!(
        sent.get("system").is_none(),
        "instructions are not carried over: {sent}"
    );

    // A function tool round: the model calls, the client answers with previous_response_id.
    let tools = json!([{"type": "function", "name": "get_weather", "description": "Current weather",
                        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}]);
    let (status, asked) = create(
        &hub,
        ADMIN_KEY,
        &json!({"model": "openai/tool-caller", "input": "Weather in Paris?", "tools": tools}),
    );
    assert_eq!(status, 200, "{asked}");
    let call = asked["output"]
        .as_array()
        .and_then(|o| o.iter().find(|i| i["type"] == "function_call"))
        .cloned()
        .expect("a function_call item");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["status"], "completed");
    let (status, answered) = create(
        &hub,
        ADMIN_KEY,
        &json!({"model": "openai/tool-caller", "previous_response_id": asked["id"], "tools": tools,
                "input": [{"type": "function_call_output", "call_id": call["call_id"], "output": "18°C"}]}),
    );
    assert_eq!(status, 200, "{answered}");
    let sent = mock.bodies().pop().expect("sent");
    let messages = sent["messages"].as_array().expect("messages");
    assert_eq!(
        messages[1]["tool_calls"][0]["id"], call["call_id"],
        "{sent}"
    );
    let tool = messages.last().expect("tool message");
    assert_eq!(
        (&tool["role"], &tool["content"]),
        (&json!("tool"), &json!("18°C"))
    );

    // A stream: the documented events in order, numbered, ending with the whole response.
    let res = hub.post(
        "/api/v2/responses",
        Some(ADMIN_KEY),
        &json!({"model": "openai/tool-caller", "input": "Weather in Paris?", "tools": tools, "stream": true}),
    );
    assert_eq!(res.status(), 200);
    let evs = events(res);
    let kinds: Vec<&str> = evs.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds[..2],
        ["response.created", "response.in_progress"],
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"response.completed"), "{kinds:?}");
    for kind in [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ] {
        assert!(kinds.contains(&kind), "{kind}: {kinds:?}");
    }
    let done = evs.last().expect("completed")["response"].clone();
    let streamed_call = done["output"]
        .as_array()
        .and_then(|o| o.iter().find(|i| i["type"] == "function_call"))
        .cloned()
        .expect("a function_call item");
    assert_eq!(
        serde_json::from_str::<Value>(streamed_call["arguments"].as_str().expect("arguments"))
            .expect("json"),
        json!({"location": "Paris, France"})
    );
    assert_eq!(done["usage"]["input_tokens"], 82);

    // The streamed turn was stored before its last event: it can be read back at once.
    let id = done["id"].as_str().expect("id");
    let (status, stored) = json(hub.get(&format!("/v1/responses/{id}"), Some(ADMIN_KEY)));
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["output"], done["output"]);
    let (status, items) = json(hub.get(
        &format!("/v1/responses/{id}/input_items?order=asc"),
        Some(ADMIN_KEY),
    ));
    assert_eq!(status, 200, "{items}");
    assert_eq!(items["data"][0]["content"][0]["text"], "Weather in Paris?");
    let (status, deleted) = json(hub.delete(&format!("/v1/responses/{id}"), Some(ADMIN_KEY)));
    assert_eq!(status, 200);
    assert_eq!(deleted["deleted"], true);
    error_of(
        hub.get(&format!("/v1/responses/{id}"), Some(ADMIN_KEY)),
        404,
    );

    // store: false keeps nothing.
    let (status, unstored) = create(
        &hub,
        ADMIN_KEY,
        &json!({"model": "openai/gpt-5-mini", "input": "hi", "store": false}),
    );
    assert_eq!(status, 200, "{unstored}");
    assert_eq!(unstored["store"], false);
    let path = format!("/v1/responses/{}", unstored["id"].as_str().expect("id"));
    error_of(hub.get(&path, Some(ADMIN_KEY)), 404);

    // Every call has its row, and says it came in on the Responses API.
    let rows = crate::support::eventually(|| {
        let rows = env.database.calls();
        (rows.len() == 6 && rows.iter().all(|r| r.status != "processing")).then_some(rows)
    });
    assert!(rows.iter().all(|r| r.status == "success"), "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.dialect.as_deref() == Some("responses")),
        "{rows:?}"
    );
}

crate::on_both_backends!(responses);

/// Bad input: each a 400 in OpenAI's shape naming the field, nothing sent upstream, no row; and
/// another user's response is as unknown as a missing one.
#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);
    let (status, mine) = create(
        &hub,
        ADMIN_KEY,
        &json!({"model": "openai/gpt-5-mini", "input": "hi"}),
    );
    assert_eq!(status, 200, "{mine}");
    let before = mock.total_calls();
    let rows_before = env.database.calls().len();
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "other", "role": "member"}),
    ));
    let other = created["key"].as_str().expect("key");
    let e = error_of(
        hub.post(
            "/v1/responses",
            Some(other),
            &json!({"model": "openai/gpt-5-mini", "input": "hi", "previous_response_id": mine["id"]}),
        ),
        400,
    );
    assert_eq!(e["param"], "previous_response_id", "{e}");
    error_of(
        hub.get(
            &format!("/v1/responses/{}", mine["id"].as_str().expect("id")),
            Some(other),
        ),
        404,
    );
    for (body, param) in [
        (json!({"model": "openai/gpt-5-mini"}), "input"),
        (
            json!({"model": "openai/gpt-5-mini", "input": "hi", "previous_response_id": "resp_nope"}),
            "previous_response_id",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "input": [{"type": "hologram"}]}),
            "input[0].type",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "input": [{"type": "function_call_output", "call_id": "call_x", "output": "1"}]}),
            "input[0].call_id",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "input": "hi", "tools": [{"type": "web_search"}]}),
            "tools[0].type",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "input": "hi", "text": {"format": {"type": "yaml"}}}),
            "text.format.type",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "input": "hi", "reasoning": {"effort": "extreme"}}),
            "reasoning.effort",
        ),
        (json!({"model": "openai/../x", "input": "hi"}), "model"),
    ] {
        let e = error_of(hub.post("/v1/responses", Some(ADMIN_KEY), &body), 400);
        assert_eq!(e["param"], param, "{body}: {e}");
    }
    error_of(
        hub.post("/v1/responses", Some("wrong"), &json!({"input": "hi"})),
        401,
    );
    assert_eq!(mock.total_calls(), before);
    assert_eq!(env.database.calls().len(), rows_before);
}

/// A conversation continues whatever key serves each turn: one of the provider's two keys fails,
/// turns fail over to the other, and every turn still carries the whole conversation.
#[test]
fn a_conversation_survives_key_failover() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    hub.add_provider_with_keys("openai", &mock, &["mock-ok", "mock-500"]);
    let mut previous = Value::Null;
    for turn in 1..=4 {
        let (status, answer) = create(
            &hub,
            ADMIN_KEY,
            &json!({"model": "openai/gpt-5-mini", "input": format!("turn {turn}"),
                    "previous_response_id": previous}),
        );
        assert_eq!(status, 200, "{answer}");
        let sent = mock.bodies().pop().expect("sent");
        let users: Vec<&Value> = sent["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter(|m| m["role"] == "user")
            .collect();
        assert_eq!(users.len(), turn, "{sent}");
        previous = answer["id"].clone();
    }
    let rows = crate::support::eventually(|| {
        let rows = env.database.calls();
        rows.iter()
            .all(|r| r.status != "processing")
            .then_some(rows)
    });
    assert!(rows.iter().any(|r| r.status == "failed"), "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.status == "success").count(), 4);
}
