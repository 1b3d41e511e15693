//! Every provider of SPEC §3 against its mock: a chat through each (an image for Ideogram) with
//! usage recorded, the model list naming them all; Bedrock signed with SigV4 for its region and
//! streamed chunk by chunk from AWS event-stream frames; Ollama's native API (NDJSON streams);
//! Google's embeddings, Imagen and Veo; embeddings on Bedrock and Ollama.

use crate::support::mock::MockUpstream;
use crate::support::mock_media::MP4;
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::time::Instant;

const K: Option<&str> = Some(ADMIN_KEY);

const ALL: [&str; 11] = [
    "openai",
    "anthropic",
    "google",
    "bedrock",
    "deepseek",
    "xai",
    "openrouter",
    "ollama",
    "doubao",
    "poe",
    "ideogram",
];

pub(crate) fn add(hub: &Hub, mock: &MockUpstream, name: &str, key: &str) -> String {
    let mut body = json!({"name": name, "baseUrl": mock.base_for(name)});
    if name == "bedrock" {
        body["region"] = json!("us-west-2");
    }
    let (status, p) = json(hub.post("/api/ai-providers", K, &body));
    assert_eq!(status, 201, "{p}");
    let id = p["id"].as_str().expect("id").to_owned();
    let credential = if name == "bedrock" {
        json!({"name": "k", "credentialType": "access_key_pair",
               "value": {"access_key_id": key, "secret_access_key": "mock-secret-key"}})
    } else {
        json!({"name": "k", "value": key})
    };
    let (status, c) = json(hub.post(
        &format!("/api/ai-providers/{id}/credentials"),
        K,
        &credential,
    ));
    assert_eq!(status, 201, "{c}");
    id
}

fn chat_model(provider: &str) -> &'static str {
    match provider {
        "openai" => "openai/gpt-5-mini",
        "anthropic" => "anthropic/claude-sonnet-4-5",
        "google" => "google/gemini-2.5-flash",
        "bedrock" => "bedrock/anthropic.claude-3-5-haiku-20241022-v1:0",
        "deepseek" => "deepseek/deepseek-chat",
        "xai" => "xai/grok-4",
        "openrouter" => "openrouter/meta-llama/llama-3.3-70b-instruct",
        "ollama" => "ollama/llama3.2",
        "doubao" => "doubao/doubao-seed-1-6",
        "poe" => "poe/Claude-Sonnet-4",
        _ => unreachable!("{provider}"),
    }
}

fn say_hello(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "stream_options": {"include_usage": true},
           "messages": [{"role": "user", "content": "Say hello"}]})
}

#[test]
fn every_provider_answers() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    for name in ALL {
        add(&hub, &mock, name, "mock-ok");
    }
    for name in ALL.iter().filter(|n| **n != "ideogram") {
        let model = chat_model(name);
        let (status, body) =
            json(hub.post("/api/v2/chat/completions", K, &say_hello(model, false)));
        assert_eq!(status, 200, "{name}: {body}");
        let text = body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or("");
        assert!(text.contains("Hello"), "{name}: {body}");
        assert!(
            body["usage"]["total_tokens"].as_u64().unwrap_or(0) > 0,
            "{name}: {body}"
        );
    }
    let (status, image) = json(hub.post(
        "/api/v2/images/generations",
        K,
        &json!({"model": "ideogram/ideogram-v3", "prompt": "a cat on a couch", "n": 2, "size": "1920x1080"}),
    ));
    assert_eq!(status, 200, "{image}");
    assert_eq!(image["data"].as_array().map(Vec::len), Some(2));
    let sent = mock
        .bodies()
        .into_iter()
        .find(|b| b["path"] == "/v1/ideogram-v3/generate")
        .expect("ideogram");
    assert_eq!(sent["aspect_ratio"], "16x9");
    assert_eq!(sent["num_images"], "2");

    // Doubao's images speak OpenAI's images API.
    let (status, seedream) = json(hub.post(
        "/api/v2/images/generations",
        K,
        &json!({"model": "doubao/doubao-seedream-4-0-250828", "prompt": "a cat", "response_format": "url"}),
    ));
    assert_eq!(status, 200, "{seedream}");
    assert!(seedream["data"][0]["url"].is_string(), "{seedream}");

    let mut rows = env.database.calls();
    assert_eq!(rows.len(), 12, "{rows:?}");
    let doubao_image = rows.pop().expect("doubao image row");
    assert_eq!(
        (doubao_image.model.as_str(), doubao_image.call_type.as_str()),
        ("doubao/doubao-seedream-4-0-250828", "imageGeneration")
    );
    for (row, name) in rows.iter().zip(ALL.iter().filter(|n| **n != "ideogram")) {
        assert_eq!(row.status, "success", "{row:?}");
        assert!(row.model.starts_with(&format!("{name}/")), "{row:?}");
        assert!(row.total_usage > 0, "usage recorded for {name}: {row:?}");
    }
    let last = rows.last().expect("ideogram row");
    assert_eq!(
        (last.call_type.as_str(), last.total_usage),
        ("imageGeneration", 2)
    );

    // Bedrock's request was signed for its region, the model id encoded in the path.
    let bedrock = mock
        .bodies()
        .into_iter()
        .find(|b| b.get("modelId").is_some())
        .expect("bedrock");
    assert_eq!(
        bedrock["modelId"],
        "anthropic.claude-3-5-haiku-20241022-v1:0"
    );
    let auth = bedrock["authorization"].as_str().expect("auth");
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=mock-ok/"),
        "{auth}"
    );
    assert!(auth.contains("/us-west-2/bedrock/aws4_request"), "{auth}");
    assert!(!auth.contains("mock-secret-key"));
    assert_eq!(bedrock["messages"][0]["content"][0]["text"], "Say hello");

    // Ollama went to the native API.
    assert!(
        mock.bodies().iter().any(|b| b["model"] == "llama3.2"
            && b["stream"] == false
            && b.get("messages").is_some())
    );

    let (_, models) = json(hub.get("/api/v2/models", K));
    let ids: Vec<&str> = models["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    for name in ALL {
        assert!(
            ids.iter().any(|id| id.starts_with(&format!("{name}/"))),
            "{name} listed: {ids:?}"
        );
    }
}

