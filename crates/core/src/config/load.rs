//! Builds [`Settings`] from defaults, the TOML file, `AIGNE_HUB_*` env and the Blocklet env.

use super::{BillingSettings, DatabaseSettings, DatabaseUrl, LogSettings, Mode, Settings};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

const ENV_PREFIX: &str = "AIGNE_HUB_";
/// Env vars with the prefix that are not settings (they point at the settings).
const NOT_SETTINGS: &[&str] = &["AIGNE_HUB_CONFIG"];

/// A snapshot of the process environment (tests pass their own).
pub type EnvSource = HashMap<String, String>;

/// A configuration problem; the message names the key and where it came from.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// The raw shape of the file and env layers. `deny_unknown_fields` turns a typo into an error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    listen: String,
    data_dir: String,
    database_url: Option<String>,
    admin_key: Option<String>,
    secret: Option<String>,
    request_entity_size_limit: String,
    shutdown_timeout_secs: Option<f64>,
    blocklet_key_cache_secs: u64,
    connect_session_secs: u64,
    workers: Option<usize>,
    log: RawLog,
    database: RawDatabase,
    billing: RawBilling,
    upstream: RawUpstream,
    retention: RawRetention,
    files: RawFiles,
    pricing: RawPricing,
    notifications: RawNotifications,
    #[serde(default)]
    providers: Vec<super::ProviderSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpstream {
    connect_timeout_secs: u64,
    ttfb_timeout_secs: u64,
    idle_timeout_secs: u64,
    recheck_base_secs: u64,
    model_recheck_secs: u64,
    job_poll_ms: u64,
    job_timeout_secs: u64,
    early_headers_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFiles {
    ttl_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    calls_days: u32,
    stats_days: u32,
    archive_dir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPricing {
    file: Option<String>,
    url: Option<String>,
    credit_price: String,
    drift_percent: String,
    check_every_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotifications {
    webhook_urls: String,
    webhook_secret: Option<String>,
    low_balance: String,
    low_balance_check_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: String,
    format: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    pool_size: u32,
    busy_timeout_ms: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBilling {
    enabled: bool,
    new_user_credits: String,
    payment_link: String,
    estimate_completion_tokens: u64,
    credit_prefix: String,
}

const DEFAULTS: &[(&str, &str)] = &[
    ("listen", "127.0.0.1:8090"),
    ("data_dir", "./data"),
    ("request_entity_size_limit", "30mb"),
    ("blocklet_key_cache_secs", "60"),
    ("connect_session_secs", "600"),
    ("log.level", "info"),
    ("log.format", "text"),
    ("database.pool_size", "8"),
    ("database.busy_timeout_ms", "5000"),
    ("billing.enabled", "false"),
    ("billing.new_user_credits", "0"),
    ("billing.payment_link", "/credits"),
    ("billing.estimate_completion_tokens", "1024"),
    ("billing.credit_prefix", ""),
    ("upstream.connect_timeout_secs", "10"),
    ("upstream.ttfb_timeout_secs", "120"),
    ("upstream.idle_timeout_secs", "120"),
    ("upstream.recheck_base_secs", "5"),
    ("upstream.model_recheck_secs", "600"),
    ("upstream.job_poll_ms", "2000"),
    ("upstream.job_timeout_secs", "900"),
    ("upstream.early_headers_secs", "15"),
    ("files.ttl_secs", "86400"),
    ("retention.calls_days", "90"),
    ("retention.stats_days", "180"),
    ("pricing.credit_price", "1"),
    ("pricing.drift_percent", "10"),
    ("pricing.check_every_secs", "21600"),
    ("notifications.webhook_urls", ""),
    ("notifications.low_balance", "0"),
    ("notifications.low_balance_check_secs", "60"),
];

/// How long a stop waits for requests in flight, standalone.
const DEFAULT_SHUTDOWN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// On Blocklet Server: its process manager kills a component 1.6 s after SIGINT; the grace, the
/// cut and the flushes (`app::serve`) end well before that.
const BLOCKLET_SHUTDOWN_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(800);

/// Loads the settings. `file` is the `--config` path (falls back to `AIGNE_HUB_CONFIG`).
pub fn load(file: Option<&Path>, env: &EnvSource) -> Result<Settings, ConfigError> {
    let mut builder = config::Config::builder();
    for (key, value) in DEFAULTS {
        builder = builder
            .set_default(*key, *value)
            .map_err(|e| ConfigError(e.to_string()))?;
    }

    let file = file
        .map(Path::to_path_buf)
        .or_else(|| non_empty(env, "AIGNE_HUB_CONFIG").map(PathBuf::from));
    if let Some(path) = &file {
        if !path.is_file() {
            return Err(ConfigError(format!(
                "config file {} does not exist or is not a file",
                path.display()
            )));
        }
        builder =
            builder.add_source(config::File::from(path.as_path()).format(config::FileFormat::Toml));
    }

    // The real Hub's body-size variable: above the file, below our own prefixed variable.
    if let Some(limit) = non_empty(env, "REQUEST_ENTITY_SIZE_LIMIT")
        .filter(|_| non_empty(env, "AIGNE_HUB_REQUEST_ENTITY_SIZE_LIMIT").is_none())
    {
        builder = builder
            .set_override("request_entity_size_limit", limit)
            .map_err(|e| ConfigError(e.to_string()))?;
    }

    let prefixed: HashMap<String, String> = env
        .iter()
        .filter(|(k, v)| {
            k.starts_with(ENV_PREFIX) && !NOT_SETTINGS.contains(&k.as_str()) && !v.is_empty()
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    builder = builder.add_source(
        config::Environment::with_prefix("AIGNE_HUB")
            .prefix_separator("_")
            .separator("__")
            .source(Some(prefixed)),
    );

    let mode = detect_mode(env);
    if mode == Mode::Blocklet {
        for (key, var) in [
            ("data_dir", "BLOCKLET_DATA_DIR"),
            ("secret", "BLOCKLET_APP_EK"),
        ] {
            if let Some(value) = non_empty(env, var) {
                builder = builder
                    .set_override(key, value)
                    .map_err(|e| ConfigError(e.to_string()))?;
            }
        }
        if let Some(port) = non_empty(env, "BLOCKLET_PORT") {
            builder = builder
                .set_override("listen", format!("0.0.0.0:{port}"))
                .map_err(|e| ConfigError(e.to_string()))?;
        }
    }

    let raw: Raw = builder
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(|e| ConfigError(describe(&e, file.as_deref())))?;
    validate(raw, mode, env)
}

fn non_empty(env: &EnvSource, key: &str) -> Option<String> {
    env.get(key).filter(|v| !v.trim().is_empty()).cloned()
}

fn detect_mode(env: &EnvSource) -> Mode {
    let has = |k: &str| non_empty(env, k).is_some();
    if has("BLOCKLET_PORT")
        && (has("BLOCKLET_DID") || has("BLOCKLET_APP_SK") || has("BLOCKLET_APP_ASK"))
    {
        Mode::Blocklet
    } else {
        Mode::Standalone
    }
}

/// Env var name for a dotted key: `billing.enabled` → `AIGNE_HUB_BILLING__ENABLED`.
fn env_name(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

fn describe(err: &config::ConfigError, file: Option<&Path>) -> String {
    let text = err.to_string();
    let source = file
        .map(|p| {
            format!(
                " (sources: {} and AIGNE_HUB_* environment variables)",
                p.display()
            )
        })
        .unwrap_or_else(|| " (source: AIGNE_HUB_* environment variables)".to_owned());
    if let Some(field) = text
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        return format!("unknown key `{field}` (env {}){source}", env_name(field));
    }
    format!("{text}{source}")
}

fn bad(key: &str, message: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("`{key}` (env {}): {message}", env_name(key)))
}

fn validate(raw: Raw, mode: Mode, env: &EnvSource) -> Result<Settings, ConfigError> {
    let listen = SocketAddr::from_str(raw.listen.trim()).map_err(|_| {
        bad(
            "listen",
            format!("'{}' is not an address such as 127.0.0.1:8090", raw.listen),
        )
    })?;
    if raw.data_dir.trim().is_empty() {
        return Err(bad("data_dir", "must not be empty"));
    }
    let data_dir = PathBuf::from(raw.data_dir.trim());

    let url = match raw.database_url.as_deref().map(str::trim) {
        None | Some("") => DatabaseUrl::Sqlite(data_dir.join("aigne-hub.db")),
        Some(url) => parse_database_url(url)?,
    };

    let admin_key = match raw.admin_key {
        Some(k) if k.chars().count() < 16 => {
            return Err(bad("admin_key", "must be at least 16 characters"));
        }
        Some(k) => Some(SecretString::from(k)),
        None => None,
    };
    let secret = match raw.secret {
        Some(s) if s.chars().count() < 16 => {
            return Err(bad("secret", "must be at least 16 characters"));
        }
        Some(s) => Some(SecretString::from(s)),
        None => None,
    };

    let request_entity_size_limit = super::parse_byte_size(&raw.request_entity_size_limit)
        .map_err(|e| bad("request_entity_size_limit", e))?;

    if raw.database.pool_size == 0 {
        return Err(bad("database.pool_size", "must be at least 1"));
    }
    if raw.workers == Some(0) {
        return Err(bad("workers", "must be at least 1"));
    }

    let json = match raw.log.format.as_str() {
        "text" => false,
        "json" => true,
        other => {
            return Err(bad(
                "log.format",
                format!("'{other}' is not one of text, json"),
            ));
        }
    };
    if tracing_subscriber::EnvFilter::try_new(&raw.log.level).is_err() {
        return Err(bad(
            "log.level",
            format!("'{}' is not a log filter", raw.log.level),
        ));
    }

    let pricing = pricing_settings(raw.pricing, &data_dir)?;
    let notifications = notification_settings(raw.notifications)?;
    let new_user_credits = Decimal::from_str_exact(raw.billing.new_user_credits.trim())
        .ok()
        .filter(|d| !d.is_sign_negative())
        .ok_or_else(|| {
            bad(
                "billing.new_user_credits",
                format!(
                    "'{}' is not a non-negative decimal",
                    raw.billing.new_user_credits
                ),
            )
        })?;

    if raw.billing.payment_link.trim().is_empty() {
        return Err(bad(
            "billing.payment_link",
            "must not be empty: it is the purchase link a client without credits is sent to",
        ));
    }

    let shutdown_timeout = match raw.shutdown_timeout_secs {
        None if mode == Mode::Blocklet => BLOCKLET_SHUTDOWN_TIMEOUT,
        None => DEFAULT_SHUTDOWN_TIMEOUT,
        Some(s) if s.is_finite() && (0.0..=3600.0).contains(&s) => {
            std::time::Duration::from_secs_f64(s)
        }
        Some(s) => {
            return Err(bad(
                "shutdown_timeout_secs",
                format!("{s} is not between 0 and 3600 seconds"),
            ));
        }
    };

    let secs = |key: &str, v: u64| {
        if v == 0 {
            Err(bad(key, "must be at least 1 second"))
        } else {
            Ok(std::time::Duration::from_secs(v))
        }
    };
    let upstream = super::UpstreamSettings {
        connect_timeout: secs(
            "upstream.connect_timeout_secs",
            raw.upstream.connect_timeout_secs,
        )?,
        ttfb_timeout: secs("upstream.ttfb_timeout_secs", raw.upstream.ttfb_timeout_secs)?,
        idle_timeout: secs("upstream.idle_timeout_secs", raw.upstream.idle_timeout_secs)?,
        recheck_base: secs("upstream.recheck_base_secs", raw.upstream.recheck_base_secs)?,
        model_recheck: secs(
            "upstream.model_recheck_secs",
            raw.upstream.model_recheck_secs,
        )?,
        job_poll: if (50..=60_000).contains(&raw.upstream.job_poll_ms) {
            std::time::Duration::from_millis(raw.upstream.job_poll_ms)
        } else {
            return Err(bad("upstream.job_poll_ms", "must be between 50 and 60000"));
        },
        job_timeout: secs("upstream.job_timeout_secs", raw.upstream.job_timeout_secs)?,
        early_headers: if (1..=55).contains(&raw.upstream.early_headers_secs) {
            std::time::Duration::from_secs(raw.upstream.early_headers_secs)
        } else {
            return Err(bad(
                "upstream.early_headers_secs",
                "must be between 1 and 55 (clients give up after 60 s without headers)",
            ));
        },
    };
    let files = super::FileSettings {
        ttl: secs("files.ttl_secs", raw.files.ttl_secs)?,
    };
    let provider_env = super::provider_envs(env).map_err(ConfigError)?;

    for (i, seed) in raw.providers.iter().enumerate() {
        seed.validate()
            .map_err(|e| ConfigError(format!("`providers[{i}]` (config file): {e}")))?;
    }

    let identity = blocklet_identity(env)?;
    let archive_dir = raw
        .retention
        .archive_dir
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| data_dir.join(d));
    Ok(Settings {
        mode,
        identity,
        upstream,
        providers: raw.providers,
        provider_env,
        listen,
        data_dir,
        database: DatabaseSettings {
            url,
            pool_size: raw.database.pool_size,
            busy_timeout_ms: raw.database.busy_timeout_ms,
        },
        admin_key,
        secret,
        request_entity_size_limit,
        shutdown_timeout,
        blocklet_key_cache: if raw.blocklet_key_cache_secs <= 3600 {
            std::time::Duration::from_secs(raw.blocklet_key_cache_secs)
        } else {
            return Err(bad("blocklet_key_cache_secs", "must be at most 3600"));
        },
        connect_session: if (5..=3600).contains(&raw.connect_session_secs) {
            std::time::Duration::from_secs(raw.connect_session_secs)
        } else {
            return Err(bad("connect_session_secs", "must be 5 to 3600"));
        },
        workers: raw.workers,
        log: LogSettings {
            level: raw.log.level,
            json,
        },
        billing: BillingSettings {
            enabled: raw.billing.enabled,
            new_user_credits,
            payment_link: raw.billing.payment_link.trim().to_owned(),
            estimate_completion_tokens: raw.billing.estimate_completion_tokens,
            credit_prefix: if raw.billing.credit_prefix.chars().count() <= 16 {
                raw.billing.credit_prefix
            } else {
                return Err(bad(
                    "billing.credit_prefix",
                    "must be at most 16 characters",
                ));
            },
        },
        files,
        retention: super::RetentionSettings {
            calls_days: raw.retention.calls_days,
            stats_days: raw.retention.stats_days,
            archive_dir,
        },
        pricing,
        notifications,
    })
}

/// A decimal setting that must be at least 0 (`positive`: more than 0).
fn setting_decimal(key: &str, text: &str, positive: bool) -> Result<Decimal, ConfigError> {
    Decimal::from_str_exact(text.trim())
        .ok()
        .filter(|d| !d.is_sign_negative() && (!positive || !d.is_zero()))
        .ok_or_else(|| {
            let what = if positive { "positive" } else { "non-negative" };
            bad(key, format!("'{text}' is not a {what} decimal"))
        })
}

fn pricing_settings(
    raw: RawPricing,
    data_dir: &Path,
) -> Result<super::PricingSettings, ConfigError> {
    let url = match raw.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => Some(
            reqwest::Url::parse(u)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| bad("pricing.url", format!("'{u}' is not an http(s) URL")))?,
        ),
        None => None,
    };
    Ok(super::PricingSettings {
        file: raw
            .file
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("model_prices.json")),
        url,
        credit_price: setting_decimal("pricing.credit_price", &raw.credit_price, true)?,
        drift_percent: setting_decimal("pricing.drift_percent", &raw.drift_percent, false)?,
        check_every: if raw.check_every_secs >= 60 {
            std::time::Duration::from_secs(raw.check_every_secs)
        } else {
            return Err(bad("pricing.check_every_secs", "must be at least 60"));
        },
    })
}

fn notification_settings(
    raw: RawNotifications,
) -> Result<super::NotificationSettings, ConfigError> {
    let mut webhooks = Vec::new();
    for u in raw
        .webhook_urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let url = reqwest::Url::parse(u)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                bad(
                    "notifications.webhook_urls",
                    format!("'{u}' is not an http(s) URL"),
                )
            })?;
        webhooks.push(url);
    }
    let secret = raw
        .webhook_secret
        .filter(|s| !s.trim().is_empty())
        .map(SecretString::from);
    if !webhooks.is_empty() && secret.is_none() {
        return Err(bad(
            "notifications.webhook_secret",
            "is required with webhook_urls (receivers check the signature with it)",
        ));
    }
    Ok(super::NotificationSettings {
        webhooks,
        secret,
        low_balance: setting_decimal("notifications.low_balance", &raw.low_balance, false)?,
        low_balance_check: if raw.low_balance_check_secs >= 1 {
            std::time::Duration::from_secs(raw.low_balance_check_secs)
        } else {
            return Err(bad(
                "notifications.low_balance_check_secs",
                "must be at least 1",
            ));
        },
    })
}

