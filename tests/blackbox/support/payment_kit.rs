//! The Payment Kit stand-in (`tests/interop/payment_kit_standin.cjs`): a Node process behind
//! @blocklet/sdk's real `verifySig`, with its state in a file so it can be stopped and started
//! again on the same port.

use super::blocklet_server::APP_SK;
use reqwest::blocking::Client;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const PAYMENT_KIT_DID: &str = "z2qaCNvKMv5GjouKdcDWexv6WqtHbpNPQDnAk";

fn interop_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/interop"))
}

pub struct PaymentKitStandIn {
    pub port: u16,
    state_file: PathBuf,
    child: Option<Child>,
    http: Client,
}

impl PaymentKitStandIn {
    /// Starts it on a free port, its state in `dir`.
    pub fn start(dir: &std::path::Path) -> PaymentKitStandIn {
        assert!(
            interop_dir().join("node_modules/@blocklet/sdk").exists(),
            "run scripts/install-interop.sh (scripts/test.sh does)"
        );
        let mut pk = PaymentKitStandIn {
            port: 0,
            state_file: dir.join("payment-kit.json"),
            child: None,
            http: Client::new(),
        };
        pk.resume();
        pk
    }

    /// Starts it again (same port, same state).
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut child = Command::new("node")
            .arg("payment_kit_standin.cjs")
            .current_dir(interop_dir())
            .env("BLOCKLET_APP_SK", APP_SK)
            .env("PORT", self.port.to_string())
            .env("STATE_FILE", &self.state_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // @blocklet/sdk complains about the Blocklet Server it is not running under.
            .stderr(Stdio::null())
            .spawn()
            .expect("node");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("port line");
        self.port = line.trim().parse().expect("port");
        // Drained, so the SDK's later logging never fails on a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        self.child = Some(child);
    }

    /// Kills it (its state is on disk).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `BLOCKLET_MOUNT_POINTS` naming it as the running Payment Kit.
    pub fn mount_points(&self) -> String {
        format!(
            r#"[{{"did":"{PAYMENT_KIT_DID}","name":"payment-kit","title":"Payment Kit","mountPoint":"/payment","port":{},"status":6}}]"#,
            self.port
        )
    }

    pub fn state(&self) -> Value {
        self.http
            .get(format!("http://127.0.0.1:{}/__test/state", self.port))
            .send()
            .expect("stand-in state")
            .json()
            .expect("state json")
    }

    /// A test control (`grant`, `subscribe`, `availability`, `drop`, `fail`).
    pub fn control(&self, what: &str, body: &Value) {
        let res = self
            .http
            .post(format!("http://127.0.0.1:{}/__test/{what}", self.port))
            .json(body)
            .send()
            .expect("stand-in control");
        assert!(res.status().is_success(), "{what}: {}", res.status());
    }
}

impl Drop for PaymentKitStandIn {
    fn drop(&mut self) {
        self.stop();
    }
}
