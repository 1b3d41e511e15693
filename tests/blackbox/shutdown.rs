//! SIGTERM: stop accepting, finish the request in flight, exit 0.

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
