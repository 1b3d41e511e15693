//! The web console (`ui/`, SPEC §2): its build (`ui/dist`) is embedded in release binaries and
//! read from disk by debug builds. Served for every GET outside `/api` that a browser navigates
//! to: files by path (hashed `assets/*` cached for a year), and `index.html` for the console's
//! own routes. Requests that do not ask for HTML still get the JSON 404. Without a build, `/`
//! says how to make one. `index.html` gets a `<base href>` of the Hub's mount point
//! (`http::mount`): the build's asset URLs are relative, so the same build works at `/` and under
//! an app's prefix such as `/aigne-hub`.

use crate::error::ApiError;
use actix_web::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, VARY};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../ui/dist/"]
#[allow_missing = true]
struct Console;

const NOT_BUILT: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>AIGNE Hub</title></head>\
<body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>AIGNE Hub is running</h1>\
<p>The web console was not built into this binary. Build it with <code>scripts/build-ui.sh</code> \
(or start the Hub with <code>scripts/start.sh</code>, which does), then rebuild the Hub.</p>\
<p>The API is served under <code>/api</code>; <a href=\"/healthz\">/healthz</a> answers.</p></body></html>";

fn file(path: &str) -> Option<HttpResponse> {
    let found = Console::get(path)?;
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Some(
        HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, found.metadata.mimetype()))
            .insert_header((CACHE_CONTROL, cache))
            .body(found.data.into_owned()),
    )
}

/// `index.html` with the mount point as its base.
fn index(prefix: &str) -> Option<HttpResponse> {
    let found = Console::get("index.html")?;
    let html = String::from_utf8_lossy(&found.data).replacen(
        "<head>",
        &format!("<head><base href=\"{prefix}/\">"),
        1,
    );
    Some(
        HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
            .insert_header((CACHE_CONTROL, "no-cache"))
            .insert_header((VARY, "x-path-prefix"))
            .body(html),
    )
}

fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Default service: console files and routes, else the JSON 404.
pub async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    let readable = req.method() == Method::GET || req.method() == Method::HEAD;
    if readable && !path.starts_with("/api/") {
        let relative = path.trim_start_matches('/');
        if relative == "index.html"
            && let Some(res) = index(super::mount::prefix(&req))
        {
            return Ok(res);
        }
        if !relative.is_empty()
            && !relative.ends_with('/')
            && let Some(res) = file(relative)
        {
            return Ok(res);
        }
        // A console route (no file extension) that a browser opens, or the root.
        let is_route = !relative.rsplit('/').next().unwrap_or("").contains('.');
        if is_route && (relative.is_empty() || wants_html(&req)) {
            return Ok(index(super::mount::prefix(&req)).unwrap_or_else(|| {
                HttpResponse::build(StatusCode::OK)
                    .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
                    .insert_header((CACHE_CONTROL, "no-cache"))
                    .body(NOT_BUILT)
            }));
        }
    }
    Err(ApiError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}

/// Whether this binary carries the console.
pub fn is_built() -> bool {
    Console::get("index.html").is_some()
}
