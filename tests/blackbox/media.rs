//! Embeddings, images, video and audio through the real binary against the mock's OpenAI media
//! endpoints: both wire forms of each endpoint, stored files and their expiry, bad input, and the
//! `model_calls` row (type, usage, credits) of every call, failures included.

use crate::support::mock::MockUpstream;
use crate::support::mock_media::{MP3, MP4};
use crate::support::{ADMIN_KEY, Backend, Hub, HubEnv, error_of, json};
use base64::Engine as _;
use serde_json::{Value, json};
use std::time::Duration;

const K: Option<&str> = Some(ADMIN_KEY);

fn openai(hub: &Hub, mock: &MockUpstream, keys: &[&str]) -> String {
    hub.add_provider_with_keys("openai", mock, keys)
}

fn rate(hub: &Hub, pid: &str, model: &str, kind: &str, input: &str, output: &str) {
    let (status, r) = json(hub.post(
        &format!("/api/ai-providers/{pid}/model-rates"),
        K,
        &json!({"model": model, "type": kind, "inputRate": input, "outputRate": output}),
    ));
    assert_eq!(status, 201, "{r}");
}

fn metrics(row: &crate::support::db::CallRow) -> Value {
    serde_json::from_str(row.usage_metrics.as_deref().unwrap_or("{}")).expect("metrics")
}

fn embeddings(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    let pid = openai(&hub, &mock, &["mock-ok"]);
    rate(
        &hub,
        &pid,
        "text-embedding-3-small",
        "embedding",
        "0.00000002",
        "0",
    );

    let text = hub
        .post(
            "/api/v2/embeddings",
            K,
            &json!({"model": "openai/text-embedding-3-small", "input": ["one", "two"]}),
        )
        .text()
        .expect("body");
    // The provider's digits, not its f32s widened to f64 (0.002306425478309393…).
    const AS_SENT: &str = "[0.0023064255,-0.009327292,0.015797347,-0.0077780345,0.5]";
    assert_eq!(text.matches(AS_SENT).count(), 2, "{text}");
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(body["object"], "list");
    assert_eq!(body["data"].as_array().expect("data").len(), 2);
    assert_eq!(body["data"][1]["index"], 1);
    assert_eq!(body["data"][0]["embedding"][4], 0.5);
    assert_eq!(body["usage"]["prompt_tokens"], 16);
    assert_eq!(mock.bodies()[0]["model"], "text-embedding-3-small");
    assert_eq!(mock.bodies()[0]["encoding_format"], "float");

    let (_, b64) = json(hub.post(
        "/api/v2/embeddings",
        K,
        &json!({"model": "openai/text-embedding-3-small", "input": "one", "encoding_format": "base64"}),
    ));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64["data"][0]["embedding"].as_str().expect("b64"))
        .expect("base64");
    assert_eq!(bytes.len(), 5 * 4);
    assert_eq!(&bytes[16..20], &0.5f32.to_le_bytes());

    // The real Hub's envelope, answered in its shape.
    let text = hub
        .post(
            "/api/v2/embeddings",
            K,
            &json!({"input": {"input": "hello", "modelOptions": {"model": "openai/text-embedding-3-small"}}}),
        )
        .text()
        .expect("body");
    assert!(text.contains(AS_SENT), "{text}");
    let env_body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(env_body["embeddings"][0][4], 0.5);
    assert_eq!(env_body["usage"]["inputTokens"], 8);
    assert_eq!(env_body["model"], "openai/text-embedding-3-small");
    let call_id = env_body["usage"]["modelCallId"]
        .as_str()
        .expect("id")
        .to_owned();

    let rows = env.database.calls();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r.call_type == "embedding" && r.status == "success")
    );
    let last = rows.iter().find(|r| r.id == call_id).expect("row");
    assert_eq!(last.credits, "0.00000016");
    assert_eq!(metrics(last)["promptTokens"], 8);
}

