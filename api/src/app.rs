//! Start-up and the HTTP server.
//!
//! Start-up runs on the main thread before the async runtime exists (so no diesel call ever runs
//! on the executor): open the pool → migrate → encryption key → bootstrap admin → bind.
//!
//! Middleware order, outermost first: request id (every response gets `x-request-id`, logged
//! with status and time) → JSON error rewriting (actix's own errors become the JSON shape) →
//! routes; `/api/*` additionally has CORS.

use crate::auth::{AppKeys, BlockletKeys, KeyCache, bootstrap, token};
use crate::billing::payment_kit::{PaymentKit, PaymentKitFunds};
use crate::config::Settings;
use crate::db::{Db, run_migrations};
use crate::http::{console, draining, fallback, request_id};
use crate::providers::Timeouts;
use crate::routes;
use crate::routing::Router;
use crate::secrets::{Cipher, encryption_secret, read_or_create_key_file};
use crate::state::{AppState, WorkerHttp};
use crate::usage::{Recorder, fail_interrupted};
use actix_cors::Cors;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use hub_blocklet::ComponentClient;
use hub_blocklet::mount_points::{self, PAYMENT_KIT_DID};
use secrecy::ExposeSecret;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

/// Everything the server needs, prepared synchronously.
pub struct Prepared {
    state: web::Data<AppState>,
    listener: TcpListener,
}

impl Prepared {
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }
}

/// Opens and migrates the database (the `migrate` command stops here).
pub fn open_database(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(&settings.database)?;
    let applied = db.run_sync(run_migrations)?;
    for version in &applied {
        tracing::info!(version, "applied migration");
    }
    tracing::info!(database = %settings.database.url.redacted(), applied = applied.len(), "database ready");
    Ok(db)
}

