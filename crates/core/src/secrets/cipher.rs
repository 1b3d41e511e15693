//! AES-256-GCM with a key derived by HKDF-SHA256 from the configured secret.
//!
//! Stored form: `v1:` + base64(nonce(12) ‖ ciphertext ‖ tag(16)). The associated data binds a
//! value to its row (the credential id), so a value copied onto another row does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

const VERSION: &str = "v1:";
const HKDF_SALT: &[u8] = b"aigne-hub";
const HKDF_INFO: &[u8] = b"aigne-hub credential encryption v1";

/// Why a stored value could not be read. Never carries plaintext or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    #[error("stored value has an unknown format")]
    Format,
    #[error("stored value cannot be decrypted: wrong secret or tampered value")]
    Authentication,
}

/// Encrypts and decrypts credential values. Cheap to clone behind an `Arc`.
pub struct Cipher {
    aead: Aes256Gcm,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

impl Cipher {
    pub fn new(secret: &SecretString) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), secret.expose_secret().as_bytes());
        let mut key = [0u8; 32];
        // 32 bytes is always a valid HKDF-SHA256 output length.
        if hk.expand(HKDF_INFO, &mut key).is_err() {
            unreachable!("HKDF-SHA256 can always produce 32 bytes");
        }
        let aead = Aes256Gcm::new(&key.into());
        key.fill(0);
        Cipher { aead }
    }

    pub fn encrypt(&self, plaintext: &str, aad: &str) -> String {
        let nonce_bytes: [u8; 12] = rand::random();
        let nonce = Nonce::from_slice(&nonce_bytes);
        let sealed = self
            .aead
            .encrypt(
                nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_default(); // AES-GCM encryption fails only beyond 64 GiB inputs.
        let mut out = Vec::with_capacity(12 + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", STANDARD.encode(out))
    }

    pub fn decrypt(&self, stored: &str, aad: &str) -> Result<String, DecryptError> {
        let encoded = stored.strip_prefix(VERSION).ok_or(DecryptError::Format)?;
        let raw = STANDARD.decode(encoded).map_err(|_| DecryptError::Format)?;
        if raw.len() < 12 + 16 {
            return Err(DecryptError::Format);
        }
        let (nonce, sealed) = raw.split_at(12);
        let plain = self
            .aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| DecryptError::Authentication)?;
        String::from_utf8(plain).map_err(|_| DecryptError::Authentication)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(secret: &str) -> Cipher {
        Cipher::new(&SecretString::from(secret.to_owned()))
    }

    #[test]
    fn round_trips_and_hides_plaintext() {
        let c = cipher("0123456789abcdef-secret");
        let stored = c.encrypt("sk-live-abcdefghijklmnop", "cred-1");
        assert!(stored.starts_with("v1:"));
        assert!(!stored.contains("abcdefghijklmnop"));
        assert_eq!(
            c.decrypt(&stored, "cred-1").as_deref(),
            Ok("sk-live-abcdefghijklmnop")
        );
        // A fresh nonce each time.
        assert_ne!(stored, c.encrypt("sk-live-abcdefghijklmnop", "cred-1"));
    }

    #[test]
    fn wrong_secret_tamper_and_wrong_row_are_errors() {
        let c = cipher("0123456789abcdef-secret");
        let stored = c.encrypt("sk-value", "cred-1");
        assert_eq!(
            cipher("another-secret-0123456").decrypt(&stored, "cred-1"),
            Err(DecryptError::Authentication)
        );
        assert_eq!(
            c.decrypt(&stored, "cred-2"),
            Err(DecryptError::Authentication)
        );
        let mut raw = STANDARD.decode(&stored[3..]).expect("b64");
        let last = raw.len() - 1;
        raw[last] ^= 1;
        let tampered = format!("v1:{}", STANDARD.encode(raw));
        assert_eq!(
            c.decrypt(&tampered, "cred-1"),
            Err(DecryptError::Authentication)
        );
        assert_eq!(c.decrypt("plaintext", "cred-1"), Err(DecryptError::Format));
        assert_eq!(c.decrypt("v1:!!!", "cred-1"), Err(DecryptError::Format));
        assert_eq!(c.decrypt("v1:AAAA", "cred-1"), Err(DecryptError::Format));
    }
}
