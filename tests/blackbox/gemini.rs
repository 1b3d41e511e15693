//! Gemini native inbound (`/v1beta/models/{model}:{method}`, `/api/v2/v1beta/…`): the shape
//! `@google/genai` and Gemini CLI read, to a Gemini upstream and, translated, to an OpenAI-style
//! one; function-call rounds, both stream framings, `countTokens`, the model list, and every
//! error in Google's shape with nothing sent upstream.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, json};
use reqwest::blocking::Response;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};

fn post(hub: &Hub, path: &str, key: &str, body: &Value) -> Response {
    hub.request(reqwest::Method::POST, path)
        .header("x-goog-api-key", key)
        .json(body)
        .send()
        .expect("request")
}

fn ask() -> Value {
    json!({
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}],
        "tools": [{"functionDeclarations": [{
            "name": "get_weather",
            "description": "Current weather",
            "parameters": {"type": "OBJECT", "properties": {"location": {"type": "STRING"}}, "required": ["location"]}
        }]}],
        "generationConfig": {"temperature": 0.2, "maxOutputTokens": 256}
    })
}

/// The chunks of an `alt=sse` stream.
fn sse_chunks(res: Response) -> Vec<Value> {
    BufReader::new(res)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| {
            l.strip_prefix("data: ")
                .map(|d| serde_json::from_str(d).expect("chunk json"))
        })
        .collect()
}

