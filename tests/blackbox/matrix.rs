//! Every inbound dialect × every upstream family, through the mocks: Chat Completions, Responses,
//! Anthropic Messages and Gemini, each to an OpenAI-compatible, Anthropic, Gemini, Bedrock and
//! Ollama upstream; one answer and a stream, each asking for a tool, then the tool's result sent
//! back in the dialect's own form and the model's text answer read. One Hub serves the whole
//! matrix (the calls only read routing, and each row is checked at the end).

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, json};
use reqwest::blocking::Response;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};

#[derive(Clone, Copy, Debug)]
enum Dialect {
    Chat,
    Responses,
    Messages,
    Gemini,
}

const DIALECTS: [Dialect; 4] = [
    Dialect::Chat,
    Dialect::Responses,
    Dialect::Messages,
    Dialect::Gemini,
];

/// `(provider kind, model)`: each family's tool-calling model on the mock.
const UPSTREAMS: [(&str, &str); 5] = [
    ("openai", "openai/tool-caller"),
    ("anthropic", "anthropic/tool-caller"),
    ("google", "google/tool-caller"),
    ("bedrock", "bedrock/tool-caller"),
    ("ollama", "ollama/tool-caller"),
];

const ASK: &str = "What is the weather in Paris?";

fn schema() -> Value {
    json!({"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]})
}

/// A tool call as any dialect reports it, and what the next turn echoes back.
struct Call {
    id: String,
    name: String,
    args: Value,
    /// The assistant's turn as the dialect's client keeps it (Messages and Gemini echo it).
    turn: Value,
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Dialect::Chat => "openai",
            Dialect::Responses => "responses",
            Dialect::Messages => "anthropic",
            Dialect::Gemini => "gemini",
        }
    }

    /// The first turn, or with `answered` the second one carrying the tool's result.
    fn send(self, hub: &Hub, model: &str, stream: bool, answered: Option<&Call>) -> Response {
        let result = "18°C and sunny";
        let (path, body, header) = match self {
            Dialect::Chat => {
                let mut messages = vec![json!({"role": "user", "content": ASK})];
                if let Some(c) = answered {
                    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
                        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.args.to_string()}}
                    ]}));
                    messages.push(json!({"role": "tool", "tool_call_id": c.id, "content": result}));
                }
                let body = json!({
                    "model": model, "stream": stream, "messages": messages,
                    "stream_options": if stream { json!({"include_usage": true}) } else { Value::Null },
                    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather", "parameters": schema()}}],
                });
                ("/v1/chat/completions".to_owned(), body, "authorization")
            }
            Dialect::Responses => {
                let mut input = vec![json!({"role": "user", "content": ASK})];
                if let Some(c) = answered {
                    input.push(json!({"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.args.to_string()}));
                    input.push(
                        json!({"type": "function_call_output", "call_id": c.id, "output": result}),
                    );
                }
                let body = json!({
                    "model": model, "stream": stream, "store": false, "input": input,
                    "tools": [{"type": "function", "name": "get_weather", "description": "Current weather", "parameters": schema()}],
                });
                ("/v1/responses".to_owned(), body, "authorization")
            }
            Dialect::Messages => {
                let mut messages = vec![json!({"role": "user", "content": ASK})];
                if let Some(c) = answered {
                    messages.push(json!({"role": "assistant", "content": c.turn}));
                    messages.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": c.id, "content": result}]}));
                }
                let body = json!({
                    "model": model, "stream": stream, "max_tokens": 256, "messages": messages,
                    "tools": [{"name": "get_weather", "description": "Current weather", "input_schema": schema()}],
                });
                ("/v1/messages".to_owned(), body, "x-api-key")
            }
            Dialect::Gemini => {
                let mut contents = vec![json!({"role": "user", "parts": [{"text": ASK}]})];
                if let Some(c) = answered {
                    contents.push(c.turn.clone());
                    let mut response = json!({"name": c.name, "response": {"output": result}});
                    if !c.id.is_empty() {
                        response["id"] = json!(c.id);
                    }
                    contents
                        .push(json!({"role": "user", "parts": [{"functionResponse": response}]}));
                }
                let method = if stream {
                    "streamGenerateContent?alt=sse"
                } else {
                    "generateContent"
                };
                let body = json!({
                    "contents": contents,
                    "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Current weather", "parameters": {"type": "OBJECT", "properties": {"location": {"type": "STRING"}}}}]}],
                });
                (
                    format!("/v1beta/models/{model}:{method}"),
                    body,
                    "x-goog-api-key",
                )
            }
        };
        let value = if header == "authorization" {
            format!("Bearer {ADMIN_KEY}")
        } else {
            ADMIN_KEY.to_owned()
        };
        hub.request(reqwest::Method::POST, &path)
            .header(header, value)
            .header("anthropic-version", "2023-06-01")
            .json(&body)
            .send()
            .expect("request")
    }

    /// The tool call of a whole answer.
    fn call_of(self, v: &Value) -> Option<Call> {
        let parse = |s: &Value| serde_json::from_str(s.as_str().unwrap_or("null")).ok();
        match self {
            Dialect::Chat => {
                let c = &v["choices"][0]["message"]["tool_calls"][0];
                Some(Call {
                    id: c["id"].as_str()?.to_owned(),
                    name: c["function"]["name"].as_str()?.to_owned(),
                    args: parse(&c["function"]["arguments"])?,
                    turn: Value::Null,
                })
            }
            Dialect::Responses => {
                let c = v["output"]
                    .as_array()?
                    .iter()
                    .find(|i| i["type"] == "function_call")?;
                Some(Call {
                    id: c["call_id"].as_str()?.to_owned(),
                    name: c["name"].as_str()?.to_owned(),
                    args: parse(&c["arguments"])?,
                    turn: Value::Null,
                })
            }
            Dialect::Messages => {
                let c = v["content"]
                    .as_array()?
                    .iter()
                    .find(|b| b["type"] == "tool_use")?;
                Some(Call {
                    id: c["id"].as_str()?.to_owned(),
                    name: c["name"].as_str()?.to_owned(),
                    args: c["input"].clone(),
                    turn: v["content"].clone(),
                })
            }
            Dialect::Gemini => {
                let content = &v["candidates"][0]["content"];
                let c = content["parts"]
                    .as_array()?
                    .iter()
                    .find_map(|p| p.get("functionCall"))?;
                // Gemini itself may give a call no id (the Hub gives every translated call one).
                Some(Call {
                    id: c["id"].as_str().unwrap_or_default().to_owned(),
                    name: c["name"].as_str()?.to_owned(),
                    args: c["args"].clone(),
                    turn: content.clone(),
                })
            }
        }
    }

    /// The text of a whole answer.
    fn text_of(self, v: &Value) -> String {
        let join = |items: &[Value], f: &dyn Fn(&Value) -> Option<String>| -> String {
            items.iter().filter_map(f).collect()
        };
        match self {
            Dialect::Chat => v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            Dialect::Responses => join(v["output"].as_array().map_or(&[], |a| a), &|i| {
                (i["type"] == "message").then(|| {
                    join(i["content"].as_array().map_or(&[], |a| a), &|c| {
                        c["text"].as_str().map(str::to_owned)
                    })
                })
            }),
            Dialect::Messages => join(v["content"].as_array().map_or(&[], |a| a), &|b| {
                (b["type"] == "text")
                    .then(|| b["text"].as_str().map(str::to_owned))
                    .flatten()
            }),
            Dialect::Gemini => join(
                v["candidates"][0]["content"]["parts"]
                    .as_array()
                    .map_or(&[], |a| a),
                &|p| p["text"].as_str().map(str::to_owned),
            ),
        }
    }

    /// The tool call a stream carried (name and assembled arguments), and whether it reported
    /// usage.
    fn streamed_call(self, events: &[Value]) -> (String, Value, bool) {
        let mut name = String::new();
        let mut args = String::new();
        let mut usage = false;
        for e in events {
            match self {
                Dialect::Chat => {
                    for c in e["choices"][0]["delta"]["tool_calls"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        name.push_str(c["function"]["name"].as_str().unwrap_or_default());
                        args.push_str(c["function"]["arguments"].as_str().unwrap_or_default());
                    }
                    usage |= e["usage"]["completion_tokens"].as_u64().unwrap_or(0) > 0;
                }
                Dialect::Responses => match e["type"].as_str() {
                    Some("response.output_item.added") if e["item"]["type"] == "function_call" => {
                        name = e["item"]["name"].as_str().unwrap_or_default().to_owned()
                    }
                    Some("response.function_call_arguments.delta") => {
                        args.push_str(e["delta"].as_str().unwrap_or_default())
                    }
                    Some("response.completed") => {
                        usage = e["response"]["usage"]["output_tokens"]
                            .as_u64()
                            .unwrap_or(0)
                            > 0
                    }
                    _ => {}
                },
                Dialect::Messages => match e["type"].as_str() {
                    Some("content_block_start") if e["content_block"]["type"] == "tool_use" => {
                        name = e["content_block"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned()
                    }
                    Some("content_block_delta") => {
                        args.push_str(e["delta"]["partial_json"].as_str().unwrap_or_default())
                    }
                    Some("message_delta") => {
                        usage = e["usage"]["output_tokens"].as_u64().unwrap_or(0) > 0
                    }
                    _ => {}
                },
                Dialect::Gemini => {
                    for p in e["candidates"][0]["content"]["parts"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        if let Some(c) = p.get("functionCall") {
                            name = c["name"].as_str().unwrap_or_default().to_owned();
                            args = c["args"].to_string();
                        }
                    }
                    usage |= e["usageMetadata"]["candidatesTokenCount"]
                        .as_u64()
                        .unwrap_or(0)
                        > 0;
                }
            }
        }
        let args = serde_json::from_str(&args).unwrap_or(Value::String(args));
        (name, args, usage)
    }
}