/// The app key and login-token secret from the Blocklet environment (any mode: a standalone Hub
/// given them verifies component calls too).
fn blocklet_identity(env: &EnvSource) -> Result<super::BlockletIdentity, ConfigError> {
    use hub_blocklet::component_sig::AppKey;
    use hub_blocklet::did::{DidRole, address};
    let get = |k: &str| non_empty(env, k);
    let (ask, sk, pk) = (
        get("BLOCKLET_APP_ASK"),
        get("BLOCKLET_APP_SK"),
        get("BLOCKLET_APP_PK"),
    );
    let app_key = AppKey::from_env(ask.as_deref(), sk.as_deref(), pk.as_deref())
        .map_err(|e| ConfigError(e.to_string()))?;
    let app_did = app_key
        .as_ref()
        .map(|k| address(&k.public_key(), DidRole::Application));
    // @blocklet/sdk derives the secret from BLOCKLET_APP_SK's text and that key's app address.
    let sk_address = match &sk {
        Some(sk) => AppKey::from_env(None, Some(sk), None)
            .map_err(|e| ConfigError(e.to_string()))?
            .map(|k| address(&k.public_key(), DidRole::Application)),
        None => None,
    };
    let session_secret = hub_blocklet::login_token::session_secret(
        get("BLOCKLET_SESSION_SECRET").as_deref(),
        sk.as_deref(),
        sk_address.as_deref().unwrap_or_default(),
        get("BLOCKLET_APP_SALT").as_deref().unwrap_or_default(),
    )
    .map(SecretString::from);
    let server = server_access(env, ask.as_deref().or(sk.as_deref()), app_did.as_deref())?;
    let mount_points = hub_blocklet::mount_points::parse(
        get("BLOCKLET_MOUNT_POINTS").as_deref().unwrap_or_default(),
    )
    .map_err(ConfigError)?;
    // Blocklet Server's notification service (`@blocklet/sdk`'s `sendToUser`): the app is named
    // by its BLOCKLET_APP_SK address, the token is signed by the app key.
    let notifications = match (
        get("ABT_NODE_SERVICE_PORT"),
        sk_address.clone().or(app_did.clone()),
    ) {
        (Some(port), Some(sender)) if app_key.as_ref().is_some_and(|k| k.can_sign()) => {
            let port: u16 = port.trim().parse().map_err(|_| {
                ConfigError(format!(
                    "ABT_NODE_SERVICE_PORT: '{port}' is not a port number"
                ))
            })?;
            let host = get("BLOCKLET_HOST").unwrap_or_else(|| "127.0.0.1".into());
            Some(super::NotificationService {
                url: format!("http://{host}:{port}/.well-known/service/api/send-to-user"),
                app_did: sender,
            })
        }
        _ => None,
    };
    Ok(super::BlockletIdentity {
        app_key,
        app_did,
        notifications,
        session_secret,
        server,
        mount_points,
        component_did: get("BLOCKLET_COMPONENT_DID"),
    })
}

