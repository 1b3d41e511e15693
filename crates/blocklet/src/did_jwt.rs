//! The DID-signed JWT Blocklet Server's services accept from an app (what `@ocap/wallet`'s
//! `signJWT()` makes, version 1.0.0): header `{"alg":"Ed25519","type":"JWT"}` and body
//! `{exp, iat, iss: "did:abt:<app address>", nbf, version}` as sorted-key JSON, each base64url
//! without padding; the signature is Ed25519 over the ASCII text `header.body`.

use crate::component_sig::AppKey;
use crate::did::{DidRole, address};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How long a token is valid (the SDK's five minutes).
pub const LIFETIME_SECS: i64 = 300;

/// A token for `key`, issued at `now` (unix seconds); `None` when the key cannot sign.
pub fn sign(key: &AppKey, now: i64) -> Option<String> {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"Ed25519","type":"JWT"}"#);
    let iss = format!(
        "did:abt:{}",
        address(&key.public_key(), DidRole::Application)
    );
    // Sorted keys, timestamps as strings: the SDK's stable stringify of its body.
    let body = serde_json::json!({
        "exp": (now + LIFETIME_SECS).to_string(),
        "iat": now.to_string(),
        "iss": iss,
        "nbf": now.to_string(),
        "version": "1.0.0",
    });
    let body = URL_SAFE_NO_PAD.encode(crate::canonical::to_string(&body));
    let message = format!("{header}.{body}");
    let signature = key.sign_bytes(message.as_bytes())?;
    Some(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};

    #[test]
    fn a_token_is_signed_by_the_app_key_over_header_and_body() {
        let key = AppKey::from_env(Some(&"11".repeat(32)), None, None)
            .expect("key")
            .expect("some");
        let token = sign(&key, 1_700_000_000).expect("token");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header = URL_SAFE_NO_PAD.decode(parts[0]).expect("header");
        assert_eq!(header, br#"{"alg":"Ed25519","type":"JWT"}"#);
        let body: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("body")).expect("json");
        assert_eq!(body["iat"], "1700000000");
        assert_eq!(body["exp"], "1700000300");
        assert!(
            body["iss"]
                .as_str()
                .is_some_and(|i| i.starts_with("did:abt:z"))
        );
        let signature: [u8; 64] = URL_SAFE_NO_PAD
            .decode(parts[2])
            .expect("sig")
            .try_into()
            .expect("64 bytes");
        let pk = VerifyingKey::from_bytes(&key.public_key()).expect("pk");
        let signed = format!("{}.{}", parts[0], parts[1]);
        assert!(
            pk.verify(signed.as_bytes(), &Signature::from_bytes(&signature))
                .is_ok()
        );
        assert!(
            pk.verify(b"other", &Signature::from_bytes(&signature))
                .is_err()
        );
        let verify_only = AppKey::from_public(&key.public_key()).expect("pk");
        assert!(sign(&verify_only, 1).is_none());
    }
}
