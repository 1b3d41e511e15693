//! The stack's floor for `scripts/bench.sh`: actix-web in, reqwest out, as the Hub builds them
//! (one upstream client per worker, TCP_NODELAY, mimalloc), and nothing else — no auth, no
//! parsing, no routing, no recording. It forwards every POST body to `FLOOR_UPSTREAM` and returns
//! the upstream body. Its throughput against the nginx pure proxy is what actix-web + reqwest cost
//! on the machine, so the Hub's own share is the distance from it.
//!
//! `cargo run --release --example forward_floor` (listens on `FLOOR_LISTEN`, 127.0.0.1:18095).

use actix_web::{App, HttpResponse, HttpServer, web};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Upstream {
    client: reqwest::Client,
    url: reqwest::Url,
}

async fn forward(upstream: web::Data<Upstream>, body: web::Bytes) -> HttpResponse {
    let sent = upstream
        .client
        .post(upstream.url.clone())
        .header("content-type", "application/json")
        .bearer_auth("floor")
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(response) => response.bytes().await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(bytes) => HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes),
        Err(e) => HttpResponse::BadGateway().body(e.to_string()),
    }
}

fn main() -> std::io::Result<()> {
    let listen = std::env::var("FLOOR_LISTEN").unwrap_or_else(|_| "127.0.0.1:18095".to_owned());
    let url: reqwest::Url = std::env::var("FLOOR_UPSTREAM")
        .unwrap_or_else(|_| "http://127.0.0.1:18080/v1/chat/completions".to_owned())
        .parse()
        .map_err(std::io::Error::other)?;
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            let client = reqwest::Client::builder()
                .tcp_nodelay(true)
                .pool_max_idle_per_host(256)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default();
            App::new()
                .app_data(web::Data::new(Upstream {
                    client,
                    url: url.clone(),
                }))
                .default_service(web::post().to(forward))
        })
        .tcp_nodelay(true)
        .bind(listen)?
        .run()
        .await
    })
}
