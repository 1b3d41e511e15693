//! Test support: start the real `aigne-hub` binary on port 0 with its own data dir and database,
//! talk to it over HTTP, stop it with SIGTERM.

pub mod blocklet_server;
pub mod db;
pub mod mock;
pub mod mock_media;
pub mod mock_providers;
pub mod payment_kit;
pub mod webhook;

pub use db::Backend;

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_aigne-hub");
pub const ADMIN_KEY: &str = "test-admin-key-0123456789";

/// A `Command` for the binary with no `AIGNE_HUB_*`/Blocklet variables leaking in from outside.
pub fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars() {
        if key.starts_with("AIGNE_HUB_")
            || key.starts_with("BLOCKLET_")
            || key.starts_with("ABT_NODE_")
            || key == "REQUEST_ENTITY_SIZE_LIMIT"
        {
            cmd.env_remove(key);
        }
    }
    cmd.env("RUST_LOG", "info");
    cmd
}

/// A Hub's environment: a temp data dir and a database of the chosen backend.
pub struct HubEnv {
    pub dir: tempfile::TempDir,
    pub database: db::TestDatabase,
    pub vars: Vec<(String, String)>,
}

impl HubEnv {
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = db::TestDatabase::create(backend, dir.path());
        HubEnv {
            dir,
            database,
            vars: vec![("AIGNE_HUB_ADMIN_KEY".into(), ADMIN_KEY.into())],
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn var(mut self, key: &str, value: &str) -> Self {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.into(), value.into()));
        self
    }

    pub fn without(mut self, key: &str) -> Self {
        self.vars.retain(|(k, _)| k != key);
        self
    }

    pub fn command(&self) -> Command {
        let mut cmd = command();
        cmd.current_dir(self.dir.path())
            .env("AIGNE_HUB_DATA_DIR", self.data_dir())
            .env("AIGNE_HUB_DATABASE_URL", self.database.url());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn start(&self) -> Hub {
        Hub::spawn(self.command().env("AIGNE_HUB_LISTEN", "127.0.0.1:0"))
    }

    /// Starts the Hub and hands it the environment, so its data dir and database live as long
    /// as it runs (for tests that do not look at them).
    pub fn launch(self) -> Hub {
        let mut hub = self.start();
        hub.env = Some(self);
        hub
    }
}

/// A running Hub.
pub struct Hub {
    child: Option<Child>,
    pub base: String,
    logs: Arc<Mutex<String>>,
    client: Client,
    /// Dropped after the process (field order): the data dir and database it uses.
    env: Option<HubEnv>,
}

