//! HTTP conventions: request ids, JSON errors for unknown routes and methods, CORS on /api.

use crate::support::{Backend, HubEnv, error_of};

#[test]
fn request_ids_unknown_routes_and_cors() {
    let env = HubEnv::new(Backend::Sqlite);
    let hub = env.start();
    let client = reqwest::blocking::Client::new();

    let res = client
        .get(hub.url("/healthz"))
        .header("x-request-id", "req-abc.123")
        .send()
        .expect("get");
    assert_eq!(res.headers()["x-request-id"], "req-abc.123");
    let res = client
        .get(hub.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .expect("get");
    let generated = res.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(!generated.is_empty() && generated != "bad id with spaces");
    let res = client.get(hub.url("/healthz")).send().expect("get");
    assert_ne!(
        res.headers()["x-request-id"].to_str().expect("ascii"),
        generated
    );

    let res = hub.get("/no/such/route", None);
    assert!(res.headers().contains_key("x-request-id"));
    let err = error_of(res, 404);
    assert_eq!(err["code"], "not_found");
    error_of(hub.get("/api/nothing-here", None), 404);
    // A known path with a method it does not have.
    let res = client
        .patch(hub.url("/api/ai-providers"))
        .send()
        .expect("patch");
    let status = res.status().as_u16();
    assert!(matches!(status, 404 | 405), "{status}");
    error_of(res, status);

    // CORS preflight on /api.
    let res = client
        .request(reqwest::Method::OPTIONS, hub.url("/api/ai-providers"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .expect("preflight");
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let res = client
        .get(hub.url("/api/ai-providers"))
        .header("origin", "https://app.example")
        .send()
        .expect("get");
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    assert!(res.headers().contains_key("x-request-id"));
}
