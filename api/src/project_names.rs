//! Names and logos of projects (calling apps) that registered an URL: read from the app's
//! `__blocklet__.js?type=json` (`appName`, `appLogo`) in the background — soon after a
//! registration names a new URL, then weekly; a failed read keeps what was known (at least the
//! DID) and is tried again after a day.

use crate::db::{DbError, projects};
use crate::state::AppState;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often the due projects are looked for (besides a registration's nudge).
const ROUND: Duration = Duration::from_secs(600);
/// Projects read per round.
const BATCH: i64 = 20;
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What `__blocklet__.js?type=json` at `base` says the app is called and looks like (a relative
/// logo is resolved against the app's URL).
async fn read(http: &reqwest::Client, base: &str) -> Option<(Option<String>, Option<String>)> {
    let base = url::Url::parse(base).ok()?;
    let meta_url = base.join("__blocklet__.js?type=json").ok()?;
    let res = http
        .get(meta_url)
        .timeout(READ_TIMEOUT)
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?;
    let meta: Value = res.json().await.ok()?;
    let text = |k: &str| {
        meta[k]
            .as_str()
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 1000)
            .map(str::to_owned)
    };
    let name = text("appName").map(|n| n.chars().take(100).collect());
    let logo = text("appLogo").and_then(|l| base.join(&l).ok().map(|u| u.to_string()));
    Some((name, logo))
}

/// One round: every due project, read and recorded.
async fn round(state: &AppState) {
    let now = chrono::Utc::now().naive_utc();
    let due = state
        .db
        .run(move |conn| projects::due_for_fetch(conn, now, BATCH).map_err(DbError::from))
        .await;
    let due = match due {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!("project names: {e}");
            return;
        }
    };
    for project in due {
        let Some(url) = project.url.clone() else {
            continue;
        };
        let found = read(&state.http, &url).await;
        if found.is_none() {
            tracing::info!(app = %project.app_did, %url, "project name not read: its __blocklet__.js did not answer");
        }
        let (name, logo) = found.unwrap_or_default();
        let app = project.app_did.clone();
        let at = chrono::Utc::now().naive_utc();
        if let Err(e) = state
            .db
            .run(move |conn| {
                projects::record_fetch(conn, &app, name.as_deref(), logo.as_deref(), at)
                    .map_err(DbError::from)
            })
            .await
        {
            tracing::warn!(app = %project.app_did, "project name not stored: {e}");
        }
    }
}

/// Reads due projects every [`ROUND`], and at once when `nudge` is notified.
pub async fn run(state: actix_web::web::Data<AppState>, nudge: Arc<Notify>) {
    loop {
        round(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(ROUND) => {}
            _ = nudge.notified() => {}
        }
    }
}