/// SSE `data:` lines with when each arrived.
fn timed_lines(res: reqwest::blocking::Response) -> Vec<(Instant, String)> {
    BufReader::new(res)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| {
            l.strip_prefix("data: ")
                .map(|d| (Instant::now(), d.to_owned()))
        })
        .collect()
}

#[test]
fn bedrock_and_ollama_stream() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    add(&hub, &mock, "bedrock", "mock-slow");
    add(&hub, &mock, "ollama", "mock-slow");
    let client = reqwest::blocking::Client::new();
    for model in [chat_model("bedrock"), chat_model("ollama")] {
        let res = client
            .post(hub.url("/api/v2/chat/completions"))
            .bearer_auth(ADMIN_KEY)
            .json(&say_hello(model, true))
            .send()
            .expect("stream");
        assert_eq!(res.status(), 200);
        let lines = timed_lines(res);
        let deltas: Vec<&(Instant, String)> = lines
            .iter()
            .filter(|(_, l)| l.contains("\"content\":\""))
            .collect();
        let text: String = deltas
            .iter()
            .filter_map(|(_, l)| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| {
                v["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(text, "Hello, world", "{model}: {lines:?}");
        // Chunk by chunk: the mock waits 300 ms between events; the first words reached the
        // client long before the last.
        let spread = deltas.last().expect("last").0 - deltas.first().expect("first").0;
        assert!(
            spread.as_millis() >= 300,
            "{model}: deltas arrived together ({spread:?})"
        );
        assert!(
            lines.iter().any(|(_, l)| l.contains("\"total_tokens\"")),
            "{model}: usage"
        );
        assert_eq!(lines.last().map(|(_, l)| l.as_str()), Some("[DONE]"));
    }
    let rows = env.database.calls();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.status == "success" && r.total_usage > 0),
        "{rows:?}"
    );

    // A Bedrock exception frame mid-stream: an error chunk and a failed row with what was seen.
    let mock2 = MockUpstream::start();
    let env2 = HubEnv::new(Backend::Sqlite);
    let hub2 = env2.start();
    add(&hub2, &mock2, "bedrock", "mock-cut");
    let res = client
        .post(hub2.url("/api/v2/chat/completions"))
        .bearer_auth(ADMIN_KEY)
        .json(&say_hello(chat_model("bedrock"), true))
        .send()
        .expect("stream");
    let lines = timed_lines(res);
    let last = &lines.last().expect("last").1;
    assert!(
        last.contains("error") && last.contains("overloaded"),
        "{lines:?}"
    );
    let rows = env2.database.calls();
    assert_eq!(rows[0].status, "failed");
    assert!(
        rows[0]
            .error_reason
            .as_deref()
            .unwrap_or("")
            .contains("serviceUnavailableException")
    );
}

