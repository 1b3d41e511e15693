//! `kill -9` under load: every request that got a complete 200 has its `success` row after a
//! restart, and no row stays `processing`. On both engines.

use crate::support::mock::MockUpstream;
use crate::support::{ADMIN_KEY, Backend, HubEnv, signal};
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn kill_nine_under_load(backend: Backend) {
    let mock = MockUpstream::start();
    let env = HubEnv::new(backend);
    let hub = env.start();
    let id = hub.add_provider("openai", &mock);
    hub.add_key(&id, "k", "mock-ok");

    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let url = hub.url("/api/v2/chat/completions");
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (answered, stop, url) = (answered.clone(), stop.clone(), url.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let rid = format!("crash-{w}-{n}");
                    let res = client
                        .post(&url)
                        .bearer_auth(ADMIN_KEY)
                        .header("x-request-id", &rid)
                        .json(&json!({"model": "openai/gpt-5-mini", "messages": [{"role": "user", "content": "hi"}]}))
                        .send();
                    // Only a complete 200 answer counts.
                    if let Ok(res) = res
                        && res.status().as_u16() == 200
                        && res.json::<serde_json::Value>().is_ok_and(|b| b["choices"][0]["message"]["content"] == "Hello, world")
                    {
                        answered.lock().expect("answered").push(rid);
                    }
                }
            })
        })
        .collect();
    // Kill once there is load to speak of: a count, not a time, so a busy machine (the rest of
    // the suite runs beside this test) only makes it slower, never meaningless.
    let deadline = Instant::now() + Duration::from_secs(30);
    while answered.lock().expect("answered").len() < 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(hub.pid(), "KILL");
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    drop(hub);
    let answered = answered.lock().expect("answered").clone();
    assert!(
        answered.len() > 20,
        "too little load to mean anything: {}",
        answered.len()
    );

    // Restart: interrupted rows are failed, every answered request has its success row.
    let hub = env.start();
    let rows = env.database.calls();
    assert!(
        rows.iter().all(|r| r.status != "processing"),
        "a row stayed processing"
    );
    let ok: HashSet<&str> = rows
        .iter()
        .filter(|r| r.status == "success")
        .filter_map(|r| r.request_id.as_deref())
        .collect();
    let missing: Vec<&String> = answered
        .iter()
        .filter(|rid| !ok.contains(rid.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered requests have no success row: {:?}",
        missing.len(),
        answered.len(),
        &missing[..missing.len().min(5)]
    );
    eprintln!(
        "kill -9: {} answered, {} rows, {} success",
        answered.len(),
        rows.len(),
        ok.len()
    );
    drop(hub);
}

crate::on_both_backends!(kill_nine_under_load);
