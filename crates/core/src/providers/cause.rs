//! Why a provider refused a call, read from its error answer.
//!
//! The status alone misleads: a 403 may be a revoked key, a region the provider does not serve,
//! a model this key may not use or a moderation refusal, and some dead keys and empty accounts
//! come back as 400 (Google's invalid key, xAI's wrong key, Anthropic's empty balance) or 429
//! (OpenAI's exhausted quota). Only a key that is invalid or an account that cannot pay should
//! take a credential out of rotation; the rest fail the call and leave the key alone. The
//! signals are the providers' machine-readable codes (`error.code`, `error.type`, Google's
//! `error.status` and `details[].reason`, Bedrock's `x-amzn-ErrorType`) and, where a provider has
//! none, the fixed wording of its message. Fixtures of each provider's real bodies are in
//! `tests/fixtures/errors/`.

use serde_json::Value;

/// What an error answer says about the credential and the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cause {
    /// Nothing recognisable: the status decides.
    #[default]
    Unknown,
    /// The key is invalid, revoked, expired or barred from the API.
    Auth,
    /// The account behind the key has no credit or quota left, or no valid way to pay.
    Billing,
    /// The provider refused this content (moderation, safety filters).
    Policy,
    /// The provider does not serve the Hub's location.
    Region,
    /// This key may not use this model or operation; its other calls still work.
    Permission,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Unknown => "unknown",
            Cause::Auth => "auth",
            Cause::Billing => "billing",
            Cause::Policy => "policy",
            Cause::Region => "region",
            Cause::Permission => "permission",
        }
    }
}

