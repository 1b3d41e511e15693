//! Notifications: a credential disabled or restored, rates below cost, credits granted, a
//! user's balance below `notifications.low_balance`. Each is stored (the console lists them)
//! with one delivery per webhook in the same transaction; a sender delivers them with retries
//! (1 s doubling to 5 minutes) until the receiver answers 2xx, so a receiver outage or a restart
//! delays a notification and never loses it. Receivers tell a retry by `x-aigne-hub-delivery`.
//!
//! Webhook requests carry `x-aigne-hub-timestamp` (unix seconds) and `x-aigne-hub-signature:
//! sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with notifications.webhook_secret>`.
//!
//! On Blocklet Server each notice also goes to its users through the server's notification
//! service, as `@blocklet/sdk`'s `sendToUser` sends it (one delivery per user: the user it is
//! about, else every owner and administrator), signed with the app key.

use crate::billing::rate_check::Finding;
use crate::db::DbError;
use crate::db::notifications::{self as repo, DeliveryRow, NotificationRow};
use crate::routing::KeyEvent;
use crate::state::AppState;
use actix_web::web;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

/// One notification to store and send.
pub struct Notice {
    pub kind: &'static str,
    pub severity: &'static str,
    pub title: String,
    pub body: String,
    pub data: Value,
    /// The user it concerns (credits), if any.
    pub user_did: Option<String>,
    /// A fixed id makes the notice once-only (a second one with the same id is dropped).
    pub id: Option<String>,
}

