//! Component signatures (SPEC §7.3), byte for byte what `@blocklet/sdk` makes and checks: the
//! object `{body, query, method, url, iat, exp}` in canonical JSON ([`super::canonical`]), its
//! SHA3-256 digest signed with Ed25519 by the application key, sent as `x-component-sig: 0x…`
//! with `x-component-sig-iat`, `-exp` and `-version: 1`.

use crate::canonical;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Map, Value};
use sha3::{Digest, Sha3_256};

pub const HEADER_DID: &str = "x-component-did";
pub const HEADER_SIG: &str = "x-component-sig";
pub const HEADER_IAT: &str = "x-component-sig-iat";
pub const HEADER_EXP: &str = "x-component-sig-exp";
pub const HEADER_VERSION: &str = "x-component-sig-version";
/// How long a signature made by the Hub stays valid (what `@blocklet/sdk` uses).
pub const SIGNATURE_TTL_SECS: i64 = 300;
/// The furthest in the future an `iat` may be (clock skew allowance; older ones end at `exp`).
pub const MAX_IAT_SKEW_SECS: i64 = 300;

/// The application key pair: Blocklet Server gives every component of an app the same key.
#[derive(Clone)]
pub struct AppKey {
    signing: Option<SigningKey>,
    verifying: VerifyingKey,
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKey")
            .field("public_key", &hex::encode(self.verifying.to_bytes()))
            .field("can_sign", &self.signing.is_some())
            .finish()
    }
}

/// Why a key in the environment could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct KeyError(pub String);

fn hex_bytes(name: &str, value: &str) -> Result<Vec<u8>, KeyError> {
    let digits = value.trim();
    let digits = digits.strip_prefix("0x").unwrap_or(digits);
    hex::decode(digits).map_err(|_| KeyError(format!("{name} is not hex")))
}

impl AppKey {
    /// From `BLOCKLET_APP_ASK` or else `BLOCKLET_APP_SK` (hex: 64 bytes seed‖public key, or a
    /// 32-byte seed), or only `BLOCKLET_APP_PK` to verify without signing.
    pub fn from_env(
        ask: Option<&str>,
        sk: Option<&str>,
        pk: Option<&str>,
    ) -> Result<Option<AppKey>, KeyError> {
        let secret = ask
            .map(|v| ("BLOCKLET_APP_ASK", v))
            .or(sk.map(|v| ("BLOCKLET_APP_SK", v)));
        if let Some((name, value)) = secret {
            let bytes = hex_bytes(name, value)?;
            let seed: [u8; 32] = match bytes.len() {
                32 | 64 => bytes[..32]
                    .try_into()
                    .map_err(|_| KeyError(format!("{name} is too short")))?,
                n => {
                    return Err(KeyError(format!(
                        "{name} must be 32 or 64 bytes of hex, not {n}"
                    )));
                }
            };
            let signing = SigningKey::from_bytes(&seed);
            if bytes.len() == 64 && bytes[32..] != signing.verifying_key().to_bytes() {
                return Err(KeyError(format!(
                    "{name}: the public half does not belong to the seed"
                )));
            }
            return Ok(Some(AppKey {
                verifying: signing.verifying_key(),
                signing: Some(signing),
            }));
        }
        let Some(pk) = pk else { return Ok(None) };
        let bytes: [u8; 32] = hex_bytes("BLOCKLET_APP_PK", pk)?
            .try_into()
            .map_err(|_| KeyError("BLOCKLET_APP_PK must be 32 bytes of hex".into()))?;
        let verifying = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| KeyError("BLOCKLET_APP_PK is not an Ed25519 public key".into()))?;
        Ok(Some(AppKey {
            signing: None,
            verifying,
        }))
    }

    /// A verify-only key from raw public-key bytes (a registered remote app's key).
    pub fn from_public(public_key: &[u8; 32]) -> Result<AppKey, KeyError> {
        let verifying = VerifyingKey::from_bytes(public_key)
            .map_err(|_| KeyError("not an Ed25519 public key".into()))?;
        Ok(AppKey {
            signing: None,
            verifying,
        })
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.verifying.to_bytes()
    }

    pub fn can_sign(&self) -> bool {
        self.signing.is_some()
    }

    /// Signs `object` (`0x`-hex), or `None` when only the public key is known.
    pub fn sign(&self, object: &Value) -> Option<String> {
        let signing = self.signing.as_ref()?;
        let digest = Sha3_256::digest(canonical::to_string(object).as_bytes());
        Some(format!(
            "0x{}",
            hex::encode(signing.sign(&digest).to_bytes())
        ))
    }

    /// Signs `message` as it is (no hashing first), or `None` when only the public key is known.
    pub fn sign_bytes(&self, message: &[u8]) -> Option<[u8; 64]> {
        Some(self.signing.as_ref()?.sign(message).to_bytes())
    }

    /// Whether `signature` (`0x`-hex) signs `object` with this key.
    pub fn verify(&self, object: &Value, signature: &str) -> bool {
        let Ok(bytes) = hex_bytes("signature", signature) else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes.as_slice()) else {
            return false;
        };
        let digest = Sha3_256::digest(canonical::to_string(object).as_bytes());
        self.verifying
            .verify(&digest, &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

/// What a component signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path without the query string.
    pub path: &'a str,
    /// The raw query string (without `?`).
    pub query: &'a str,
    /// The parsed JSON body, or `None` for no body.
    pub body: Option<&'a Value>,
}