/// Reads the cause of an error answer: its status, Bedrock's `x-amzn-ErrorType` header (if
/// any) and its body (JSON or text).
pub fn read(status: u16, error_type: Option<&str>, body: &[u8]) -> Cause {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let mut codes: Vec<String> = Vec::new();
    if let Some(t) = error_type {
        // `UnrecognizedClientException:http://internal.amazon.com/coral/…`
        codes.push(t.split(':').next().unwrap_or(t).to_owned());
    }
    if let Some(v) = &json {
        for pointer in [
            "/error/code",
            "/error/type",
            "/error/status",
            "/code",
            "/__type",
            "/type",
            "/error/metadata/reason",
        ] {
            if let Some(s) = v.pointer(pointer).and_then(Value::as_str) {
                // `__type` may be namespaced: `com.amazon…#AccessDeniedException`.
                codes.push(s.rsplit('#').next().unwrap_or(s).to_owned());
            }
        }
        if let Some(details) = v.pointer("/error/details").and_then(Value::as_array) {
            codes.extend(
                details
                    .iter()
                    .filter_map(|d| d.get("reason").and_then(Value::as_str))
                    .map(str::to_owned),
            );
        }
        if v.pointer("/error/metadata/flagged_input").is_some() {
            return Cause::Policy;
        }
    }
    let message = json
        .as_ref()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error").filter(|e| e.is_string()))
                .or_else(|| v.get("message"))
                .or_else(|| v.get("Message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
        .to_ascii_lowercase();
    let has = |code: &str| codes.iter().any(|c| c.eq_ignore_ascii_case(code));
    let says = |text: &str| message.contains(text);

    // Codes first: they are the providers' contract.
    if [
        "invalid_api_key",
        "authentication_error",
        "account_deactivated",
        "API_KEY_INVALID",
        "API_KEY_EXPIRED",
        "API_KEY_SERVICE_BLOCKED",
        "API_KEY_HTTP_REFERRER_BLOCKED",
        "API_KEY_IP_ADDRESS_BLOCKED",
        "API_KEY_ANDROID_APP_BLOCKED",
        "API_KEY_IOS_APP_BLOCKED",
        "SERVICE_DISABLED",
        "CONSUMER_INVALID",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignatureException",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
        "AuthenticationError",
    ]
    .iter()
    .any(|c| has(c))
    {
        return Cause::Auth;
    }
    if [
        "insufficient_quota",
        "billing_error",
        "billing_hard_limit_reached",
        "billing_not_active",
        "AccountOverdueError",
    ]
    .iter()
    .any(|c| has(c))
    {
        return Cause::Billing;
    }
    if has("unsupported_country_region_territory") {
        return Cause::Region;
    }
    if [
        "content_policy_violation",
        "content_filter",
        "moderation_blocked",
        "InputTextSensitiveContentDetected",
        "OutputTextSensitiveContentDetected",
        "SensitiveContentDetected",
    ]
    .iter()
    .any(|c| has(c))
    {
        return Cause::Policy;
    }

    // Then the wording of providers that send no code for it.
    if [
        "api key not valid",
        "incorrect api key",
        "invalid api key",
        "invalid x-api-key",
        "security token included in the request is invalid",
        "request signature we calculated does not match",
        "unregistered callers",
        "organization has been disabled",
        "api key expired",
    ]
    .iter()
    .any(|t| says(t))
    {
        return Cause::Auth;
    }
    if [
        "credit balance is too low",
        "insufficient balance",
        "insufficient credits",
        "doesn't have any credits",
        "used all available credits",
        "monthly spending limit",
        "payment instrument",
    ]
    .iter()
    .any(|t| says(t))
    {
        return Cause::Billing;
    }
    // Google words every rate limit (a 429) this way; elsewhere it means an empty account.
    if status != 429 && says("exceeded your current quota") {
        return Cause::Billing;
    }
    if [
        "country, region, or territory not supported",
        "user location is not supported",
        "not available in your region",
        "not available in your country",
        "unsupported region",
    ]
    .iter()
    .any(|t| says(t))
    {
        return Cause::Region;
    }
    if [
        "flagged for moderation",
        "violates usage guidelines",
        "content management policy",
        "safety system",
        "content exists risk",
    ]
    .iter()
    .any(|t| says(t))
    {
        return Cause::Policy;
    }
    if status == 403
        && (has("permission_error")
            || has("AccessDeniedException")
            || has("PERMISSION_DENIED")
            || has("model_not_found")
            || says("does not have access to")
            || says("don't have access to the model")
            || says("not authorized to perform"))
    {
        return Cause::Permission;
    }
    // Anthropic's answer to a request from a location it does not serve.
    if status == 403 && has("forbidden") && says("request not allowed") {
        return Cause::Region;
    }
    Cause::Unknown
}

#[cfg(test)]
mod tests {
    use super::{Cause, read};
    use crate::providers::{FailureClass, UpstreamError};
    use serde_json::Value;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/errors");

    /// Every fixture (`{status, headers?, body, cause}`, a real provider's answer) reads as the
    /// cause it is filed under.
    #[test]
    fn real_error_bodies_read_as_their_cause() {
        let mut seen = 0;
        let mut providers = std::collections::BTreeSet::new();
        for provider in std::fs::read_dir(FIXTURES).expect("fixtures") {
            let provider = provider.expect("entry").path();
            for file in std::fs::read_dir(&provider).expect("provider dir") {
                let path = file.expect("entry").path();
                let text = std::fs::read_to_string(&path).expect("read");
                let fixture: Value = serde_json::from_str(&text).expect("fixture JSON");
                let status = fixture["status"].as_u64().expect("status") as u16;
                let error_type = fixture.pointer("/headers/x-amzn-errortype");
                let body = match &fixture["body"] {
                    Value::String(s) => s.clone().into_bytes(),
                    other => other.to_string().into_bytes(),
                };
                let expected = fixture["cause"].as_str().expect("cause");
                let got = read(status, error_type.and_then(Value::as_str), &body);
                assert_eq!(got.as_str(), expected, "{}", path.display());
                let error = UpstreamError::Status {
                    provider: "fixture",
                    status,
                    message: String::new(),
                    retry_after: None,
                    cause: got,
                };
                let class = match error.class() {
                    FailureClass::Credential => "credential",
                    FailureClass::RateLimited => "rate_limited",
                    FailureClass::Transient => "transient",
                    FailureClass::Request => "request",
                    FailureClass::Refused => "refused",
                };
                assert_eq!(class, fixture["class"], "{}", path.display());
                seen += 1;
            }
            providers.insert(provider.file_name().expect("name").to_owned());
        }
        for p in [
            "openai",
            "anthropic",
            "google",
            "bedrock",
            "deepseek",
            "xai",
            "openrouter",
        ] {
            assert!(
                providers.contains(std::ffi::OsStr::new(p)),
                "no fixtures for {p}"
            );
        }
        assert!(seen >= 25, "only {seen} fixtures");
    }

    #[test]
    fn unreadable_bodies_are_unknown() {
        assert_eq!(read(403, None, b""), Cause::Unknown);
        assert_eq!(read(403, None, b"<html>Forbidden</html>"), Cause::Unknown);
        assert_eq!(
            read(500, None, br#"{"error":{"message":"boom"}}"#),
            Cause::Unknown
        );
    }
}