fn images(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    let pid = openai(&hub, &mock, &["mock-ok"]);
    rate(
        &hub,
        &pid,
        "gpt-image-1",
        "imageGeneration",
        "0.000005",
        "0.04",
    );
    rate(&hub, &pid, "dall-e-3", "imageGeneration", "0", "0.08");

    // gpt-image-1 answers base64; the client wants URLs: the Hub stores the file.
    let (status, body) = json(hub.post(
        "/api/v2/images/generations",
        K,
        &json!({"model": "openai/gpt-image-1", "prompt": "an otter", "n": 2, "size": "1024x1024"}),
    ));
    assert_eq!(status, 200, "{body}");
    assert!(
        mock.bodies()[0].get("response_format").is_none(),
        "gpt-image-1 refuses it"
    );
    let urls: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| d["url"].as_str().expect("url"))
        .collect();
    assert_eq!(urls.len(), 2);
    assert_eq!(body["images"], body["data"]);
    assert!(
        urls[0].starts_with(&format!("{}/api/files/", hub.base)),
        "{}",
        urls[0]
    );
    let png = reqwest::blocking::get(urls[0]).expect("fetch");
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().expect("bytes").starts_with(b"\x89PNG"));
    assert_eq!(body["usage"]["input_tokens"], 50);

    // b64 wanted, the provider gives URLs: the Hub fetches them.
    let (status, b64) = json(hub.post(
        "/api/v2/image/generations",
        K,
        &json!({"model": "openai/dall-e-3", "prompt": "an otter", "response_format": "b64_json"}),
    ));
    assert_eq!(status, 200, "{b64}");
    let (_, dalle_url) = json(
        reqwest::blocking::Client::new()
            .post(hub.url("/api/v2/images/generations"))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"model": "openai/dall-e-3", "prompt": "an otter", "response_format": "url"}))
            .send()
            .expect("url"),
    );
    assert!(
        dalle_url["data"][0]["url"]
            .as_str()
            .expect("url")
            .contains("/v1/mock-files/"),
        "provider URLs pass through: {dalle_url}"
    );
    assert!(
        b64["data"][0]["b64_json"]
            .as_str()
            .expect("b64")
            .starts_with("iVBOR")
    );

    // AIGNE-native, with an input image (an edit) and file output.
    let (status, aigne) = json(hub.post(
        "/api/v2/image",
        K,
        &json!({"input": {"prompt": "make it blue", "outputFileType": "file",
                "image": [{"type": "file", "data": crate::support::mock_media::PNG_B64, "mimeType": "image/png"}],
                "modelOptions": {"model": "openai/gpt-image-1", "n": 1}}}),
    ));
    assert_eq!(status, 200, "{aigne}");
    assert_eq!(aigne["images"][0]["type"], "file");
    assert_eq!(aigne["images"][0]["mimeType"], "image/png");
    assert_eq!(aigne["model"], "openai/gpt-image-1");
    let edit = mock
        .bodies()
        .into_iter()
        .find(|b| b["multipart"] == true)
        .expect("edit");
    assert_eq!(edit["model"], "gpt-image-1");
    assert_eq!(edit["images"], 1);
    assert!(aigne["usage"]["aigneHubCredits"].as_f64().expect("credits") > 0.0);

    let rows = env.database.calls();
    assert!(
        rows.iter()
            .all(|r| r.call_type == "imageGeneration" && r.status == "success")
    );
    // 2 images × 0.04 + 50 prompt tokens × 0.000005.
    assert_eq!(rows[0].credits, "0.08025");
    assert_eq!(metrics(&rows[0])["images"], 2);
    // dall-e-3: one image at 0.08.
    assert_eq!(rows[1].credits, "0.08");
}

fn audio(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    let pid = openai(&hub, &mock, &["mock-ok"]);
    rate(&hub, &pid, "gpt-4o-mini-tts", "audio", "0.00002", "0");
    rate(&hub, &pid, "whisper-1", "audio", "0.001", "0");

    let res = reqwest::blocking::Client::new()
        .post(hub.url("/api/v2/audio/speech"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"model": "openai/gpt-4o-mini-tts", "input": "Hello there", "voice": "alloy"}))
        .send()
        .expect("speech");
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "audio/mpeg");
    assert_eq!(res.bytes().expect("bytes").as_ref(), MP3);
    assert_eq!(mock.bodies()[0]["voice"], "alloy");
    assert_eq!(mock.bodies()[0]["model"], "gpt-4o-mini-tts");

    let form = reqwest::blocking::multipart::Form::new()
        .text("model", "openai/whisper-1")
        .part(
            "file",
            reqwest::blocking::multipart::Part::bytes(MP3.to_vec())
                .file_name("hello.mp3")
                .mime_str("audio/mpeg")
                .expect("mime"),
        );
    let (status, text) = json(
        reqwest::blocking::Client::new()
            .post(hub.url("/api/v2/audio/transcriptions"))
            .bearer_auth(ADMIN_KEY)
            .multipart(form)
            .send()
            .expect("transcription"),
    );
    assert_eq!(status, 200, "{text}");
    assert!(text["text"].as_str().expect("text").starts_with("Imagine"));
    let sent = mock.bodies()[1].clone();
    assert_eq!(sent["model"], "whisper-1");
    assert_eq!(sent["has_file"], true);

    let rows = env.database.calls();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.call_type == "audio" && r.status == "success")
    );
    // 11 characters × 0.00002; 3 s × 0.001.
    assert_eq!(rows[0].credits, "0.00022");
    assert_eq!(metrics(&rows[0])["characters"], 11);
    assert_eq!(rows[1].credits, "0.003");
    assert_eq!(metrics(&rows[1])["seconds"], "3");
}