/// The query as `@blocklet/sdk` puts it in the signed object: every value a string, a repeated
/// key an array of its values (as Express parses it).
pub fn query_object(query: &str) -> Map<String, Value> {
    let mut map = Map::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = Value::String(value.into_owned());
        match map.get_mut(key.as_ref()) {
            Some(Value::Array(values)) => values.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                map.insert(key.into_owned(), value);
            }
        }
    }
    map
}

/// The signed object of a request.
pub fn signed_object(req: &SignedRequest<'_>, iat: i64, exp: i64) -> Value {
    let body = match req.body {
        Some(Value::Null) | None => Value::Object(Map::new()),
        Some(v) => v.clone(),
    };
    serde_json::json!({
        "body": body,
        "query": query_object(req.query),
        "method": req.method.to_ascii_lowercase(),
        "url": req.path,
        "iat": iat,
        "exp": exp,
    })
}

/// The headers of a signed outgoing request made at `now` (unix seconds).
pub fn sign_request(
    key: &AppKey,
    req: &SignedRequest<'_>,
    now: i64,
) -> Option<[(&'static str, String); 4]> {
    let exp = now + SIGNATURE_TTL_SECS;
    let sig = key.sign(&signed_object(req, now, exp))?;
    Some([
        (HEADER_SIG, sig),
        (HEADER_IAT, now.to_string()),
        (HEADER_EXP, exp.to_string()),
        (HEADER_VERSION, "1".to_owned()),
    ])
}

/// The signature headers of an incoming request.
pub struct Presented<'a> {
    pub sig: &'a str,
    pub iat: &'a str,
    pub exp: &'a str,
}

/// Why a component signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigError {
    #[error("component signature headers are malformed")]
    Malformed,
    #[error("component signature has expired")]
    Expired,
    #[error("component signature is issued in the future")]
    FromTheFuture,
    #[error("component signature does not match the request")]
    Mismatch,
}

