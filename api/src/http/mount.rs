//! Where the Hub is mounted. Blocklet Server's router strips an app's mount point (`/aigne-hub`)
//! from the path and says what it was in `x-path-prefix`; everything the Hub hands a browser or a
//! client as a path of its own — the console's `<base href>`, generated-file URLs, purchase
//! links — goes under it. Directly reached (standalone, or on `BLOCKLET_PORT`) there is none.

use actix_web::HttpRequest;

/// The mount point without its trailing slash: `""` at the root, else e.g. `"/aigne-hub"`.
/// Only a plain path is taken (it is written into HTML and URLs).
pub fn prefix(req: &HttpRequest) -> &str {
    req.headers()
        .get("x-path-prefix")
        .and_then(|v| v.to_str().ok())
        .map(|p| p.trim().trim_end_matches('/'))
        .filter(|p| plain_path(p))
        .unwrap_or("")
}

fn plain_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.contains("..")
        && !p.contains("//")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b))
}

pub use hub_core::engine::payer::under;

/// One of the Hub's own paths (`/credits`) as an absolute URL of this request's origin and
/// mount point, for clients that print links; other URLs as they are.
pub fn absolute(req: &HttpRequest, path: &str) -> String {
    let own = under(prefix(req), path);
    if !own.starts_with('/') || own.starts_with("//") {
        return own;
    }
    let info = req.connection_info();
    format!("{}://{}{own}", info.scheme(), info.host())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_prefix_is_a_plain_path_or_nothing() {
        let of = |v: &str| {
            let req = TestRequest::default()
                .insert_header(("x-path-prefix", v))
                .to_http_request();
            prefix(&req).to_owned()
        };
        assert_eq!(of("/aigne-hub"), "/aigne-hub");
        assert_eq!(of("/aigne-hub/"), "/aigne-hub");
        assert_eq!(of("/"), "");
        assert_eq!(of("/a/b_c.d"), "/a/b_c.d");
        for hostile in ["aigne", "/../x", "//evil.example", "/\"><script>", "/a b"] {
            assert_eq!(of(hostile), "", "{hostile}");
        }
        assert_eq!(prefix(&TestRequest::default().to_http_request()), "");
    }

    #[test]
    fn own_paths_go_under_it() {
        assert_eq!(under("/aigne-hub", "/credits"), "/aigne-hub/credits");
        assert_eq!(under("", "/credits"), "/credits");
        assert_eq!(
            under("/aigne-hub", "https://pay.example/x"),
            "https://pay.example/x"
        );
        assert_eq!(under("/aigne-hub", "//cdn.example/x"), "//cdn.example/x");
    }

    #[test]
    fn absolute_links_carry_the_origin_and_mount_point() {
        let req = TestRequest::default()
            .insert_header(("host", "hub.example:8443"))
            .insert_header(("x-forwarded-proto", "https"))
            .insert_header(("x-path-prefix", "/aigne-hub"))
            .to_http_request();
        assert_eq!(
            absolute(&req, "/credits"),
            "https://hub.example:8443/aigne-hub/credits"
        );
        assert_eq!(
            absolute(&req, "https://pay.example/x"),
            "https://pay.example/x"
        );
    }
}
