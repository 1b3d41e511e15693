//! Profiles of Blocklet Server's users (Blocklet mode): `getUser` on Blocklet Server's GraphQL
//! API, signed as the app, cached for a few minutes. `/api/user/info` shows them; when Blocklet
//! Server cannot be asked the Hub answers with what it knows itself.

use super::blocklet_key::signed_gql;
use crate::config::ServerAccess;
use moka::future::Cache;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(300);

/// A user as Blocklet Server knows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub avatar: Option<String>,
}

#[derive(Clone)]
pub struct BlockletUsers {
    server: Option<Arc<ServerAccess>>,
    http: reqwest::Client,
    cache: Cache<String, Option<Profile>>,
}

impl BlockletUsers {
    pub fn new(server: Option<ServerAccess>, http: reqwest::Client) -> Self {
        BlockletUsers {
            server: server.map(Arc::new),
            http,
            cache: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(TTL)
                .build(),
        }
    }

    /// The user's profile at Blocklet Server; `None` outside Blocklet Server, for a user it
    /// does not know, or when it cannot be asked now (that is not cached).
    pub async fn profile(&self, did: &str) -> Option<Profile> {
        let server = self.server.as_ref()?;
        if let Some(known) = self.cache.get(did).await {
            return known;
        }
        let literal = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let query = format!(
            "query {{\n  getUser(input: {{teamDid: {}, user: {{did: {}}}}}) {{\n    code\n    \
             user {{\n      did\n      fullName\n      email\n      avatar\n    }}\n  }}\n}}",
            literal(&server.team_did),
            literal(did)
        );
        let answer: Value = match signed_gql(&self.http, server, &query).await {
            Ok(res) if res.status().is_success() => match res.json().await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!("Blocklet Server getUser: unreadable answer ({e})");
                    return None;
                }
            },
            Ok(res) => {
                tracing::warn!("Blocklet Server getUser answered {}", res.status());
                return None;
            }
            Err(e) => {
                tracing::warn!("Blocklet Server getUser: {e}");
                return None;
            }
        };
        let user = &answer["data"]["getUser"]["user"];
        let text = |k: &str| {
            user[k]
                .as_str()
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let found = user.is_object().then(|| Profile {
            full_name: text("fullName"),
            email: text("email"),
            avatar: text("avatar"),
        });
        self.cache.insert(did.to_owned(), found.clone()).await;
        found
    }
}
