//! Typed settings, loaded once at start and passed in state.
//!
//! Precedence (lowest first): built-in defaults < TOML file (`--config PATH` or
//! `AIGNE_HUB_CONFIG`) < `AIGNE_HUB_<KEY>` environment variables (nested keys with `__`,
//! e.g. `AIGNE_HUB_BILLING__ENABLED=true`) < Blocklet environment (`BLOCKLET_PORT`,
//! `BLOCKLET_DATA_DIR`, `BLOCKLET_APP_EK`) when the Hub runs inside Blocklet Server.
//!
//! Every setting, its env var and default (also in README.md):
//! - `listen` / `AIGNE_HUB_LISTEN`: `127.0.0.1:8090` (Blocklet: `0.0.0.0:$BLOCKLET_PORT`).
//! - `data_dir` / `AIGNE_HUB_DATA_DIR`: `./data` (Blocklet: `$BLOCKLET_DATA_DIR`).
//! - `database_url` / `AIGNE_HUB_DATABASE_URL`: `sqlite://<data dir>/aigne-hub.db`;
//!   `postgres://…` selects PostgreSQL.
//! - `admin_key` / `AIGNE_HUB_ADMIN_KEY`: bootstrap admin Bearer token (≥ 16 characters);
//!   without it a key is generated into `<data dir>/admin.key` when no admin exists.
//! - `secret` / `AIGNE_HUB_SECRET`: credential-encryption secret (Blocklet: `BLOCKLET_APP_EK`;
//!   else generated into `<data dir>/secret.key`).
//! - `request_entity_size_limit` / `AIGNE_HUB_REQUEST_ENTITY_SIZE_LIMIT` (also the real Hub's
//!   `REQUEST_ENTITY_SIZE_LIMIT`): `30mb`.
//! - `shutdown_timeout_secs` / `AIGNE_HUB_SHUTDOWN_TIMEOUT_SECS`: `30` (Blocklet: `0.8`, so the
//!   whole stop ends before Blocklet Server's kill 1.6 s after its SIGINT); decimals allowed.
//! - `blocklet_key_cache_secs` / `AIGNE_HUB_BLOCKLET_KEY_CACHE_SECS`: `60` (0: no cache).
//! - `connect_session_secs` / `AIGNE_HUB_CONNECT_SESSION_SECS`: `600`, how long an `aigne hub
//!   connect` request waits for the user's approval in the console (5 to 3600).
//! - `workers` / `AIGNE_HUB_WORKERS`: HTTP worker threads, default = CPU cores.
//! - `log.level` / `AIGNE_HUB_LOG__LEVEL` (`info`; `RUST_LOG` wins when set),
//!   `log.format` / `AIGNE_HUB_LOG__FORMAT` (`text` | `json`).
//! - `database.pool_size` / `AIGNE_HUB_DATABASE__POOL_SIZE`: `8` (plus one connection the usage
//!   writer keeps);
//!   `database.busy_timeout_ms` / `AIGNE_HUB_DATABASE__BUSY_TIMEOUT_MS`: `5000` (SQLite).
//! - `billing.enabled` / `AIGNE_HUB_BILLING__ENABLED`: `false`;
//!   `billing.new_user_credits` / `AIGNE_HUB_BILLING__NEW_USER_CREDITS`: `0`;
//!   `billing.payment_link` / `AIGNE_HUB_BILLING__PAYMENT_LINK`: `/credits` (the purchase link of
//!   a 402); `billing.estimate_completion_tokens` / `AIGNE_HUB_BILLING__ESTIMATE_COMPLETION_TOKENS`:
//!   `1024` (what an admission holds for a request without `max_tokens`);
//!   `billing.credit_prefix` / `AIGNE_HUB_BILLING__CREDIT_PREFIX`: `""` (shown before amounts).
//! - `upstream.connect_timeout_secs` (`10`), `upstream.ttfb_timeout_secs` (`120`),
//!   `upstream.idle_timeout_secs` (`120`), `upstream.recheck_base_secs` (`5`),
//!   `upstream.model_recheck_secs` (`600`: how often unavailable models are checked again) /
//!   `AIGNE_HUB_UPSTREAM__…`.
//! - `retention.calls_days` / `AIGNE_HUB_RETENTION__CALLS_DAYS` (`90`) and
//!   `retention.stats_days` / `AIGNE_HUB_RETENTION__STATS_DAYS` (`180`): how long `model_calls`
//!   rows and `model_call_stats` rollups are kept (0: forever); trimmed hourly.
//!   `retention.archive_dir` / `AIGNE_HUB_RETENTION__ARCHIVE_DIR` (none): when set (relative to
//!   the data directory), calls past `calls_days` are moved to monthly SQLite files there
//!   (`model_calls-YYYY-MM.sqlite`) instead of being deleted.
//! - `pricing.file` (`<data_dir>/model_prices.json`: a LiteLLM pricing file laid over the
//!   built-in catalog when present), `pricing.url` (none: where a refresh may download it),
//!   `pricing.credit_price` (`1`: USD per credit), `pricing.drift_percent` (`10`),
//!   `pricing.check_every_secs` (`21600`) / `AIGNE_HUB_PRICING__…`.
//! - `notifications.webhook_urls` (comma-separated), `notifications.webhook_secret` (required
//!   with URLs), `notifications.low_balance` (`0`: off), `notifications.low_balance_check_secs` (`60`) /
//!   `AIGNE_HUB_NOTIFICATIONS__…`.
//! - `[[providers]]` tables (`name`, `display_name`, `base_url`, `region`, `enabled`, `keys`):
//!   upserted into the database at start.
//! - Provider keys from the real Hub's variables (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`,
//!   `GEMINI_API_KEY`, …; comma-separated values rotate) and base URLs (`<PROVIDER>_BASE_URL`),
//!   used for a provider that has no database row.
//! - Blocklet identity (env only): `BLOCKLET_APP_ASK` or `BLOCKLET_APP_SK` (0x-hex seed‖pk, signs
//!   and verifies component calls) or `BLOCKLET_APP_PK` (verifies only); login-token secret from
//!   `BLOCKLET_SESSION_SECRET`, or derived from `BLOCKLET_APP_SK` and `BLOCKLET_APP_SALT`.