/// Checks a presented signature at `now`; `prefixed_path` is the path with `x-path-prefix`,
/// tried when the plain path does not match.
pub fn verify_request(
    key: &AppKey,
    presented: &Presented<'_>,
    req: &SignedRequest<'_>,
    prefixed_path: Option<&str>,
    now: i64,
) -> Result<(), SigError> {
    let iat: i64 = presented
        .iat
        .trim()
        .parse()
        .map_err(|_| SigError::Malformed)?;
    let exp: i64 = presented
        .exp
        .trim()
        .parse()
        .map_err(|_| SigError::Malformed)?;
    if exp < now {
        return Err(SigError::Expired);
    }
    if iat > now + MAX_IAT_SKEW_SECS {
        return Err(SigError::FromTheFuture);
    }
    if key.verify(&signed_object(req, iat, exp), presented.sig) {
        return Ok(());
    }
    if let Some(path) = prefixed_path {
        let retry = SignedRequest { path, ..*req };
        if key.verify(&signed_object(&retry, iat, exp), presented.sig) {
            return Ok(());
        }
    }
    Err(SigError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The fixed key of interop-vectors/README.md.
    const SK: &str = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";
    const VECTOR_SIG: &str = "0x5298ccc1baa527c2e5984a91669dd55ad8a4d87e977c7313196b669276a20e5dfd17f4cf40f928da86f0fded8c26a90b51bb93798d3c323564b759b48450a707";

    fn key() -> AppKey {
        AppKey::from_env(None, Some(SK), None)
            .expect("key")
            .expect("some key")
    }

    fn body() -> Value {
        json!({"event_name":"aigne_hub_ai_usage","payload":{"customer_id":"z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP","value":"0.0042"},"identifier":"req-123","timestamp":1700000000})
    }

    fn request(body: &Value) -> SignedRequest<'_> {
        SignedRequest {
            method: "POST",
            path: "/api/meter-events",
            query: "livemode=true",
            body: Some(body),
        }
    }

    #[test]
    fn reproduces_the_sdk_vector() {
        let body = body();
        let object = signed_object(&request(&body), 1_700_000_000, 1_700_000_300);
        let digest = Sha3_256::digest(canonical::to_string(&object).as_bytes());
        assert_eq!(
            hex::encode(digest),
            "9b99ea1444192613aa949cacb05e60c635789b6cbd31ce0db6ae4cae3045c8ac"
        );
        assert_eq!(key().sign(&object).as_deref(), Some(VECTOR_SIG));
        let headers = sign_request(&key(), &request(&body), 1_700_000_000).expect("signs");
        assert_eq!(headers[0].1, VECTOR_SIG);
        assert_eq!(headers[2].1, "1700000300");
    }

    fn presented() -> Presented<'static> {
        Presented {
            sig: VECTOR_SIG,
            iat: "1700000000",
            exp: "1700000300",
        }
    }

    #[test]
    fn accepts_the_vector_and_refuses_tampering() {
        let body = body();
        let now = 1_700_000_100;
        let k = key();
        assert_eq!(
            verify_request(&k, &presented(), &request(&body), None, now),
            Ok(())
        );
        // Verifying needs only the public key.
        let public = AppKey::from_env(
            None,
            None,
            Some("0x03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"),
        )
        .expect("pk")
        .expect("some");
        assert!(!public.can_sign());
        assert_eq!(
            verify_request(&public, &presented(), &request(&body), None, now),
            Ok(())
        );

        let mut tampered = body.clone();
        tampered["payload"]["value"] = json!("0.0001");
        assert_eq!(
            verify_request(&k, &presented(), &request(&tampered), None, now),
            Err(SigError::Mismatch)
        );
        let other_query = SignedRequest {
            query: "livemode=false",
            ..request(&body)
        };
        assert_eq!(
            verify_request(&k, &presented(), &other_query, None, now),
            Err(SigError::Mismatch)
        );
        let other_method = SignedRequest {
            method: "PUT",
            ..request(&body)
        };
        assert_eq!(
            verify_request(&k, &presented(), &other_method, None, now),
            Err(SigError::Mismatch)
        );
        let other_path = SignedRequest {
            path: "/api/credit-grants",
            ..request(&body)
        };
        assert_eq!(
            verify_request(&k, &presented(), &other_path, None, now),
            Err(SigError::Mismatch)
        );
        // Same request, signature made by another app's key.
        let other = AppKey::from_env(None, Some(&format!("0x{}", "11".repeat(32))), None)
            .expect("other")
            .expect("some");
        let object = signed_object(&request(&body), 1_700_000_000, 1_700_000_300);
        let foreign = other.sign(&object).expect("sig");
        let p = Presented {
            sig: &foreign,
            ..presented()
        };
        assert_eq!(
            verify_request(&k, &p, &request(&body), None, now),
            Err(SigError::Mismatch)
        );
    }

    #[test]
    fn time_bounds() {
        let body = body();
        let k = key();
        assert_eq!(
            verify_request(&k, &presented(), &request(&body), None, 1_700_000_301),
            Err(SigError::Expired)
        );
        assert_eq!(
            verify_request(&k, &presented(), &request(&body), None, 1_699_999_000),
            Err(SigError::FromTheFuture)
        );
        let bad = Presented {
            iat: "soon",
            ..presented()
        };
        assert_eq!(
            verify_request(&k, &bad, &request(&body), None, 1_700_000_100),
            Err(SigError::Malformed)
        );
    }

    #[test]
    fn retries_with_the_path_prefix() {
        let body = body();
        let k = key();
        let mounted = SignedRequest {
            path: "/ai-kit/api/meter-events",
            ..request(&body)
        };
        let object = signed_object(&mounted, 1_700_000_000, 1_700_000_300);
        let sig = k.sign(&object).expect("sig");
        let p = Presented {
            sig: &sig,
            ..presented()
        };
        assert_eq!(
            verify_request(&k, &p, &request(&body), None, 1_700_000_100),
            Err(SigError::Mismatch)
        );
        assert_eq!(
            verify_request(
                &k,
                &p,
                &request(&body),
                Some("/ai-kit/api/meter-events"),
                1_700_000_100
            ),
            Ok(())
        );
    }

    #[test]
    fn empty_body_and_repeated_query_keys() {
        let object = signed_object(
            &SignedRequest {
                method: "GET",
                path: "/api/x",
                query: "a=1&b=x%20y&a=2",
                body: None,
            },
            1,
            2,
        );
        assert_eq!(
            canonical::to_string(&object),
            r#"{"body":{},"exp":2,"iat":1,"method":"get","query":{"a":["1","2"],"b":"x y"},"url":"/api/x"}"#
        );
    }

    #[test]
    fn bad_keys_are_named() {
        assert!(AppKey::from_env(None, Some("0xzz"), None).is_err());
        assert!(AppKey::from_env(None, Some("0x0102"), None).is_err());
        let wrong_half = format!("0x{}{}", "00".repeat(32), "11".repeat(32));
        assert!(AppKey::from_env(None, Some(&wrong_half), None).is_err());
        assert!(matches!(AppKey::from_env(None, None, None), Ok(None)));
    }
}
