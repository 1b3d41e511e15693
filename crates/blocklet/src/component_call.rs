//! The Hub's signed calls to other components of its app, made exactly like `@blocklet/sdk`'s
//! `component.call` (SPEC §7.3): the target is looked up in `BLOCKLET_MOUNT_POINTS`, and the
//! request carries `x-component-sig` over `{body, query, method, url, iat, exp}` with the app
//! key, `-iat`, `-exp`, `-version: 1` and `x-component-did`. The receiving side is the SDK's
//! `verifySig` middleware (an interop test runs the real one).

use super::mount_points::{self, MountPoint};
use crate::component_sig::{self, AppKey, SignedRequest};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("component '{0}' is not in BLOCKLET_MOUNT_POINTS")]
    UnknownComponent(String),
    #[error("component '{0}' has no port to call")]
    NoEndpoint(String),
    #[error("the app key can only verify (BLOCKLET_APP_SK or BLOCKLET_APP_ASK is needed to sign)")]
    CannotSign,
    #[error("calling component '{component}' failed: {source}")]
    Transport {
        component: String,
        source: reqwest::Error,
    },
}

/// One request to a component.
pub struct Call<'a> {
    pub component: &'a str,
    pub method: Method,
    /// Path on the component, starting with `/`, without the query.
    pub path: &'a str,
    /// Query pairs (strings, as the receiving side parses them).
    pub query: &'a [(&'a str, &'a str)],
    pub body: Option<&'a Value>,
}

#[derive(Clone)]
pub struct ComponentClient {
    http: reqwest::Client,
    key: AppKey,
    points: Vec<MountPoint>,
    /// This component's DID (`BLOCKLET_COMPONENT_DID`), sent as `x-component-did`.
    caller_did: Option<String>,
    timeout: Duration,
}

impl ComponentClient {
    pub fn new(
        http: reqwest::Client,
        key: AppKey,
        points: Vec<MountPoint>,
        caller_did: Option<String>,
    ) -> Self {
        ComponentClient {
            http,
            key,
            points,
            caller_did,
            timeout: Duration::from_secs(30),
        }
    }

    /// Sends `call` and returns the component's answer, whatever its status.
    pub async fn send(&self, call: &Call<'_>) -> Result<reqwest::Response, CallError> {
        let point = mount_points::find(&self.points, call.component)
            .ok_or_else(|| CallError::UnknownComponent(call.component.to_owned()))?;
        let base = point
            .endpoint()
            .ok_or_else(|| CallError::NoEndpoint(call.component.to_owned()))?;
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(call.query)
            .finish();
        let method = call.method.as_str().to_ascii_lowercase();
        let signed = SignedRequest {
            method: &method,
            path: call.path,
            query: &query,
            body: call.body,
        };
        let headers =
            component_sig::sign_request(&self.key, &signed, chrono::Utc::now().timestamp())
                .ok_or(CallError::CannotSign)?;
        let mut url = format!("{base}{}", call.path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        let mut req = self
            .http
            .request(call.method.clone(), url)
            .timeout(self.timeout);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        if let Some(did) = &self.caller_did {
            req = req.header(component_sig::HEADER_DID, did);
        }
        if let Some(body) = call.body {
            req = req.json(body);
        }
        req.send().await.map_err(|source| CallError::Transport {
            component: call.component.to_owned(),
            source,
        })
    }
}