/// All parts of all chunks, in order.
fn parts(chunks: &[Value]) -> Vec<Value> {
    chunks
        .iter()
        .flat_map(|c| {
            c["candidates"][0]["content"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

/// The `{"error": {code, message, status}}` body of a `status` answer.
fn google_error(res: Response, status: u16) -> Value {
    let (got, body) = json(res);
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"]["code"], status, "{body}");
    body["error"].clone()
}

fn generate(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);
    hub.add_provider_with_keys("google", &mock, &["mock-ok"]);

    // To an OpenAI-style upstream, translated both ways.
    let (status, answer) = json(post(
        &hub,
        "/v1beta/models/openai/gpt-5-mini:generateContent",
        ADMIN_KEY,
        &ask(),
    ));
    assert_eq!(status, 200, "{answer}");
    let candidate = &answer["candidates"][0];
    assert_eq!(candidate["content"]["role"], "model");
    assert_eq!(
        candidate["content"]["parts"],
        json!([{"text": "Hello, world"}])
    );
    assert_eq!(candidate["finishReason"], "STOP");
    assert_eq!(answer["modelVersion"], "openai/gpt-5-mini");
    assert_eq!(answer["usageMetadata"]["promptTokenCount"], 19);
    assert_eq!(answer["usageMetadata"]["candidatesTokenCount"], 10);
    assert_eq!(answer["usageMetadata"]["totalTokenCount"], 29);
    let sent = mock.bodies().pop().expect("sent");
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(
        sent["tools"][0]["function"]["parameters"]["properties"]["location"]["type"], "string",
        "Gemini's OpenAPI types become JSON Schema: {sent}"
    );
    assert_eq!(sent["max_tokens"], 256, "{sent}");

    // To a Gemini upstream, with the key in the query as some clients send it.
    let res = hub
        .request(
            reqwest::Method::POST,
            &format!("/v1beta/models/google/gemini-2.5-flash:generateContent?key={ADMIN_KEY}"),
        )
        .json(&ask())
        .send()
        .expect("request");
    let (status, answer) = json(res);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["candidates"][0]["content"]["parts"][0]["text"],
        "Hello, world"
    );
    // Thoughts are output tokens the Hub bills, and given apart as Gemini does.
    assert_eq!(answer["usageMetadata"]["candidatesTokenCount"], 5);
    assert_eq!(answer["usageMetadata"]["thoughtsTokenCount"], 10);
    let sent = mock.bodies().pop().expect("sent");
    assert_eq!(sent["systemInstruction"]["parts"][0]["text"], "Be brief.");
    assert_eq!(
        sent["tools"][0]["functionDeclarations"][0]["name"],
        "get_weather"
    );
    assert!(
        mock.paths()
            .last()
            .is_some_and(|p| p.ends_with("/models/gemini-2.5-flash:generateContent")),
        "{:?}",
        mock.paths()
    );

    // Gemini's own tools and cached contents go to a Gemini model as written (elsewhere they are
    // refused: see the errors test).
    let mut search = ask();
    search["tools"] = json!([{"googleSearch": {}}, {"codeExecution": {}}]);
    search["cachedContent"] = json!("cachedContents/abc123");
    let (status, answer) = json(post(
        &hub,
        "/v1beta/models/google/gemini-2.5-flash:generateContent",
        ADMIN_KEY,
        &search,
    ));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(mock.bodies().pop().expect("sent"), search);

    // A function-call round through each family: the model calls, the client answers (by id
    // when the call has one: the Hub gives every translated call one; Gemini may not).
    for model in ["openai/tool-caller", "google/tool-caller"] {
        let path = format!("/api/v2/v1beta/models/{model}:generateContent");
        let mut body = ask();
        let (status, first) = json(post(&hub, &path, ADMIN_KEY, &body));
        assert_eq!(status, 200, "{first}");
        let call = first["candidates"][0]["content"]["parts"]
            .as_array()
            .and_then(|p| p.iter().find_map(|p| p.get("functionCall")))
            .cloned()
            .expect("a function call");
        assert_eq!(call["name"], "get_weather", "{first}");
        assert_eq!(call["args"], json!({"location": "Paris, France"}));
        let id = call["id"].as_str().unwrap_or_default().to_owned();
        let mut response = json!({"name": "get_weather", "response": {"output": "18°C and sunny"}});
        if !id.is_empty() {
            response["id"] = json!(id);
        }
        body["contents"].as_array_mut().expect("contents").extend([
            first["candidates"][0]["content"].clone(),
            json!({"role": "user", "parts": [{"functionResponse": response}]}),
        ]);
        let (status, second) = json(post(&hub, &path, ADMIN_KEY, &body));
        assert_eq!(status, 200, "{second}");
        assert_eq!(
            second["candidates"][0]["content"]["parts"][0]["text"],
            "Hello, world"
        );
        let sent = mock.bodies().pop().expect("sent");
        if model.starts_with("openai") {
            let tool = sent["messages"]
                .as_array()
                .and_then(|m| m.last())
                .cloned()
                .expect("tool message");
            assert_eq!(tool["role"], "tool");
            assert_eq!(tool["tool_call_id"], id.as_str());
            assert_eq!(tool["content"], r#"{"output":"18°C and sunny"}"#);
        } else {
            // To Gemini the conversation goes as the client wrote it: the model's turn keeps its
            // thought signature, which Gemini wants back with its function call.
            assert_eq!(sent, body, "the body as written");
            assert_eq!(
                sent["contents"][1]["parts"][0]["thoughtSignature"],
                "CiQBVKhc7xk2bXNl"
            );
            // And the answer is Gemini's own (its model version, its response id).
            assert_eq!(second["modelVersion"], "gemini-2.5-flash");
        }
    }

    // Streams: SSE chunks with the call whole in the last one, and usage there.
    let res = post(
        &hub,
        "/v1beta/models/openai/tool-caller:streamGenerateContent?alt=sse",
        ADMIN_KEY,
        &ask(),
    );
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/event-stream"))
    );
    let chunks = sse_chunks(res);
    let last = chunks.last().expect("chunks");
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["promptTokenCount"], 82, "{last}");
    let calls: Vec<Value> = parts(&chunks)
        .into_iter()
        .filter_map(|p| p.get("functionCall").cloned())
        .collect();
    assert_eq!(calls.len(), 1, "{chunks:?}");
    assert_eq!(calls[0]["args"], json!({"location": "Paris, France"}));

    // Without `alt=sse` the stream is one JSON array.
    let res = post(
        &hub,
        "/v1beta/models/google/gemini-2.5-flash:streamGenerateContent",
        ADMIN_KEY,
        &ask(),
    );
    assert_eq!(res.status(), 200);
    let (_, array) = json(res);
    let chunks = array.as_array().expect("a JSON array");
    let text: String = parts(chunks)
        .iter()
        .filter_map(|p| p["text"].as_str())
        .collect();
    assert_eq!(text, "Hello, world");
    assert_eq!(
        chunks.last().expect("last")["usageMetadata"]["totalTokenCount"],
        21
    );

    // Every call has its row, marked as having come in on Gemini's API.
    let rows = crate::support::eventually(|| {
        let rows = env.database.calls();
        (rows.len() == 9).then_some(rows)
    });
    assert!(rows.iter().all(|r| r.status == "success"), "{rows:?}");
    // Gemini's thoughts are kept apart in the row's usage too.
    let metrics: Value =
        serde_json::from_str(rows[1].usage_metrics.as_deref().unwrap_or("{}")).expect("metrics");
    assert_eq!(metrics["reasoningTokens"], 10, "{rows:?}");
    assert_eq!(metrics["completionTokens"], 15, "{rows:?}");
    let (_, log) = json(hub.get("/api/user/model-calls?allUsers=true", Some(ADMIN_KEY)));
    let items = log["list"].as_array().expect("list");
    assert!(items.iter().all(|c| c["dialect"] == "gemini"), "{log}");

    // countTokens: Gemini counts its own models (with a Hub key, unrecorded); others are
    // estimated, and say so.
    let before = mock.total_calls();
    let res = post(
        &hub,
        "/v1beta/models/openai/gpt-5-mini:countTokens",
        ADMIN_KEY,
        &json!({"contents": [{"role": "user", "parts": [{"text": "hello world"}]}]}),
    );
    assert_eq!(
        res.headers()
            .get("x-aigne-hub-token-count")
            .and_then(|v| v.to_str().ok()),
        Some("estimated; tokenizer=o200k_base")
    );
    let (status, count) = json(res);
    assert_eq!(status, 200, "{count}");
    assert_eq!(count["totalTokens"], 5, "3 framing + 2 text tokens");
    assert_eq!(mock.total_calls(), before);
    let res = post(
        &hub,
        "/v1beta/models/google/gemini-2.5-flash:countTokens",
        ADMIN_KEY,
        &json!({"generateContentRequest": {"model": "models/google/gemini-2.5-flash", "contents": [{"role": "user", "parts": [{"text": "hello world", "thoughtSignature": "c2ln"}]}],
                "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]}}),
    );
    assert_eq!(
        res.headers()
            .get("x-aigne-hub-token-count")
            .and_then(|v| v.to_str().ok()),
        Some("provider=google")
    );
    let (status, count) = json(res);
    assert_eq!(status, 200, "{count}");
    assert!(
        count["totalTokens"].as_u64().is_some_and(|n| n > 1000),
        "{count}"
    );
    let sent = mock.bodies().pop().expect("sent");
    assert_eq!(
        sent["generateContentRequest"]["model"],
        "models/gemini-2.5-flash"
    );
    // Counted as the client wrote it: what the Hub does not model is kept.
    let inner = &sent["generateContentRequest"];
    assert_eq!(
        inner["contents"][0]["parts"][0]["thoughtSignature"], "c2ln",
        "{sent}"
    );
    assert_eq!(
        inner["safetySettings"][0]["threshold"], "BLOCK_NONE",
        "{sent}"
    );
    assert_eq!(env.database.calls().len(), 9);

    // The model list in Gemini's shape, and one model.
    let res = hub
        .request(reqwest::Method::GET, "/v1beta/models")
        .header("x-goog-api-key", ADMIN_KEY)
        .send()
        .expect("models");
    let (status, list) = json(res);
    assert_eq!(status, 200, "{list}");
    let models = list["models"].as_array().expect("models");
    assert!(
        models
            .iter()
            .any(|m| m["name"] == "models/google/gemini-2.5-flash"),
        "{list}"
    );
    assert!(models.iter().all(|m| {
        m["supportedGenerationMethods"]
            .as_array()
            .is_some_and(|s| s.contains(&json!("generateContent")))
    }));
    let res = hub
        .request(
            reqwest::Method::GET,
            "/v1beta/models/google/gemini-2.5-flash",
        )
        .header("x-goog-api-key", ADMIN_KEY)
        .send()
        .expect("model");
    let (status, one) = json(res);
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["name"], "models/google/gemini-2.5-flash");
}

crate::on_both_backends!(generate);

/// Bad input and refusals, each in Google's error shape, nothing sent upstream, no row left.
#[test]
fn errors_in_gemini_shape() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite)
        .var("AIGNE_HUB_BILLING__ENABLED", "true")
        .var("AIGNE_HUB_REQUEST_ENTITY_SIZE_LIMIT", "64kb");
    let hub = env.start();
    let id = hub.add_provider_with_keys("openai", &mock, &["mock-ok"]);
    hub.add_rate(&id, "gpt-5-mini", "0.001", "0.001");
    let path = "/v1beta/models/openai/gpt-5-mini:generateContent";

    // A body over the limit: 413 in Google's shape.
    let mut big = ask();
    big["contents"][0]["parts"][0]["text"] = json!("x".repeat(70 * 1024));
    let e = google_error(post(&hub, path, ADMIN_KEY, &big), 413);
    assert_eq!(e["status"], "INVALID_ARGUMENT", "{e}");

    let e = google_error(post(&hub, path, "wrong-key", &ask()), 401);
    assert_eq!(e["status"], "UNAUTHENTICATED", "{e}");
    let res = hub
        .request(reqwest::Method::POST, path)
        .json(&ask())
        .send()
        .expect("request");
    assert_eq!(google_error(res, 401)["status"], "UNAUTHENTICATED");

    let user = |parts: Value| json!({"contents": [{"role": "user", "parts": parts}]});
    let mut search = ask();
    search["tools"] = json!([{"googleSearch": {}}]);
    let cases = [
        (json!({}), "contents"),
        (user(json!([{"hologram": {}}])), "contents[0].parts[0]"),
        (
            user(json!([{"functionResponse": {"name": "get_weather", "response": {}}}])),
            "contents[0].parts[0].functionResponse",
        ),
        (
            json!({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}),
            "contents[0].role",
        ),
        (search, "googleSearch"),
        (
            json!({"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"maxOutputTokens": "many"}}),
            "generationConfig",
        ),
    ];
    for (body, named) in cases {
        let e = google_error(post(&hub, path, ADMIN_KEY, &body), 400);
        assert_eq!(e["status"], "INVALID_ARGUMENT", "{e}");
        assert!(
            e["message"].as_str().is_some_and(|m| m.contains(named)),
            "{named}: {e}"
        );
    }
    let e = google_error(
        post(
            &hub,
            "/v1beta/models/openai/gpt-5-mini:embedContent",
            ADMIN_KEY,
            &ask(),
        ),
        404,
    );
    assert_eq!(e["status"], "NOT_FOUND", "{e}");
    let e = google_error(
        post(
            &hub,
            "/v1beta/models/openai/..%2Ffiles:generateContent",
            ADMIN_KEY,
            &ask(),
        ),
        400,
    );
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("model")),
        "{e}"
    );

    // Billing on and no credits: 402 with the purchase link, before anything is sent.
    let (_, created) = json(hub.post(
        "/api/access-keys",
        Some(ADMIN_KEY),
        &json!({"name": "broke", "role": "member"}),
    ));
    let broke = created["key"].as_str().expect("key");
    for method in ["generateContent", "streamGenerateContent?alt=sse"] {
        let e = google_error(
            post(
                &hub,
                &format!("/v1beta/models/openai/gpt-5-mini:{method}"),
                broke,
                &ask(),
            ),
            402,
        );
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("/credits")),
            "{e}"
        );
        assert_eq!(e["details"][0]["links"][0]["url"], "/credits", "{e}");
    }
    assert_eq!(mock.total_calls(), 0);
    assert!(env.database.calls().is_empty());
}

/// An upstream failure after every attempt reaches the client as Google's error of that status;
/// a stream that breaks after it began ends with an error chunk.
#[test]
fn upstream_failures_in_gemini_shape() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    hub.add_provider_with_keys("openai", &mock, &["mock-429"]);
    hub.add_provider_with_keys("xai", &mock, &["mock-cut"]);
    let e = google_error(
        post(
            &hub,
            "/v1beta/models/openai/gpt-5-mini:generateContent",
            ADMIN_KEY,
            &ask(),
        ),
        429,
    );
    assert_eq!(e["status"], "RESOURCE_EXHAUSTED", "{e}");
    let res = post(
        &hub,
        "/v1beta/models/xai/grok-4:streamGenerateContent?alt=sse",
        ADMIN_KEY,
        &ask(),
    );
    assert_eq!(res.status(), 200);
    let chunks = sse_chunks(res);
    let last = chunks.last().expect("a chunk");
    assert!(
        last["error"]["code"].as_u64().is_some_and(|c| c >= 500),
        "{chunks:?}"
    );
}