/// Builds the state, then binds the listener.
pub fn prepare(settings: Settings) -> anyhow::Result<Prepared> {
    let state = build_state(settings)?;
    let listener = TcpListener::bind(state.settings.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", state.settings.listen))?;
    Ok(Prepared { state, listener })
}

/// Repairs what an earlier stop of this instance left: its calls still `processing` are failed
/// (interrupted) and its credit holds released.
fn repair_after_stop(db: &Db, instance_id: &str) -> anyhow::Result<()> {
    let interrupted =
        db.run_sync(|conn| fail_interrupted(conn, db.backend(), Some(instance_id)))?;
    if interrupted > 0 {
        tracing::warn!(
            rows = interrupted,
            "calls left processing by an earlier stop marked failed (interrupted)"
        );
    }
    let released = db.run_sync(|conn| {
        crate::db::ledger::drop_stale_reservations(
            conn,
            db.backend(),
            Some(instance_id),
            chrono::Utc::now().naive_utc(),
        )
        .map_err(crate::db::DbError::from)
    })?;
    if released > 0 {
        tracing::warn!(
            holds = released,
            "credit holds of calls cut off by an earlier stop released"
        );
    }
    Ok(())
}

/// Everything the handlers share, built once: storage opened and migrated, secrets and the
/// admin in place, the routing snapshot loaded, the usage writer and the engine started.
fn build_state(settings: Settings) -> anyhow::Result<web::Data<AppState>> {
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create data dir {}: {e}",
            settings.data_dir.display()
        )
    })?;
    let db = open_database(&settings)?;
    let secret = encryption_secret(&settings)?;
    let cipher = Arc::new(Cipher::new(&secret));
    let app_did = hub_blocklet::did::application_did_from_secret(&secret);
    bootstrap::ensure_admin(&db, &settings)?;
    let instance_id = read_or_create_key_file(&settings.data_dir.join("instance.id"), || {
        uuid::Uuid::new_v4().to_string()
    })?
    .value
    .expose_secret()
    .to_owned();
    if !settings.providers.is_empty() {
        let changed =
            db.run_sync(|conn| crate::routing::seed::apply(conn, &cipher, &settings.providers))?;
        tracing::info!(
            providers = settings.providers.len(),
            changed,
            "providers from the config file applied"
        );
    }
    repair_after_stop(&db, &instance_id)?;
    let http = upstream_client(&settings)?;
    let router = Arc::new(Router::new(
        db.clone(),
        cipher.clone(),
        settings.provider_env.clone(),
        http.clone(),
        &settings.upstream,
    )?);
    let components = settings
        .identity
        .app_key
        .clone()
        .filter(|k| k.can_sign())
        .map(|key| {
            ComponentClient::new(
                http.clone(),
                key,
                settings.identity.mount_points.clone(),
                settings.identity.component_did.clone(),
            )
        });
    // Billing through Payment Kit when the app runs it (SPEC §1), else the built-in ledger.
    let payment_kit = components.clone().filter(|_| {
        settings.billing.enabled
            && mount_points::is_running(&settings.identity.mount_points, PAYMENT_KIT_DID)
    });
    let recorder = Arc::new(Recorder::start(
        db.clone(),
        &instance_id,
        payment_kit.is_some(),
    )?);
    let payment_kit = payment_kit.map(|client| {
        tracing::info!("billing through Payment Kit");
        Arc::new(PaymentKitFunds::new(
            Arc::new(PaymentKit::new(client)),
            db.clone(),
            recorder.ledger().funds(),
            settings.billing.new_user_credits,
        ))
    });
    let timeouts = Timeouts {
        ttfb: settings.upstream.ttfb_timeout,
        idle: settings.upstream.idle_timeout,
    };
    let settings_upstream = settings.upstream;
    let files_dir = settings.data_dir.clone();
    let files_ttl = settings.files.ttl;
    let pricing = crate::pricing::Pricing::load(&settings.pricing)?;
    let settings = Arc::new(settings);
    let lifecycle = crate::lifecycle::Lifecycle::default();
    let engine = hub_core::engine::Engine {
        settings: settings.clone(),
        router: router.clone(),
        recorder: recorder.clone(),
        ledger: Arc::new(recorder.ledger()),
        payment_kit: payment_kit.clone(),
        instance_id: instance_id.clone(),
        cut: lifecycle.cut_token(),
    };
    Ok(web::Data::new(AppState {
        keys: KeyCache::new(db.clone()),
        blocklet_keys: BlockletKeys::new(
            settings.identity.server.clone(),
            http.clone(),
            settings.blocklet_key_cache,
        ),
        blocklet_users: crate::auth::BlockletUsers::new(
            settings.identity.server.clone(),
            http.clone(),
        ),
        app_keys: AppKeys::default(),
        components,
        payment_kit,
        settings,
        db,
        cipher,
        http,
        router,
        ledger: recorder.ledger(),
        recorder,
        timeouts,
        jobs: crate::providers::Jobs {
            poll: settings_upstream.job_poll,
            timeout: settings_upstream.job_timeout,
        },
        files: Arc::new(crate::files::FileStore::new(&files_dir, files_ttl)),
        project_names: Arc::new(tokio::sync::Notify::new()),
        app_did,
        instance_id,
        lifecycle,
        engine,
        pricing,
        notices: Arc::new(tokio::sync::Notify::new()),
    }))
}

/// The pooled upstream client (TCP_NODELAY, keep-alive).
fn upstream_client(settings: &Settings) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(settings.upstream.connect_timeout)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        // An upstream that redirects is misconfigured; following it would resend the prompt
        // (and, same-origin, the key) somewhere the operator never configured.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("aigne-hub/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Picks up provider and credential changes made by other instances.