/// Stores `notice` with its deliveries and wakes the sender. Failures are logged: a notice
/// must never fail the work that caused it.
pub async fn send(state: &AppState, notice: Notice) {
    let mut channels: Vec<String> = state
        .settings
        .notifications
        .webhooks
        .iter()
        .map(|u| u.to_string())
        .collect();
    let to_blocklet = state.settings.identity.notifications.is_some();
    let row = NotificationRow {
        id: notice
            .id
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        kind: notice.kind.to_owned(),
        severity: notice.severity.to_owned(),
        title: notice.title,
        body: notice.body,
        data: notice.data.to_string(),
        user_did: notice.user_did,
        created_at: chrono::Utc::now().naive_utc(),
    };
    let kind = notice.kind;
    let stored = state
        .db
        .run(move |conn| {
            if to_blocklet {
                let users = match &row.user_did {
                    Some(user) => vec![user.clone()],
                    None => crate::db::users::admins(conn)?,
                };
                channels.extend(users.into_iter().map(|u| format!("{BLOCKLET}{u}")));
            }
            match repo::insert(conn, &row, &channels) {
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(false),
                other => other.map(|()| true).map_err(DbError::from),
            }
        })
        .await;
    match stored {
        Ok(true) => {
            tracing::info!(kind, "notification stored");
            state.notices.notify_one();
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(kind, "could not store a notification: {e}"),
    }
}

/// The channel prefix of a delivery to a user through Blocklet Server.
const BLOCKLET: &str = "blocklet:";

/// The HMAC-SHA256 signature header value of `body` sent at `timestamp`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> Result<String, String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .map_err(|e| format!("cannot sign with the webhook secret: {e}"))?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// A notification as webhooks receive it and the API lists it.
pub fn payload(n: &NotificationRow) -> Value {
    json!({
        "id": n.id,
        "type": n.kind,
        "severity": n.severity,
        "title": n.title,
        "body": n.body,
        "data": serde_json::from_str::<Value>(&n.data).unwrap_or(Value::Null),
        "userDid": n.user_did,
        "createdAt": crate::routes::time::iso(n.created_at),
    })
}

/// How long a claimed delivery is left to its sender before another may try.
const LEASE: Duration = Duration::from_secs(60);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

fn backoff(attempts: i64) -> Duration {
    let shift = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(1u64 << shift).min(MAX_BACKOFF)
}

/// Sends due deliveries, every second or when woken.
pub async fn run_sender(state: web::Data<AppState>) {
    loop {
        if let Err(e) = send_due(&state).await {
            tracing::warn!("notification sender: {e}");
        }
        tokio::select! {
            () = state.notices.notified() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn send_due(state: &AppState) -> Result<(), DbError> {
    let now = chrono::Utc::now().naive_utc();
    let due = state
        .db
        .run(move |conn| Ok::<_, DbError>(repo::due(conn, now, 50)?))
        .await?;
    for (delivery, notification) in due {
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let claimed = {
            let d = delivery.clone();
            state
                .db
                .run(move |conn| Ok::<_, DbError>(repo::claim(conn, &d, until)?))
                .await?
        };
        if !claimed {
            continue;
        }
        let outcome = deliver(state, &delivery, &notification).await;
        let id = delivery.id.clone();
        let done = chrono::Utc::now().naive_utc();
        match outcome {
            Ok(()) => {
                state
                    .db
                    .run(move |conn| Ok::<_, DbError>(repo::delivered(conn, &id, done)?))
                    .await?;
            }
            Err(error) => {
                let next = done
                    + chrono::Duration::from_std(backoff(delivery.attempts)).unwrap_or_default();
                tracing::debug!(delivery = %delivery.id, "notification not delivered: {error}");
                state
                    .db
                    .run(move |conn| Ok::<_, DbError>(repo::failed(conn, &id, &error, next)?))
                    .await?;
            }
        }
    }
    Ok(())
}

async fn deliver(
    state: &AppState,
    delivery: &DeliveryRow,
    notification: &NotificationRow,
) -> Result<(), String> {
    if let Some(user) = delivery.channel.strip_prefix(BLOCKLET) {
        return to_blocklet_user(state, user, notification).await;
    }
    let Some(secret) = &state.settings.notifications.secret else {
        return Err("no notifications.webhook_secret".into());
    };
    let body = payload(notification).to_string();
    let timestamp = chrono::Utc::now().timestamp();
    let signed = signature(
        secret.expose_secret().as_bytes(),
        timestamp,
        body.as_bytes(),
    )?;
    let res = state
        .http
        .post(&delivery.channel)
        .timeout(Duration::from_secs(10))
        .header("content-type", "application/json")
        .header("x-aigne-hub-event", &notification.kind)
        .header("x-aigne-hub-delivery", &notification.id)
        .header("x-aigne-hub-timestamp", timestamp.to_string())
        .header("x-aigne-hub-signature", signed)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach the receiver: {e}"))?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {}", res.status()))
    }
}

/// `POST /.well-known/service/api/send-to-user` of Blocklet Server, as `@blocklet/sdk` makes it.
async fn to_blocklet_user(
    state: &AppState,
    user: &str,
    notification: &NotificationRow,
) -> Result<(), String> {
    let identity = &state.settings.identity;
    let (Some(service), Some(key)) = (&identity.notifications, &identity.app_key) else {
        return Err("not on Blocklet Server (no ABT_NODE_SERVICE_PORT or app key)".into());
    };
    let token = crate::blocklet::did_jwt::sign(key, chrono::Utc::now().timestamp())
        .ok_or("the app key cannot sign")?;
    let severity = match notification.severity.as_str() {
        s @ ("error" | "warning" | "success") => s,
        _ => "normal",
    };
    let body = json!({
        "apiVersion": "1.17.12",
        "data": {
            "sender": {"appDid": service.app_did, "token": token, "componentDid": identity.component_did},
            "receiver": user,
            "notification": {"type": "notification", "title": notification.title, "body": notification.body, "severity": severity},
            "options": {"keepForOfflineUser": true},
        },
    });
    let res = state
        .http
        .post(&service.url)
        .timeout(Duration::from_secs(10))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("cannot reach Blocklet Server's notification service: {e}"))?;
    let status = res.status();
    if status.is_success() {
        Ok(())
    } else {
        let text = res.text().await.unwrap_or_default();
        Err(format!(
            "Blocklet Server's notification service answered {status}: {}",
            text.chars().take(300).collect::<String>()
        ))
    }
}

