//! Stopping: SIGTERM and SIGINT stop accepting, let requests in flight finish within the grace,
//! cut off the rest with a clean end and a row each, and exit 0.

use crate::support::{ADMIN_KEY, Backend, HubEnv, json, signal};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn sigterm_finishes_the_request_in_flight_and_exits_zero() {
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    let body = br#"{"name":"deepseek"}"#;
    let mut stream = TcpStream::connect(hub.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let head = format!(
        "POST /api/ai-providers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("head");
    stream.write_all(&body[..5]).expect("part");
    std::thread::sleep(Duration::from_millis(300));

    signal(hub.pid(), "TERM");
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused while the old one finishes.
    assert!(
        TcpStream::connect(hub.addr()).is_err(),
        "still accepting after SIGTERM"
    );
    stream.write_all(&body[5..]).expect("rest");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");

    let status = hub.stop_after_signal();
    assert!(status.success(), "{status:?}");

    // The write made in flight is there after a restart.
    let hub = env.start();
    let (_, providers) = json(hub.get("/api/ai-providers", Some(ADMIN_KEY)));
    assert_eq!(providers["list"][0]["name"], "deepseek");
}

/// SIGINT (what Blocklet Server sends, with a kill 1.6 s later): a stream and a one-answer call
/// still running after the grace are cut off — the stream gets its error frame and an end, the
/// other a 503 — each leaves a `failed` row with what it used, and the Hub exits 0 in time.
#[test]
fn sigint_cuts_calls_past_the_grace_records_them_and_exits_zero() {
    use crate::support::mock::{LONG_PACE, LONG_WORDS, MockUpstream};
    use serde_json::{Value, json};
    use std::io::BufRead;
    use std::time::Instant;

    let mock = MockUpstream::start();
    let env = HubEnv::new(Backend::Sqlite).var("AIGNE_HUB_SHUTDOWN_TIMEOUT_SECS", "0.5");
    let hub = env.start();
    let openai = hub.add_provider_with_keys("openai", &mock, &["mock-long"]);
    hub.add_rate(&openai, "gpt-5-mini", "0.001", "0.002");
    hub.add_provider_with_keys("deepseek", &mock, &["mock-hang"]);
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let call = |model: &str, stream: bool| {
        client
            .post(hub.url("/api/v2/chat/completions"))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"model": model, "stream": stream,
                          "messages": [{"role": "user", "content": "Write 400 words"}]}))
            .send()
            .expect("chat")
    };
    let stream = call("openai/gpt-5-mini", true);
    assert_eq!(stream.status(), 200);
    let hanging = std::thread::scope(|s| {
        let hanging = s.spawn(|| call("deepseek/deepseek-chat", false));
        let mut lines = std::io::BufReader::new(stream).lines();
        // Some words are through before the stop.
        let mut frames: Vec<String> = Vec::new();
        while frames.len() < 20 {
            let line = lines.next().expect("stream line").expect("read");
            if let Some(data) = line.strip_prefix("data: ") {
                frames.push(data.to_owned());
            }
        }
        let stopped = Instant::now();
        signal(hub.pid(), "INT");
        for line in lines {
            let line = line.expect("the stream ends cleanly, not reset");
            if let Some(data) = line.strip_prefix("data: ") {
                frames.push(data.to_owned());
            }
        }
        let ended = stopped.elapsed();
        assert!(
            ended < Duration::from_millis(1500),
            "the stream ended {ended:?} after SIGINT"
        );
        assert!(
            frames.len() < LONG_WORDS / 2,
            "cut off early ({} frames in {:?})",
            frames.len(),
            LONG_PACE * LONG_WORDS as u32
        );
        let last: Value = serde_json::from_str(frames.last().expect("frames")).expect("json");
        assert!(
            last["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("stopping")),
            "the last frame is the error: {frames:?}"
        );
        assert!(!frames.iter().any(|f| f == "[DONE]"));
        hanging.join().expect("call thread")
    });
    let status = hanging.status().as_u16();
    let body: Value = hanging.json().expect("JSON error");
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("stopping")),
        "{body}"
    );

    let started = Instant::now();
    let exit = hub.stop_after_signal();
    assert!(exit.success(), "{exit:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "exit took too long"
    );

    let rows = env.database.calls();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert_eq!(row.status, "failed", "{row:?}");
        assert!(
            row.error_reason
                .as_deref()
                .is_some_and(|e| e.contains("stopping")),
            "{row:?}"
        );
    }
    let streamed = rows
        .iter()
        .find(|r| r.model.starts_with("openai/"))
        .expect("stream row");
    assert!(streamed.total_usage >= 19, "tokens seen: {streamed:?}");
    assert_ne!(
        streamed.credits, "0",
        "billed for what it used: {streamed:?}"
    );
}