crate::on_both_backends!(embeddings, images, audio);

#[test]
fn video_files_expire() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite)
        .var("AIGNE_HUB_UPSTREAM__JOB_POLL_MS", "50")
        .var("AIGNE_HUB_FILES__TTL_SECS", "2");
    let hub = env.start();
    let pid = openai(&hub, &mock, &["mock-ok"]);
    rate(&hub, &pid, "sora-2", "video", "0", "0.1");

    let (status, body) = json(hub.post(
        "/api/v2/video",
        K,
        &json!({"input": {"prompt": "waves at dusk", "seconds": "8", "modelOptions": {"model": "openai/sora-2"}, "outputFileType": "url"}}),
    ));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["seconds"], 8.0);
    assert_eq!(body["model"], "openai/sora-2");
    let url = body["videos"][0]["url"].as_str().expect("url").to_owned();
    assert_eq!(body["videos"][0]["mimeType"], "video/mp4");
    let res = reqwest::blocking::get(&url).expect("video");
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().expect("bytes").as_ref(), MP4);
    assert_eq!(mock.bodies()[0]["seconds"], "8");
    assert!(mock.calls("mock-ok") >= 5, "create, 3 polls, content");

    let rows = env.database.calls();
    assert_eq!(rows[0].call_type, "video");
    assert_eq!(rows[0].credits, "0.8");
    assert_eq!(metrics(&rows[0])["seconds"], "8");

    // After the TTL: 404 in the one error shape.
    std::thread::sleep(Duration::from_millis(2_200));
    let err = error_of(reqwest::blocking::get(&url).expect("expired"), 404);
    assert!(err["message"].as_str().expect("m").contains("expired"));
    // A made-up name is a 404 too.
    error_of(
        hub.get(
            "/api/files/1999999999-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.mp4",
            None,
        ),
        404,
    );
}

#[test]
fn failures_are_recorded_and_fail_over() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite).var("AIGNE_HUB_UPSTREAM__JOB_POLL_MS", "50");
    let hub = env.start();
    openai(&hub, &mock, &["mock-500", "mock-ok"]);

    // The first key answers 500: the second answers; both attempts have rows.
    let (status, body) = json(hub.post(
        "/api/v2/embeddings",
        K,
        &json!({"model": "openai/text-embedding-3-small", "input": "x"}),
    ));
    assert_eq!(status, 200, "{body}");
    let rows = env.database.calls();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].status, "failed");
    assert!(
        rows[0]
            .error_reason
            .as_deref()
            .unwrap_or("")
            .contains("500")
    );
    assert_eq!(rows[1].status, "success");
    assert!(rows.iter().all(|r| r.call_type == "embedding"));

    // A failed video job: 502 naming the provider's reason, a failed row.
    let mock2 = MockUpstream::start();
    let env2 = HubEnv::new(Backend::Sqlite).var("AIGNE_HUB_UPSTREAM__JOB_POLL_MS", "50");
    let hub2 = env2.start();
    openai(&hub2, &mock2, &["mock-video-fail"]);
    let err = error_of(
        hub2.post(
            "/api/v2/video",
            K,
            &json!({"input": {"prompt": "x", "modelOptions": {"model": "openai/sora-2"}}}),
        ),
        502,
    );
    assert!(
        err["message"].as_str().expect("m").contains("moderation"),
        "{err}"
    );
    // A failed attempt's row is not awaited by the answer: it lands with the writer's next batch.
    let rows = crate::support::eventually(|| {
        let rows = env2.database.calls();
        (rows.first().is_some_and(|r| r.status == "failed")).then_some(rows)
    });
    assert_eq!(rows.len(), 1, "a failed job is not retried on another key");
    assert_eq!(rows[0].status, "failed");
    assert_eq!(rows[0].call_type, "video");
}