/// Turns this instance's credential events into notifications.
pub async fn run_key_events(state: web::Data<AppState>) {
    let mut events = state.router.key_events();
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "credential notifications dropped");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        let notice = match event {
            KeyEvent::Disabled {
                credential_id,
                provider,
                reason,
            } => Notice {
                kind: "credential_disabled",
                severity: "error",
                title: format!("A {} key was disabled", provider.display_name()),
                body: format!(
                    "The provider refused it: {reason}. It is re-checked in the background and comes back once it works."
                ),
                data: json!({"credentialId": credential_id, "provider": provider.name(), "reason": reason}),
                user_did: None,
                id: None,
            },
            KeyEvent::Restored {
                credential_id,
                provider,
            } => Notice {
                kind: "credential_restored",
                severity: "success",
                title: format!("A {} key works again", provider.display_name()),
                body: "It passed its re-check and is back in rotation.".into(),
                data: json!({"credentialId": credential_id, "provider": provider.name()}),
                user_did: None,
                id: None,
            },
        };
        send(&state, notice).await;
    }
}

/// Rates the rate check newly found below cost.
pub async fn rates_below_cost(state: &AppState, findings: &[Finding]) {
    let names: Vec<String> = findings
        .iter()
        .map(|f| format!("{}/{}", f.provider, f.model))
        .collect();
    send(
        state,
        Notice {
            kind: "rate_below_cost",
            severity: "warning",
            title: format!("{} model rate(s) sold below cost", findings.len()),
            body: format!(
                "{} cost more than they earn at the current rates (GET /api/ai-providers/rate-check).",
                names.join(", ")
            ),
            data: json!({"rates": findings}),
            user_did: None,
            id: None,
        },
    )
    .await;
}

/// Credits granted to a user.
pub async fn credits_granted(state: &AppState, user_did: &str, amount: &str, grant_id: &str) {
    send(
        state,
        Notice {
            kind: "credits_granted",
            severity: "success",
            title: "Credits granted".into(),
            body: format!("{amount} credits were granted to {user_did}."),
            data: json!({"userDid": user_did, "amount": amount, "grantId": grant_id}),
            user_did: Some(user_did.to_owned()),
            id: Some(format!("credits_granted:{grant_id}")),
        },
    )
    .await;
}

/// Every `notifications.low_balance_check_secs`: users who made billed calls since the last look and whose balance is now
/// below `notifications.low_balance` are told, once per grant they received (the notice's id
/// names the user's latest grant).
pub async fn run_low_balance(state: web::Data<AppState>) {
    let threshold = state.settings.notifications.low_balance;
    if threshold.is_zero() || !state.settings.billing.enabled {
        return;
    }
    let mut since = chrono::Utc::now().naive_utc();
    let mut tick = tokio::time::interval(state.settings.notifications.low_balance_check);
    loop {
        tick.tick().await;
        let now = chrono::Utc::now().naive_utc();
        let users = state
            .db
            .run(move |conn| Ok::<_, DbError>(crate::db::model_calls::billed_users(conn, since)?))
            .await;
        let users = match users {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!("low-balance check: {e}");
                continue;
            }
        };
        since = now;
        for (user, role, latest_grant) in users {
            let position =
                crate::routes::user::credits::position(&state, user.clone(), &role).await;
            let balance = match position {
                Ok(p) => p.balance(),
                Err(e) => {
                    tracing::debug!(user, "low-balance check: {e}");
                    continue;
                }
            };
            if balance >= threshold {
                continue;
            }
            let text = crate::billing::credits::text(balance);
            send(
                &state,
                Notice {
                    kind: "balance_low",
                    severity: "warning",
                    title: "Credit balance is low".into(),
                    body: format!("{user} has {text} credits left (below {threshold})."),
                    data: json!({"userDid": user, "balance": text, "threshold": threshold.to_string()}),
                    id: Some(format!(
                        "balance_low:{user}:{}",
                        latest_grant.as_deref().unwrap_or("none")
                    )),
                    user_did: Some(user),
                },
            )
            .await;
        }
    }
}
