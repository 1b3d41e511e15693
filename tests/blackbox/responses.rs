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
    assert_eq!(first["store"], true);
    assert_eq!(first["output"][0]["type"], "message");
    assert_eq!(first["output"][0]["role"], "assistant");
    assert_eq!(first["output"][0]["content"][0]["text"], "Hello, world");
    assert_eq!(first["usage"]["input_tokens"], 37);
    assert_eq!(first["usage"]["output_tokens"], 11);
    assert_eq!(first["usage"]["total_tokens"], 48);
    // To OpenAI it went as a Responses call: the client's fields, the Hub keeping the state.
    assert_eq!(
        mock.paths().last().map(String::as_str),
        Some("/v1/responses")
    );
    let sent = mock.bodies().pop().expect("sent");
    assert_eq!(sent["model"], "gpt-5-mini");
    assert_eq!(sent["instructions"], "Be brief.");
    assert_eq!(sent["metadata"], json!({"ticket": "7"}));
    assert_eq!(sent["store"], false);
    assert_eq!(
        sent["input"],
        json!([{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "My name is Ada."}]}])
    );

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
    assert_eq!(answered["output"][0]["content"][0]["text"], "Hello, world");
    let sent = mock.bodies().pop().expect("sent");
    let items = sent["input"].as_array().expect("input");
    let kinds: Vec<&str> = items.iter().filter_map(|i| i["type"].as_str()).collect();
    assert_eq!(
        kinds,
        ["message", "function_call", "function_call_output"],
        "{sent}"
    );
    assert_eq!(items[1]["call_id"], call["call_id"], "{sent}");
    assert!(
        items[1].get("id").is_none(),
        "OpenAI would look the id up: {sent}"
    );
    assert_eq!(items[2]["output"], "18°C");
    assert!(sent.get("previous_response_id").is_none(), "{sent}");

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
    assert_eq!(done["usage"]["input_tokens"], 68);
    assert_eq!(done["model"], "openai/tool-caller");

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
    hub.add_provider_with_keys("anthropic", &mock, &["mock-ok"]);
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
            json!({"model": "anthropic/claude-sonnet-4-5", "max_output_tokens": 9, "input": "hi", "tools": [{"type": "web_search"}]}),
            "tools[0].type",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "input": "hi", "tools": [{"type": "hologram"}]}),
            "tools[0].type",
        ),
        (
            json!({"model": "anthropic/claude-sonnet-4-5", "input": [{"type": "web_search_call", "id": "ws_1"}]}),
            "input[0].type",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "input": "hi", "background": true}),
            "background",
        ),
        (
            json!({"model": "openai/gpt-5-mini", "input": "hi", "conversation": "conv_1"}),
            "conversation",
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
        let users: Vec<&Value> = sent["input"]
            .as_array()
            .expect("input")
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

/// To OpenAI a Responses call goes as one, so what only OpenAI has works: built-in tools pass,
/// and encrypted reasoning is asked for when the Hub keeps the turn. That reasoning can be read
/// only by the account that wrote it (the mock refuses it from any other key, as OpenAI does):
/// with two keys taking turns, each turn carries back exactly the reasoning its own key wrote,
/// and the conversation goes on whichever key serves it — also after a turn on another provider.
#[test]
fn reasoning_goes_back_only_to_the_key_that_wrote_it() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    hub.add_provider_with_keys("openai", &mock, &["mock-a", "mock-b"]);
    hub.add_provider_with_keys("anthropic", &mock, &["mock-ok"]);
    let mut previous = Value::Null;
    let mut served: Vec<String> = Vec::new();
    for turn in 0..5 {
        let model = if turn == 2 {
            "anthropic/claude-sonnet-4-5"
        } else {
            "openai/gpt-5"
        };
        let (status, answer) = create(
            &hub,
            ADMIN_KEY,
            &json!({"model": model, "input": format!("turn {turn}"), "previous_response_id": previous,
                    "reasoning": {"effort": "low"}, "tools": if turn == 2 { json!([]) } else { json!([{"type": "web_search"}]) }}),
        );
        assert_eq!(status, 200, "turn {turn}: {answer}");
        let sent = mock.bodies().pop().expect("sent");
        let key = mock.keys().pop().expect("key");
        previous = answer["id"].clone();
        if turn == 2 {
            served.push(String::new());
            assert!(sent.get("messages").is_some(), "translated: {sent}");
            continue;
        }
        assert_eq!(sent["tools"], json!([{"type": "web_search"}]), "{sent}");
        assert_eq!(sent["include"], json!(["reasoning.encrypted_content"]));
        // The answer's reasoning is sealed to its key; what went up was unsealed.
        let reasoning = &answer["output"][0];
        assert_eq!(reasoning["type"], "reasoning", "{answer}");
        let sealed = reasoning["encrypted_content"].as_str().expect("sealed");
        assert!(sealed.starts_with("aigne-hub:"), "{sealed}");
        let carried: Vec<&Value> = sent["input"]
            .as_array()
            .expect("input")
            .iter()
            .filter(|i| i["type"] == "reasoning")
            .collect();
        let own = served.iter().filter(|k| **k == key).count();
        assert_eq!(carried.len(), own, "turn {turn} on {key}: {sent}");
        for r in carried {
            assert_eq!(r["encrypted_content"], format!("gAAAAABo-{key}-reasoning"));
        }
        let users = sent["input"]
            .as_array()
            .expect("input")
            .iter()
            .filter(|i| i["role"] == "user")
            .count();
        assert_eq!(users, turn + 1, "the whole conversation: {sent}");
        served.push(key);
    }
    assert!(
        served.iter().any(|k| k == "mock-a") && served.iter().any(|k| k == "mock-b"),
        "both keys served: {served:?}"
    );

    // A stream passes OpenAI's own events on, under the Hub's id, stored before its last event.
    let res = hub.post(
        "/v1/responses",
        Some(ADMIN_KEY),
        &json!({"model": "openai/gpt-5", "input": "again", "previous_response_id": previous, "stream": true}),
    );
    assert_eq!(res.status(), 200);
    let evs = events(res);
    assert_eq!(evs.len(), 10, "the fixture's events, no more: {evs:?}");
    let done = evs.last().expect("last")["response"].clone();
    let id = done["id"].as_str().expect("id");
    assert!(
        evs[..2].iter().all(|e| e["response"]["id"] == id),
        "{evs:?}"
    );
    assert_eq!(done["previous_response_id"], previous);
    let (status, stored) = json(hub.get(&format!("/v1/responses/{id}"), Some(ADMIN_KEY)));
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["output"][0]["content"][0]["text"], "Hello, world");

    let rows = crate::support::eventually(|| {
        let rows = env.database.calls();
        (rows.len() == 6 && rows.iter().all(|r| r.status != "processing")).then_some(rows)
    });
    assert!(rows.iter().all(|r| r.status == "success"), "{rows:?}");
    assert!(rows.iter().any(|r| r.total_usage == 48), "{rows:?}");
}
