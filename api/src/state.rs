//! Shared application state, built once at start and handed to handlers as `web::Data<AppState>`.

use crate::auth::{AppKeys, BlockletKeys, KeyCache};
use crate::config::Settings;
use crate::db::Db;
use crate::providers::Timeouts;
use crate::routing::Router;
use crate::secrets::Cipher;
use crate::usage::Recorder;
use hub_blocklet::ComponentClient;
use std::sync::Arc;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub cipher: Arc<Cipher>,
    pub keys: KeyCache,
    /// `blocklet-…` keys, verified by Blocklet Server (cached 60 s).
    pub blocklet_keys: BlockletKeys,
    /// Users' profiles at Blocklet Server (Blocklet mode; cached 5 minutes).
    pub blocklet_users: crate::auth::BlockletUsers,
    /// Public keys of apps registered for v1 remote calls.
    pub app_keys: AppKeys,
    /// Signed calls to the app's other components (Payment Kit …); `None` without a signing key.
    pub components: Option<ComponentClient>,
    /// Billing through Payment Kit (billing on and Payment Kit running); `None`: the built-in
    /// ledger.
    pub payment_kit: Option<Arc<crate::billing::payment_kit::PaymentKitFunds>>,
    /// The upstream client of background work (credential re-checks), built at start. Requests
    /// use their worker's own client ([`WorkerHttp`]).
    pub http: reqwest::Client,
    pub router: Arc<Router>,
    pub recorder: Arc<Recorder>,
    /// The built-in ledger (admissions, grants, in-memory funds), through the usage writer.
    pub ledger: crate::usage::Ledger,
    pub timeouts: Timeouts,
    /// Polling of providers' asynchronous jobs (videos).
    pub jobs: crate::providers::Jobs,
    /// Generated files served at expiring URLs.
    pub files: Arc<crate::files::FileStore>,
    /// Wakes the reader of projects' names (`project_names`) when a registration names a URL.
    pub project_names: Arc<tokio::sync::Notify>,
    /// The Hub's own application DID (standalone identity, stable per install).
    pub app_did: String,
    /// This instance's id (`<data dir>/instance.id`), stamped on the rows it writes.
    pub instance_id: String,
    /// Requests in flight and the stop's phases.
    pub lifecycle: crate::lifecycle::Lifecycle,
    /// The attempt engine every gateway call runs through.
    pub engine: hub_core::engine::Engine,
    /// The providers' list prices (rate sync and check).
    pub pricing: crate::pricing::Pricing,
    /// Wakes the notification sender.
    pub notices: Arc<tokio::sync::Notify>,
}

/// One HTTP worker's upstream client (pooled, TCP_NODELAY), built when the worker starts and
/// used by every gateway call on that worker.
pub struct WorkerHttp(pub reqwest::Client);