#[test]
fn google_bedrock_ollama_media() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite).var("AIGNE_HUB_UPSTREAM__JOB_POLL_MS", "50");
    let hub = env.start();
    for name in ["google", "bedrock", "ollama"] {
        add(&hub, &mock, name, "mock-ok");
    }
    for (model, value) in [
        ("google/gemini-embedding-001", 0.5),
        ("bedrock/amazon.titan-embed-text-v2:0", 0.5),
        ("ollama/nomic-embed-text", 0.5),
    ] {
        let (status, body) = json(hub.post(
            "/api/v2/embeddings",
            K,
            &json!({"model": model, "input": ["a", "b"]}),
        ));
        assert_eq!(status, 200, "{model}: {body}");
        assert_eq!(body["data"].as_array().map(Vec::len), Some(2), "{model}");
        assert_eq!(body["data"][1]["embedding"][3], value, "{model}");
    }
    // Imagen: bytes stored by the Hub; the size became an aspect ratio.
    let (status, img) = json(hub.post(
        "/api/v2/image",
        K,
        &json!({"input": {"prompt": "a lighthouse", "modelOptions": {"model": "google/imagen-4.0-generate-001", "n": 2, "size": "1792x1024"}}}),
    ));
    assert_eq!(status, 200, "{img}");
    assert_eq!(img["images"].as_array().map(Vec::len), Some(2));
    let png = reqwest::blocking::get(img["images"][0]["url"].as_str().expect("url")).expect("png");
    assert!(png.bytes().expect("bytes").starts_with(b"\x89PNG"));
    let sent = mock
        .bodies()
        .into_iter()
        .find(|b| b.get("instances").is_some())
        .expect("imagen");
    assert_eq!(sent["parameters"]["aspectRatio"], "16:9");
    assert_eq!(sent["parameters"]["sampleCount"], 2);

    // Veo: an operation polled, the video downloaded with the key, stored, linked.
    let (status, video) = json(hub.post(
        "/api/v2/video",
        K,
        &json!({"input": {"prompt": "a storm", "seconds": "6", "modelOptions": {"model": "google/veo-3.0-generate-001"}}}),
    ));
    assert_eq!(status, 200, "{video}");
    assert_eq!(video["seconds"], 6.0);
    let mp4 =
        reqwest::blocking::get(video["videos"][0]["url"].as_str().expect("url")).expect("mp4");
    assert_eq!(mp4.bytes().expect("bytes").as_ref(), MP4);

    // A chat model is not an image model.
    let err = error_of(
        hub.post(
            "/api/v2/images/generations",
            K,
            &json!({"model": "google/gemini-2.5-flash", "prompt": "x"}),
        ),
        400,
    );
    assert_eq!(err["param"], "model");

    let rows = env.database.calls();
    let kinds: Vec<&str> = rows.iter().map(|r| r.call_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "embedding",
            "embedding",
            "embedding",
            "imageGeneration",
            "video"
        ]
    );
    assert!(rows.iter().all(|r| r.status == "success"), "{rows:?}");
}

/// A model name is data: names that could read as URL structure are refused with a 400 naming
/// `model` in every dialect before any provider is called, and legal names reach each provider's
/// mock as one percent-encoded path segment.
#[test]
fn model_names_cannot_steer_upstream_urls() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    for name in ["google", "bedrock", "ollama", "openai"] {
        add(&hub, &mock, name, "mock-ok");
    }
    let bad = [
        "google/../files",
        "google/gemini-2.5-flash?alt=x#",
        "google/gemini%2e%2e",
        "bedrock/x y",
        "ollama/./llama3.2",
        "openai/gpt\u{7f}",
    ];
    let long = format!("openai/{}", "a".repeat(300));
    for model in bad.iter().copied().chain([long.as_str()]) {
        let err = error_of(
            hub.post("/api/v2/chat/completions", K, &say_hello(model, false)),
            400,
        );
        assert_eq!(err["param"], "model", "{model}: {err}");
        let err = error_of(
            hub.post(
                "/api/v2/embeddings",
                K,
                &json!({"model": model, "input": "x"}),
            ),
            400,
        );
        assert!(
            err["message"].as_str().unwrap_or("").contains("model"),
            "{model}: {err}"
        );
        let (status, body) = json(hub.post(
            "/api/v2/chat",
            K,
            &json!({"input": {"messages": [{"role": "user", "content": "hi"}],
                              "modelOptions": {"model": model}}}),
        ));
        assert_eq!(status, 400, "{model}: {body}");
        let err = error_of(
            hub.post(
                "/api/v2/image/generations",
                K,
                &json!({"model": model, "prompt": "x"}),
            ),
            400,
        );
        assert!(
            err["message"].as_str().unwrap_or("").contains("model"),
            "{model}: {err}"
        );
    }
    assert_eq!(mock.total_calls(), 0, "a refused name reached a provider");

    for model in [
        "google/gemini-2.5-flash@001",
        "bedrock/anthropic.claude-3-5-haiku-20241022-v1:0",
        "ollama/hf.co/org/model:Q4_K_M",
    ] {
        let (status, body) =
            json(hub.post("/api/v2/chat/completions", K, &say_hello(model, false)));
        assert_eq!(status, 200, "{model}: {body}");
    }
    let (status, body) = json(hub.post(
        "/api/v2/embeddings",
        K,
        &json!({"model": "google/gemini-embedding-001", "input": "x"}),
    ));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        mock.paths(),
        [
            "/v1beta/models/gemini-2.5-flash%40001:generateContent",
            "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse",
            "/api/chat",
            "/v1beta/models/gemini-embedding-001:batchEmbedContents",
        ]
    );
    assert_eq!(mock.bodies()[2]["model"], "hf.co/org/model:Q4_K_M");
}