async fn refresh_catalog(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(CATALOG_REFRESH);
    tick.tick().await;
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        if let Err(e) = state.router.reload().await {
            tracing::warn!("routing snapshot refresh failed: {e}");
        }
        ticks += 1;
        // PostgreSQL: calls abandoned by any instance that died are failed after 30 minutes.
        if state.db.backend() == crate::db::Backend::Postgres
            && ticks.is_multiple_of(STALE_SWEEP_TICKS)
        {
            let backend = state.db.backend();
            match state
                .db
                .run(move |conn| fail_interrupted(conn, backend, None))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::warn!(rows = n, "abandoned calls marked failed (interrupted)"),
                Err(e) => tracing::warn!("stale call sweep failed: {e}"),
            }
            let swept = state
                .db
                .run(move |conn| {
                    crate::db::ledger::drop_stale_reservations(
                        conn,
                        backend,
                        None,
                        chrono::Utc::now().naive_utc(),
                    )
                    .map_err(crate::db::DbError::from)
                })
                .await;
            match swept {
                Ok(0) => {}
                Ok(n) => tracing::warn!(holds = n, "abandoned credit holds released"),
                Err(e) => tracing::warn!("stale hold sweep failed: {e}"),
            }
        }
    }
}

/// Models marked unavailable are checked again (see `Router::recheck_models`).
async fn recheck_models(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(state.router.model_recheck_every());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        state.router.recheck_models().await;
    }
}

const CATALOG_REFRESH: Duration = Duration::from_secs(5);

/// SQLite: the background step of WAL upkeep, once a second (see `db::wal`).
async fn checkpoint_wal(db: Db) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = db.checkpoint().await {
            tracing::warn!("WAL checkpoint failed: {e}");
        }
    }
}

/// Every minute (in refresh ticks).
const STALE_SWEEP_TICKS: u64 = 12;

fn cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .allow_any_method()
        .allow_any_header()
        .expose_headers(["x-request-id", "server-timing"])
        .max_age(3600)
}

