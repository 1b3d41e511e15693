//! Blocklet login tokens (SPEC §7.1): the `login_token` that Blocklet Server's DID Connect issues,
//! an HS256 JWT keyed by the UTF-8 bytes of the session secret. The secret is
//! `BLOCKLET_SESSION_SECRET`, or else the string `"0x" + hex(sha3_256(BLOCKLET_APP_SK ‖ app address
//! ‖ BLOCKLET_APP_SALT))` (the SK as its hex text), as `@blocklet/sdk`'s `getSessionSecret` makes it.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha3::{Digest, Sha3_256};

/// The session secret, or `None` outside Blocklet Server (no secret, no app key).
pub fn session_secret(
    explicit: Option<&str>,
    app_sk: Option<&str>,
    app_address: &str,
    salt: &str,
) -> Option<String> {
    if let Some(secret) = explicit.filter(|s| !s.is_empty()) {
        return Some(secret.to_owned());
    }
    let sk = app_sk.filter(|s| !s.is_empty())?;
    let mut hasher = Sha3_256::new();
    hasher.update(sk.as_bytes());
    hasher.update(app_address.as_bytes());
    hasher.update(salt.as_bytes());
    Some(format!("0x{}", hex::encode(hasher.finalize())))
}

/// The user a login token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUser {
    pub did: String,
    pub role: String,
    pub full_name: Option<String>,
    pub provider: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    did: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
}

/// Why a login token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("login token has expired")]
    Expired,
    #[error("a refresh token cannot be used to call the Hub")]
    Refresh,
    #[error("login token is invalid")]
    Invalid,
}

/// Verifies `token` with `secret`: HS256 only (never `none`), `exp` required and enforced with no
/// leeway, refresh tokens refused.
pub fn verify(token: &str, secret: &str) -> Result<LoginUser, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
        _ => TokenError::Invalid,
    })?;
    let claims = data.claims;
    if claims.token_type.as_deref() == Some("refresh") {
        return Err(TokenError::Refresh);
    }
    if claims.did.is_empty() {
        return Err(TokenError::Invalid);
    }
    Ok(LoginUser {
        did: claims.did,
        role: claims.role.unwrap_or_else(|| "guest".to_owned()),
        full_name: claims.full_name,
        provider: claims.provider,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const SK: &str = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
    const APP: &str = "zNKa5mpgjBK9h5KQ5BxCSSPmy8F5NJwuSmxQ";
    /// Minted by `jsonwebtoken` in node with the derived secret (interop-vectors/session-jwt.js).
    const VECTOR_TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkaWQiOiJ6MVRubzM3NDhBeEJVeXNtNG1QRE5pYnBMbVJ0V3ZFdDRXUCIsInJvbGUiOiJvd25lciIsImZ1bGxOYW1lIjoiQWxpY2UiLCJwcm92aWRlciI6IndhbGxldCIsIndhbGxldE9TIjoid2ViIiwia3ljIjoxLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.UYkvWdI5kH5gP1ullmV4JzK4obDi89gVqDdv0glvZBE";

    fn derived() -> String {
        session_secret(None, Some(SK), APP, "test-salt").expect("secret")
    }

    fn mint(claims: serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("mint")
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn derives_the_sdk_secret_and_prefers_the_explicit_one() {
        assert_eq!(
            derived(),
            "0x6dbe5e8c42ea6bff682ad6ef5de36b03ca018e381bdfee0c1c793784a9533b18"
        );
        assert_eq!(
            session_secret(Some("explicit-secret"), Some(SK), APP, "x").as_deref(),
            Some("explicit-secret")
        );
        assert_eq!(session_secret(None, None, APP, "x"), None);
    }

    #[test]
    fn accepts_the_sdk_vector() {
        let user = verify(VECTOR_TOKEN, &derived()).expect("valid");
        assert_eq!(
            user,
            LoginUser {
                did: "z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP".into(),
                role: "owner".into(),
                full_name: Some("Alice".into()),
                provider: Some("wallet".into()),
            }
        );
        let tampered = format!("{}AA", &VECTOR_TOKEN[..VECTOR_TOKEN.len() - 2]);
        assert_eq!(verify(&tampered, &derived()), Err(TokenError::Invalid));
        assert_eq!(
            verify(VECTOR_TOKEN, "wrong-secret"),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn explicit_secret_tokens() {
        let token = mint(
            json!({"did": "zA", "role": "member", "exp": now() + 60}),
            "explicit-secret",
        );
        assert_eq!(
            verify(&token, "explicit-secret").map(|u| u.role),
            Ok("member".into())
        );
        assert_eq!(verify(&token, &derived()), Err(TokenError::Invalid));
    }

    #[test]
    fn refuses_expired_refresh_unsigned_and_malformed() {
        let secret = derived();
        let expired = mint(
            json!({"did": "zA", "role": "owner", "exp": now() - 1}),
            &secret,
        );
        assert_eq!(verify(&expired, &secret), Err(TokenError::Expired));
        let refresh = mint(
            json!({"did": "zA", "role": "owner", "tokenType": "refresh", "exp": now() + 60}),
            &secret,
        );
        assert_eq!(verify(&refresh, &secret), Err(TokenError::Refresh));
        let no_exp = mint(json!({"did": "zA", "role": "owner"}), &secret);
        assert_eq!(verify(&no_exp, &secret), Err(TokenError::Invalid));
        // alg "none": header and claims, no signature.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(format!(
                r#"{{"did":"zA","role":"owner","exp":{}}}"#,
                now() + 60
            ))
        );
        assert_eq!(verify(&none, &secret), Err(TokenError::Invalid));
        for junk in ["", "a.b", "a.b.c", "not a token", "...."] {
            assert_eq!(verify(junk, &secret), Err(TokenError::Invalid), "{junk}");
        }
    }
}