mod load;
mod provider_env;
mod provider_kind;
mod size;

pub use load::{ConfigError, EnvSource, load};
pub use provider_env::{ProviderEnv, provider_envs};
pub use provider_kind::ProviderKind;
pub use size::parse_byte_size;

use rust_decimal::Decimal;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How the Hub runs (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Standalone,
    Blocklet,
}

/// Which database engine a URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// Path of the SQLite file.
    Sqlite(PathBuf),
    /// Full `postgres://` URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// A form safe to log: the PostgreSQL password is replaced.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(url) => redact_url_password(url),
        }
    }
}

fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:****@{host}"),
        None => url.to_owned(),
    }
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    pub level: String,
    pub json: bool,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    pub pool_size: u32,
    pub busy_timeout_ms: u32,
}

#[derive(Debug, Clone)]
pub struct BillingSettings {
    pub enabled: bool,
    pub new_user_credits: Decimal,
    /// Where a client without credits buys more (the `link` of a 402).
    pub payment_link: String,
    /// Completion tokens an admission holds for a request without `max_tokens`.
    pub estimate_completion_tokens: u64,
    /// What clients show before a credit amount (the real Hub's `creditPrefix`, e.g. `$`).
    pub credit_prefix: String,
}

/// Providers' list prices and the rate check.
#[derive(Debug, Clone)]
pub struct PricingSettings {
    /// A LiteLLM `model_prices_and_context_window.json` laid over the built-in catalog when it
    /// exists (default `<data_dir>/model_prices.json`; an upload is written here).
    pub file: PathBuf,
    /// Where a refresh downloads that file from; never fetched unless set.
    pub url: Option<reqwest::Url>,
    /// USD per credit: what a rate in credits is worth when compared with a list price.
    pub credit_price: rust_decimal::Decimal,
    /// A stored unit cost further than this (percent) from the list price is flagged.
    pub drift_percent: rust_decimal::Decimal,
    /// How often the rate check runs (it also runs at start and on demand).
    pub check_every: std::time::Duration,
}

/// Where notifications go besides the console's list.
#[derive(Debug, Clone)]
pub struct NotificationSettings {
    /// Standalone: URLs that receive each notification as signed JSON.
    pub webhooks: Vec<reqwest::Url>,
    /// The HMAC-SHA256 key of the `x-aigne-hub-signature` header.
    pub secret: Option<SecretString>,
    /// A user whose balance falls below this after a call is told (0: never).
    pub low_balance: rust_decimal::Decimal,
    /// How often users with recent billed calls are checked against it.
    pub low_balance_check: std::time::Duration,
}

/// How long usage history is kept (0: forever).
#[derive(Debug, Clone)]
pub struct RetentionSettings {
    pub calls_days: u32,
    pub stats_days: u32,
    /// Where calls past `calls_days` are archived (none: they are deleted).
    pub archive_dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy)]
pub struct UpstreamSettings {
    pub connect_timeout: std::time::Duration,
    pub ttfb_timeout: std::time::Duration,
    pub idle_timeout: std::time::Duration,
    /// First wait before re-checking a credential disabled by 401/403/402 (then + 2^n s, ≤ 3 h).
    pub recheck_base: std::time::Duration,
    /// How often models marked unavailable are checked again (chat models, one-token calls).
    pub model_recheck: std::time::Duration,
    /// How often a provider's asynchronous job (a video) is polled.
    pub job_poll: std::time::Duration,
    /// The longest the Hub waits for such a job before failing the call.
    pub job_timeout: std::time::Duration,
    /// When a long non-streaming answer (image, video) sends its headers early.
    pub early_headers: std::time::Duration,
}