impl Hub {
    pub fn spawn(cmd: &mut Command) -> Hub {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn aigne-hub");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(
                        addr.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
                let mut logs = sink.lock().expect("logs");
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("hub did not start; logs:\n{}", logs.lock().expect("logs"));
            }
        };
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Hub {
            child: Some(child),
            base: format!("http://{addr}"),
            logs,
            client,
            env: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    pub fn logs(&self) -> String {
        self.logs.lock().expect("logs").clone()
    }

    /// A request to `path` with no credentials, to set headers, cookies or bodies by hand.
    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub fn get(&self, path: &str, key: Option<&str>) -> Response {
        auth(self.client.get(self.url(path)), key)
            .send()
            .expect("GET")
    }

    pub fn delete(&self, path: &str, key: Option<&str>) -> Response {
        auth(self.client.delete(self.url(path)), key)
            .send()
            .expect("DELETE")
    }

    pub fn post(&self, path: &str, key: Option<&str>, body: &Value) -> Response {
        auth(self.client.post(self.url(path)), key)
            .json(body)
            .send()
            .expect("POST")
    }

    pub fn put(&self, path: &str, key: Option<&str>, body: &Value) -> Response {
        auth(self.client.put(self.url(path)), key)
            .json(body)
            .send()
            .expect("PUT")
    }

    /// POST with a raw body and content type.
    pub fn post_raw(
        &self,
        path: &str,
        key: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        auth(self.client.post(self.url(path)), key)
            .header("content-type", content_type)
            .body(body)
            .send()
            .expect("POST raw")
    }

    /// Adds provider `name` (as the bootstrap admin) pointing at the mock's API for that vendor;
    /// its id.
    pub fn add_provider(&self, name: &str, mock: &mock::MockUpstream) -> String {
        let (status, p) = json(self.post(
            "/api/ai-providers",
            Some(ADMIN_KEY),
            &serde_json::json!({"name": name, "baseUrl": mock.base_for(name)}),
        ));
        assert_eq!(status, 201, "provider {name}: {p}\n{}", self.logs());
        p["id"].as_str().expect("provider id").to_owned()
    }

    /// Adds an API key named `name` to provider `provider_id`; its id.
    pub fn add_key(&self, provider_id: &str, name: &str, value: &str) -> String {
        let (status, c) = json(self.post(
            &format!("/api/ai-providers/{provider_id}/credentials"),
            Some(ADMIN_KEY),
            &serde_json::json!({"name": name, "value": value}),
        ));
        assert_eq!(status, 201, "key {name}: {c}");
        c["id"].as_str().expect("credential id").to_owned()
    }

    /// A chat rate for `model` on provider `provider_id` (credits per input and output token).
    pub fn add_rate(&self, provider_id: &str, model: &str, input: &str, output: &str) {
        let (status, r) = json(self.post(
            &format!("/api/ai-providers/{provider_id}/model-rates"),
            Some(ADMIN_KEY),
            &serde_json::json!({"model": model, "type": "chatCompletion",
                                "inputRate": input, "outputRate": output}),
        ));
        assert_eq!(status, 201, "rate {model}: {r}");
    }

    /// A provider at the mock with one key per value (named `key-0`, `key-1`, …); its id.
    pub fn add_provider_with_keys(
        &self,
        name: &str,
        mock: &mock::MockUpstream,
        keys: &[&str],
    ) -> String {
        let id = self.add_provider(name, mock);
        for (i, key) in keys.iter().enumerate() {
            self.add_key(&id, &format!("key-{i}"), key);
        }
        id
    }

    /// `POST /api/v2/chat/completions` as `key`: one user message to `model`.
    pub fn chat(&self, key: Option<&str>, model: &str, content: &str) -> Response {
        self.post(
            "/api/v2/chat/completions",
            key,
            &serde_json::json!({"model": model, "messages": [{"role": "user", "content": content}]}),
        )
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGTERM, then the exit status (fails the test after 30 s).
    pub fn stop(self) -> ExitStatus {
        signal(self.pid(), "TERM");
        self.stop_after_signal()
    }

    /// The exit status of a Hub already signalled.
    pub fn stop_after_signal(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        wait_for(&mut child, Duration::from_secs(30))
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("kill");
    assert!(status.success(), "kill -{sig} {pid}");
}

pub fn wait_for(child: &mut Child, limit: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn auth(builder: RequestBuilder, key: Option<&str>) -> RequestBuilder {
    match key {
        Some(k) => builder.bearer_auth(k),
        None => builder,
    }
}

/// Status and JSON body of a response.
/// The data of each named SSE event (`event:` + `data:`, as the Anthropic and Responses streams
/// send them), each checked to name its own `type` in the `event:` line.
pub fn typed_events(res: Response) -> Vec<Value> {
    let mut out = Vec::new();
    let mut name = String::new();
    for line in BufReader::new(res).lines().map_while(Result::ok) {
        if let Some(e) = line.strip_prefix("event: ") {
            name = e.to_owned();
        } else if let Some(d) = line.strip_prefix("data: ") {
            let data: Value = serde_json::from_str(d).expect("event json");
            assert_eq!(data["type"], name.as_str(), "{data}");
            out.push(data);
        }
    }
    out
}

pub fn json(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().expect("body");
    let value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

/// Asserts the one error shape and returns the error object.
pub fn error_of(res: Response, status: u16) -> Value {
    let (got, body) = json(res);
    assert_eq!(got, status, "{body}");
    let err = &body["error"];
    assert!(
        err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no message: {body}"
    );
    assert!(err["type"].is_string(), "no type: {body}");
    err.clone()
}

/// Every file under `dir`, for "the plaintext appears nowhere" checks.
pub fn files_contain(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            {
                hits.push(path);
            }
        }
    }
    hits
}

/// Polls `probe` (every 50 ms, up to 5 s) until it yields a value; for state that settles
/// shortly after an answer (usage rollups).
pub fn eventually<T>(probe: impl FnMut() -> Option<T>) -> T {
    eventually_within(Duration::from_secs(5), probe)
}

/// [`eventually`] with another limit (background work with retries and backoff).
pub fn eventually_within<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let started = std::time::Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            started.elapsed() < limit,
            "did not settle within {} s",
            limit.as_secs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Defines `<name>::sqlite` and `<name>::postgres` tests calling `name(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name($crate::support::Backend::Postgres)
                }
            }
        )*
    };
}