/// Serves until SIGTERM, SIGINT or SIGHUP, then stops as `lifecycle` describes: no new requests,
/// requests in flight get `shutdown_timeout_secs`, what is left is cut off and recorded, the
/// usage writer and the Payment Kit outbox are flushed.
pub async fn serve(prepared: Prepared) -> anyhow::Result<()> {
    let Prepared { state, listener } = prepared;
    let settings = state.settings.clone();
    let limit = settings.request_entity_size_limit;
    let addr = listener.local_addr()?;
    let app_state = state.clone();
    let lifecycle = state.lifecycle.clone();
    let mut server = HttpServer::new(move || {
        // Each worker gets its own upstream client, built once as the worker starts: a pooled
        // connection's task runs on the runtime that opened it, so a client shared by all workers
        // hands requests to another thread and back (measured: ~10% more throughput without).
        let http = upstream_client(&app_state.settings).unwrap_or_else(|_| app_state.http.clone());
        let lifecycle = lifecycle.clone();
        let standalone = app_state.settings.mode == crate::config::Mode::Standalone;
        App::new()
            .app_data(app_state.clone())
            .app_data(web::Data::new(WorkerHttp(http)))
            .app_data(web::PayloadConfig::new(limit))
            .wrap(fallback::json_errors())
            .wrap(from_fn(move |req, next| {
                draining::middleware(lifecycle.clone(), req, next)
            }))
            .wrap(from_fn(request_id::middleware))
            .configure(|cfg| routes::configure_root(cfg, standalone))
            .service(
                web::scope("/v1")
                    .wrap(from_fn(token::capture_json_body))
                    .wrap(cors())
                    .configure(routes::configure_conventional),
            )
            .service(
                web::scope("/v1beta")
                    .wrap(from_fn(token::capture_json_body))
                    .wrap(cors())
                    .configure(routes::configure_gemini),
            )
            .service(
                web::scope("/api")
                    .wrap(from_fn(token::capture_json_body))
                    .wrap(cors())
                    .configure(routes::configure_api),
            )
            .default_service(web::to(console::serve))
    })
    // The stop is ours (`stop_on_signal`): actix would treat SIGINT, what Blocklet Server sends,
    // as a forced stop, and checks its workers only once a second.
    .disable_signals()
    .shutdown_timeout(settings.shutdown_timeout.as_secs() + 5)
    // actix keeps the OS default (Nagle on) unless told: with a response written in several
    // pieces (every stream), Nagle against the client's delayed ACK stalls ~40 ms.
    .tcp_nodelay(true)
    .listen(listener)?;
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    tracing::info!("listening on http://{addr}");
    if !console::is_built() {
        tracing::warn!("the web console was not built into this binary (scripts/build-ui.sh)");
    }
    let refresher = actix_web::rt::spawn(refresh_catalog(state.clone()));
    let checkpointer = actix_web::rt::spawn(checkpoint_wal(state.db.clone()));
    let model_checks = actix_web::rt::spawn(recheck_models(state.clone()));
    let background = [
        actix_web::rt::spawn(crate::pricing::run_checks(state.clone())),
        actix_web::rt::spawn(crate::notify::run_sender(state.clone())),
        actix_web::rt::spawn(crate::notify::run_key_events(state.clone())),
        actix_web::rt::spawn(crate::notify::run_low_balance(state.clone())),
    ];
    let sweeper = actix_web::rt::spawn(crate::files::run_sweeper(state.files.clone()));
    let names = actix_web::rt::spawn(crate::project_names::run(
        state.clone(),
        state.project_names.clone(),
    ));
    let retention = actix_web::rt::spawn(crate::usage::retention::run(
        state.db.clone(),
        state.settings.retention.clone(),
    ));
    // Usage reports to Payment Kit (the meter is looked up, or created, by the first round).
    let reports = state.payment_kit.as_ref().map(|pk| {
        actix_web::rt::spawn(crate::billing::meter_reports::run(
            state.db.clone(),
            pk.client_arc(),
            state.instance_id.clone(),
        ))
    });
    let server = server.run();
    let handle = server.handle();
    tokio::select! {
        // Ends on its own only if it fails.
        ended = server => ended?,
        stop = stop_on_signal(&state, handle) => stop?,
    }
    refresher.abort();
    checkpointer.abort();
    model_checks.abort();
    for task in background {
        task.abort();
    }
    retention.abort();
    sweeper.abort();
    names.abort();
    if let Some(reports) = reports {
        reports.abort();
    }
    // Every usage row queued by the requests that just finished is committed before exit.
    state.recorder.flush().await;
    if let Some(pk) = &state.payment_kit {
        report_outbox(&state, pk).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// How long calls cut off by a stop get to write their ends (their error frame, their row).
const CUT_WAIT: Duration = Duration::from_millis(250);
/// The last Payment Kit report round of a stop; what it does not send stays in the outbox for
/// the next start.
const OUTBOX_FLUSH: Duration = Duration::from_millis(200);

async fn stop_on_signal(
    state: &AppState,
    handle: actix_web::dev::ServerHandle,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        _ = hup.recv() => "SIGHUP",
    };
    let grace = state.settings.shutdown_timeout;
    let lifecycle = &state.lifecycle;
    tracing::info!(
        signal = name,
        in_flight = lifecycle.in_flight(),
        grace_ms = grace.as_millis() as u64,
        "stopping: no new requests; those in flight may finish within the grace"
    );
    // Closes the listener at once; its own wait for the connections is not ours to take.
    let _closing = actix_web::rt::spawn(handle.stop(true));
    let drained = lifecycle.drain(grace, CUT_WAIT).await;
    if drained.cut > 0 {
        tracing::warn!(
            cut = drained.cut,
            abandoned = drained.abandoned,
            "requests still running after the grace were cut off (recorded as failed)"
        );
    }
    Ok(())
}

async fn report_outbox(state: &AppState, pk: &PaymentKitFunds) {
    let client = pk.client_arc();
    let round = crate::billing::meter_reports::round(&state.db, &client, &state.instance_id);
    match tokio::time::timeout(OUTBOX_FLUSH, round).await {
        Ok(Ok(r)) if r.sent > 0 => tracing::info!(sent = r.sent, "usage reported to Payment Kit"),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!("usage left in the outbox for the next start: {e}"),
        Err(_) => tracing::warn!("Payment Kit did not answer in time; usage left in the outbox"),
    }
}