/// Files the Hub stores for generated media (served at unguessable, expiring URLs).
#[derive(Debug, Clone, Copy)]
pub struct FileSettings {
    pub ttl: std::time::Duration,
}

/// The Blocklet application identity, from the Blocklet environment (SPEC §7): the app key that
/// signs and verifies component calls, its application DID, and the login-token secret.
#[derive(Debug, Clone, Default)]
pub struct BlockletIdentity {
    /// `BLOCKLET_APP_ASK` or `BLOCKLET_APP_SK` (signs and verifies), or `BLOCKLET_APP_PK` alone.
    pub app_key: Option<hub_blocklet::component_sig::AppKey>,
    /// The application DID of the app key.
    pub app_did: Option<String>,
    /// Blocklet Server's notification service (`ABT_NODE_SERVICE_PORT`), when the app key signs.
    pub notifications: Option<NotificationService>,
    /// `BLOCKLET_SESSION_SECRET`, or the secret derived from `BLOCKLET_APP_SK` (login tokens).
    pub session_secret: Option<SecretString>,
    /// How to reach and authenticate to Blocklet Server's GraphQL API (Blocklet access keys).
    pub server: Option<ServerAccess>,
    /// The app's components (`BLOCKLET_MOUNT_POINTS`), for signed component calls.
    pub mount_points: Vec<hub_blocklet::MountPoint>,
    /// This component's DID (`BLOCKLET_COMPONENT_DID`).
    pub component_did: Option<String>,
}

/// Where the app sends notifications to its users on Blocklet Server, and as whom.
#[derive(Debug, Clone)]
pub struct NotificationService {
    /// `http://<BLOCKLET_HOST>:<ABT_NODE_SERVICE_PORT>/.well-known/service/api/send-to-user`.
    pub url: String,
    /// The sender's `appDid`: the address of `BLOCKLET_APP_SK` (else of the app key).
    pub app_did: String,
}

/// Blocklet Server's GraphQL API as the app reaches it (`ABT_NODE_PORT`), with the app's access
/// key: its application DID and its secret key (as the text `@blocklet/server-js` signs with).
#[derive(Debug, Clone)]
pub struct ServerAccess {
    pub gql_url: String,
    /// `BLOCKLET_APP_PID` (or `BLOCKLET_APP_ID`): the team whose keys are checked.
    pub team_did: String,
    pub component_did: Option<String>,
    pub key_id: String,
    pub secret_text: SecretString,
}

/// The validated settings. Secrets are `SecretString`, which never prints.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub admin_key: Option<SecretString>,
    pub secret: Option<SecretString>,
    pub request_entity_size_limit: usize,
    /// How long a stop lets requests in flight run before cutting them off.
    pub shutdown_timeout: std::time::Duration,
    /// How long Blocklet Server's verdict on a `blocklet-…` access key is kept (a key revoked on
    /// the server still works this long); 0 asks every time.
    pub blocklet_key_cache: std::time::Duration,
    /// How long a connect session of `aigne hub connect` waits for the user's decision.
    pub connect_session: std::time::Duration,
    pub workers: Option<usize>,
    pub log: LogSettings,
    pub billing: BillingSettings,
    pub upstream: UpstreamSettings,
    pub retention: RetentionSettings,
    pub files: FileSettings,
    pub pricing: PricingSettings,
    pub notifications: NotificationSettings,
    /// Providers configured by the real Hub's env variables (fallback when no database row).
    pub provider_env: Vec<ProviderEnv>,
    /// `[[providers]]` of the TOML file, upserted into the database at start.
    pub providers: Vec<ProviderSeed>,
    pub identity: BlockletIdentity,
}

/// A `[[providers]]` entry of the TOML file. Its keys become credentials named `config-<n>`, which
/// the file owns: they are replaced when the file changes and removed when they leave it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSeed {
    pub name: String,
    pub display_name: Option<String>,
    pub base_url: Option<String>,
    pub region: Option<String>,
    pub enabled: Option<bool>,
    #[serde(default)]
    pub keys: Vec<secrecy::SecretString>,
}

impl ProviderSeed {
    pub fn kind(&self) -> Option<crate::config::ProviderKind> {
        self.name.parse().ok()
    }

    fn validate(&self) -> Result<(), String> {
        if self.kind().is_none() {
            return Err(format!(
                "name: unknown provider '{}'; expected one of {}",
                self.name,
                crate::config::ProviderKind::names()
            ));
        }
        if let Some(url) = &self.base_url {
            let parsed =
                url::Url::parse(url).map_err(|e| format!("base_url: '{url}' is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!(
                    "base_url: '{url}' must be an http:// or https:// URL"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_postgres_password() {
        let url = DatabaseUrl::Postgres("postgres://u:pw@127.0.0.1:5432/db".into());
        assert_eq!(url.redacted(), "postgres://u:****@127.0.0.1:5432/db");
        let url = DatabaseUrl::Postgres("postgres://127.0.0.1/db".into());
        assert_eq!(url.redacted(), "postgres://127.0.0.1/db");
    }
}