#[test]
fn bad_input_names_the_field() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite).var("AIGNE_HUB_REQUEST_ENTITY_SIZE_LIMIT", "64kb");
    let hub = env.start();
    openai(&hub, &mock, &["mock-ok"]);
    hub.add_provider_with_keys("anthropic", &mock, &["mock-ok"]);

    let param = |res: reqwest::blocking::Response, status: u16| {
        let e = error_of(res, status);
        e["param"].as_str().unwrap_or(&e.to_string()).to_owned()
    };
    let img = |body: Value| hub.post("/api/v2/images/generations", K, &body);
    assert_eq!(
        param(
            img(json!({"model": "openai/dall-e-2", "prompt": "x", "n": 11})),
            400
        ),
        "n"
    );
    assert_eq!(
        param(
            img(json!({"model": "openai/dall-e-2", "prompt": "x", "n": 0})),
            400
        ),
        "n"
    );
    assert_eq!(
        param(
            img(json!({"model": "openai/dall-e-2", "prompt": "x", "size": "big"})),
            400
        ),
        "size"
    );
    assert_eq!(
        param(img(json!({"model": "openai/dall-e-2", "prompt": ""})), 400),
        "prompt"
    );
    assert_eq!(
        param(
            img(json!({"model": "openai/dall-e-2", "prompt": "x", "response_format": "gif"})),
            400
        ),
        "response_format"
    );
    // A chat-only provider asked for images / embeddings / video.
    assert_eq!(
        param(
            img(json!({"model": "anthropic/claude-sonnet-4", "prompt": "x"})),
            400
        ),
        "model"
    );
    assert_eq!(
        param(
            hub.post(
                "/api/v2/embeddings",
                K,
                &json!({"model": "anthropic/claude-sonnet-4", "input": "x"})
            ),
            400
        ),
        "model"
    );
    assert_eq!(
        param(
            hub.post(
                "/api/v2/video",
                K,
                &json!({"input": {"prompt": "x", "model": "anthropic/claude-sonnet-4"}})
            ),
            400
        ),
        "model"
    );
    assert_eq!(
        param(
            hub.post(
                "/api/v2/embeddings",
                K,
                &json!({"model": "openai/text-embedding-3-small", "input": [[1, 2]]})
            ),
            400
        ),
        "input[0]"
    );
    assert_eq!(
        param(
            hub.post(
                "/api/v2/audio/speech",
                K,
                &json!({"model": "openai/tts-1", "input": "hi"})
            ),
            400
        ),
        "voice"
    );
    // An oversized upload: 413.
    let form = reqwest::blocking::multipart::Form::new()
        .text("model", "openai/whisper-1")
        .part(
            "file",
            reqwest::blocking::multipart::Part::bytes(vec![7u8; 200_000]).file_name("a.mp3"),
        );
    let res = reqwest::blocking::Client::new()
        .post(hub.url("/api/v2/audio/transcriptions"))
        .bearer_auth(ADMIN_KEY)
        .multipart(form)
        .send()
        .expect("upload");
    error_of(res, 413);
    // No file at all.
    let form = reqwest::blocking::multipart::Form::new().text("model", "openai/whisper-1");
    let res = reqwest::blocking::Client::new()
        .post(hub.url("/api/v2/audio/transcriptions"))
        .bearer_auth(ADMIN_KEY)
        .multipart(form)
        .send()
        .expect("upload");
    assert_eq!(param(res, 400), "file");
    assert_eq!(mock.total_calls(), 0, "nothing was sent upstream");
    assert_eq!(env.database.calls().len(), 0);
}

/// A job longer than `upstream.early_headers_secs`: the 200 and its headers go out early, the
/// body is spaces then the answer (valid JSON); a job that fails after the headers ends with the
/// error shape carrying the status it would have had.
#[test]
fn long_jobs_send_headers_early() {
    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite)
        .var("AIGNE_HUB_UPSTREAM__JOB_POLL_MS", "700")
        .var("AIGNE_HUB_UPSTREAM__EARLY_HEADERS_SECS", "1");
    let hub = env.start();
    openai(&hub, &mock, &["mock-ok"]);
    let client = reqwest::blocking::Client::new();
    let started = std::time::Instant::now();
    let res = client
        .post(hub.url("/api/v2/video"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"input": {"prompt": "waves", "modelOptions": {"model": "openai/sora-2"}}}))
        .send()
        .expect("video");
    let headers_at = started.elapsed();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let text = res.text().expect("body");
    let body_at = started.elapsed();
    // Three polls of 700 ms: the headers left after about 1 s, the body about 1 s later.
    assert!(
        body_at > headers_at + Duration::from_millis(500),
        "{headers_at:?} {body_at:?}"
    );
    assert!(text.starts_with(' '), "padding first: {text:?}");
    let body: Value = serde_json::from_str(&text).expect("JSON after the padding");
    assert_eq!(body["model"], "openai/sora-2");
    assert!(body["videos"][0]["url"].is_string(), "{body}");

    let mock2 = MockUpstream::start();
    let env2 = HubEnv::new(Backend::Sqlite)
        .var("AIGNE_HUB_UPSTREAM__JOB_POLL_MS", "700")
        .var("AIGNE_HUB_UPSTREAM__EARLY_HEADERS_SECS", "1");
    let hub2 = env2.start();
    openai(&hub2, &mock2, &["mock-video-fail"]);
    let res = client
        .post(hub2.url("/api/v2/video"))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({"input": {"prompt": "waves", "modelOptions": {"model": "openai/sora-2"}}}))
        .send()
        .expect("video");
    assert_eq!(res.status(), 200, "headers were already sent");
    let body: Value = serde_json::from_str(&res.text().expect("body")).expect("json");
    assert_eq!(body["error"]["status"], 502, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("m")
            .contains("moderation")
    );
}