/// The JSON payloads of an SSE body (`[DONE]` left out).
fn sse(res: Response) -> Vec<Value> {
    BufReader::new(res)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| l.strip_prefix("data: ").map(str::to_owned))
        .filter(|d| d != "[DONE]")
        .map(|d| serde_json::from_str(&d).expect("event json"))
        .collect()
}

#[test]
fn every_dialect_to_every_family() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    for (kind, _) in UPSTREAMS {
        crate::providers::add(&hub, &mock, kind, "mock-ok");
    }
    let mut calls = 0;
    for dialect in DIALECTS {
        for (_, model) in UPSTREAMS {
            let at = format!("{dialect:?} → {model}");
            // One answer that asks for the tool, then the tool's result and the text answer.
            let (status, first) = json(dialect.send(&hub, model, false, None));
            assert_eq!(status, 200, "{at}: {first}");
            let call = dialect
                .call_of(&first)
                .unwrap_or_else(|| panic!("{at}: no tool call in {first}"));
            assert_eq!(call.name, "get_weather", "{at}");
            assert!(call.args["location"].is_string(), "{at}: {}", call.args);
            let (status, second) = json(dialect.send(&hub, model, false, Some(&call)));
            assert_eq!(status, 200, "{at}: {second}");
            assert!(
                dialect.text_of(&second).ends_with("Hello, world"),
                "{at}: {second}"
            );
            // The same request streamed: the call arrives whole once assembled, with usage.
            let res = dialect.send(&hub, model, true, None);
            assert_eq!(res.status(), 200, "{at}");
            let events = sse(res);
            let (name, args, usage) = dialect.streamed_call(&events);
            assert_eq!(name, "get_weather", "{at}: {events:#?}");
            assert!(args["location"].is_string(), "{at}: {args}");
            assert!(usage, "{at}: no usage in {events:#?}");
            calls += 3;
        }
    }
    let rows = crate::support::eventually(|| {
        let rows = env.database.calls();
        (rows.len() == calls && rows.iter().all(|r| r.status != "processing")).then_some(rows)
    });
    assert!(rows.iter().all(|r| r.status == "success"), "{rows:?}");
    for dialect in DIALECTS {
        for (_, model) in UPSTREAMS {
            let n = rows
                .iter()
                .filter(|r| r.dialect.as_deref() == Some(dialect.name()) && r.model == model)
                .count();
            assert_eq!(n, 3, "{dialect:?} → {model}: {rows:?}");
        }
    }
}