/// Blocklet Server's GraphQL endpoint and the app's access key, when the Hub runs inside it.
fn server_access(
    env: &EnvSource,
    secret_hex: Option<&str>,
    app_did: Option<&str>,
) -> Result<Option<super::ServerAccess>, ConfigError> {
    let get = |k: &str| non_empty(env, k);
    let (Some(port), Some(secret_hex), Some(app_did)) = (get("ABT_NODE_PORT"), secret_hex, app_did)
    else {
        return Ok(None);
    };
    let port: u16 = port
        .trim()
        .parse()
        .map_err(|_| ConfigError(format!("ABT_NODE_PORT: '{port}' is not a port number")))?;
    let digits = secret_hex.trim();
    let bytes = hex::decode(digits.strip_prefix("0x").unwrap_or(digits))
        .map_err(|_| ConfigError("BLOCKLET_APP_SK is not hex".into()))?;
    Ok(Some(super::ServerAccess {
        gql_url: format!("http://127.0.0.1:{port}/api/gql"),
        team_did: get("BLOCKLET_APP_PID")
            .or_else(|| get("BLOCKLET_APP_ID"))
            .unwrap_or_else(|| app_did.to_owned()),
        component_did: get("BLOCKLET_COMPONENT_DID"),
        key_id: app_did.to_owned(),
        secret_text: SecretString::from(String::from_utf8_lossy(&bytes).into_owned()),
    }))
}

fn parse_database_url(url: &str) -> Result<DatabaseUrl, ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(DatabaseUrl::Postgres(url.to_owned()));
    }
    match url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Some(path) if !path.is_empty() => Ok(DatabaseUrl::Sqlite(PathBuf::from(path))),
        _ => Err(bad(
            "database_url",
            "must start with sqlite:// or postgres:// (e.g. sqlite://./data/aigne-hub.db)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::io::Write;

    fn env(pairs: &[(&str, &str)]) -> EnvSource {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let s = load(None, &env(&[])).expect("defaults load");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8090");
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert_eq!(
            s.database.url,
            DatabaseUrl::Sqlite(PathBuf::from("./data/aigne-hub.db"))
        );
        assert_eq!(s.request_entity_size_limit, 30 * 1024 * 1024);
        assert_eq!(s.mode, Mode::Standalone);
        assert!(!s.billing.enabled);
        assert!(s.admin_key.is_none());
    }

    #[test]
    fn env_overrides_file_and_nested_keys_work() {
        let mut f = tempfile::NamedTempFile::new().expect("tmp");
        writeln!(
            f,
            "listen = \"127.0.0.1:9000\"\n[billing]\nenabled = false\nnew_user_credits = \"5\""
        )
        .expect("write");
        let s = load(
            Some(f.path()),
            &env(&[
                ("AIGNE_HUB_BILLING__ENABLED", "true"),
                ("AIGNE_HUB_DATA_DIR", "/tmp/x"),
            ]),
        )
        .expect("load");
        assert_eq!(s.listen.port(), 9000);
        assert!(s.billing.enabled);
        assert_eq!(s.billing.new_user_credits, Decimal::from(5));
        assert_eq!(
            s.database.url,
            DatabaseUrl::Sqlite(PathBuf::from("/tmp/x/aigne-hub.db"))
        );
        let s = load(
            Some(f.path()),
            &env(&[("AIGNE_HUB_LISTEN", "0.0.0.0:1234")]),
        )
        .expect("load");
        assert_eq!(s.listen.port(), 1234);
    }

    #[test]
    fn unknown_file_key_names_the_key() {
        let mut f = tempfile::NamedTempFile::new().expect("tmp");
        writeln!(f, "listne = \"127.0.0.1:9000\"").expect("write");
        let err = load(Some(f.path()), &env(&[]))
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("listne"), "{err}");
    }

    #[test]
    fn unknown_nested_key_names_the_key() {
        let mut f = tempfile::NamedTempFile::new().expect("tmp");
        writeln!(f, "[billing]\nenabeld = true").expect("write");
        let err = load(Some(f.path()), &env(&[]))
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("enabeld"), "{err}");
    }

    #[test]
    fn unknown_env_key_names_the_variable() {
        let err = load(None, &env(&[("AIGNE_HUB_LISTN", "x")]))
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("AIGNE_HUB_LISTN"), "{err}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = load(None, &env(&[("AIGNE_HUB_LISTEN", "nonsense")]))
            .expect_err("fail")
            .to_string();
        assert!(
            err.contains("AIGNE_HUB_LISTEN") && err.contains("nonsense"),
            "{err}"
        );
        let err = load(None, &env(&[("AIGNE_HUB_BILLING__ENABLED", "maybe")]))
            .expect_err("fail")
            .to_string();
        assert!(
            err.contains("billing.enabled") || err.contains("enabled"),
            "{err}"
        );
        let err = load(None, &env(&[("AIGNE_HUB_ADMIN_KEY", "short")]))
            .expect_err("fail")
            .to_string();
        assert!(err.contains("AIGNE_HUB_ADMIN_KEY"), "{err}");
        let err = load(None, &env(&[("AIGNE_HUB_DATABASE_URL", "mysql://x")]))
            .expect_err("fail")
            .to_string();
        assert!(err.contains("AIGNE_HUB_DATABASE_URL"), "{err}");
        let err = load(
            None,
            &env(&[("AIGNE_HUB_REQUEST_ENTITY_SIZE_LIMIT", "huge")]),
        )
        .expect_err("fail")
        .to_string();
        assert!(err.contains("REQUEST_ENTITY_SIZE_LIMIT"), "{err}");
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let err = load(Some(Path::new("/nonexistent/hub.toml")), &env(&[])).expect_err("fail");
        assert!(err.to_string().contains("/nonexistent/hub.toml"));
    }

    #[test]
    fn blocklet_env_wins() {
        let s = load(
            None,
            &env(&[
                ("BLOCKLET_PORT", "7001"),
                ("BLOCKLET_DID", "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ"),
                ("BLOCKLET_DATA_DIR", "/srv/data"),
                ("BLOCKLET_APP_EK", "0123456789abcdef0123456789abcdef"),
                ("AIGNE_HUB_LISTEN", "127.0.0.1:1"),
            ]),
        )
        .expect("load");
        assert_eq!(s.mode, Mode::Blocklet);
        assert_eq!(s.listen.to_string(), "0.0.0.0:7001");
        assert_eq!(s.data_dir, PathBuf::from("/srv/data"));
        let secret = s.secret.expect("secret");
        assert_eq!(secret.expose_secret(), "0123456789abcdef0123456789abcdef");
    }

    #[test]
    fn the_stop_grace_fits_the_platform() {
        use std::time::Duration;
        let blocklet = [
            ("BLOCKLET_PORT", "7001"),
            ("BLOCKLET_DID", "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ"),
            ("BLOCKLET_DATA_DIR", "/srv/data"),
            ("BLOCKLET_APP_EK", "0123456789abcdef0123456789abcdef"),
        ];
        let s = load(None, &env(&blocklet)).expect("load");
        assert!(s.shutdown_timeout < Duration::from_millis(1600));
        let s = load(None, &env(&[])).expect("load");
        assert_eq!(s.shutdown_timeout, Duration::from_secs(30));
        let mut set = blocklet.to_vec();
        set.push(("AIGNE_HUB_SHUTDOWN_TIMEOUT_SECS", "1.25"));
        let s = load(None, &env(&set)).expect("load");
        assert_eq!(s.shutdown_timeout, Duration::from_millis(1250));
        for wrong in ["-1", "soon", "7200"] {
            let err = load(None, &env(&[("AIGNE_HUB_SHUTDOWN_TIMEOUT_SECS", wrong)]))
                .expect_err(wrong)
                .to_string();
            assert!(
                err.to_lowercase().contains("shutdown_timeout_secs"),
                "{wrong}: {err}"
            );
        }
    }

    const VECTOR_SK: &str = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";

    #[test]
    fn blocklet_identity_from_the_app_key() {
        let s = load(
            None,
            &env(&[
                ("BLOCKLET_APP_SK", VECTOR_SK),
                ("BLOCKLET_APP_SALT", "test-salt"),
            ]),
        )
        .expect("load");
        let id = &s.identity;
        assert!(id.app_key.as_ref().is_some_and(|k| k.can_sign()));
        assert_eq!(
            id.app_did.as_deref(),
            Some("zNKa5mpgjBK9h5KQ5BxCSSPmy8F5NJwuSmxQ")
        );
        // The secret @blocklet/sdk derives (interop-vectors/session-jwt.js).
        assert_eq!(
            id.session_secret
                .as_ref()
                .map(|s| s.expose_secret().to_owned())
                .as_deref(),
            Some("0x6dbe5e8c42ea6bff682ad6ef5de36b03ca018e381bdfee0c1c793784a9533b18")
        );
        let s = load(
            None,
            &env(&[
                ("BLOCKLET_APP_SK", VECTOR_SK),
                ("BLOCKLET_SESSION_SECRET", "explicit-secret"),
            ]),
        )
        .expect("load");
        assert_eq!(
            s.identity
                .session_secret
                .map(|s| s.expose_secret().to_owned())
                .as_deref(),
            Some("explicit-secret")
        );
        let s = load(None, &env(&[])).expect("load");
        assert!(s.identity.app_key.is_none() && s.identity.session_secret.is_none());
    }

    #[test]
    fn a_bad_app_key_names_its_variable() {
        let e = load(None, &env(&[("BLOCKLET_APP_SK", "0x1234")])).expect_err("bad key");
        assert!(e.to_string().contains("BLOCKLET_APP_SK"), "{e}");
        let e = load(None, &env(&[("BLOCKLET_APP_PK", "nothex")])).expect_err("bad pk");
        assert!(e.to_string().contains("BLOCKLET_APP_PK"), "{e}");
    }

    #[test]
    fn real_hub_size_limit_variable_is_honoured_below_ours() {
        let s = load(None, &env(&[("REQUEST_ENTITY_SIZE_LIMIT", "1mb")])).expect("load");
        assert_eq!(s.request_entity_size_limit, 1 << 20);
        let s = load(
            None,
            &env(&[
                ("REQUEST_ENTITY_SIZE_LIMIT", "1mb"),
                ("AIGNE_HUB_REQUEST_ENTITY_SIZE_LIMIT", "2mb"),
            ]),
        )
        .expect("load");
        assert_eq!(s.request_entity_size_limit, 2 << 20);
    }

    #[test]
    fn numeric_looking_secrets_keep_their_text() {
        let s = load(None, &env(&[("AIGNE_HUB_ADMIN_KEY", "0000111122223333")])).expect("load");
        assert_eq!(
            s.admin_key.expect("key").expose_secret(),
            "0000111122223333"
        );
    }
}
