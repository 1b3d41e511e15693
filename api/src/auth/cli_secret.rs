//! The access key handed to `aigne hub connect`, encrypted the way the CLI decrypts it: a
//! passphrase of hex(PBKDF2-HMAC-SHA512(password = the session's challenge, salt = the access
//! key's id, 256 rounds, 32 bytes)), used as CryptoJS's `AES.encrypt(text, passphrase)` does —
//! OpenSSL's salted format, `base64("Salted__" ‖ 8-byte salt ‖ AES-256-CBC(PKCS#7))` with key and
//! IV from EVP_BytesToKey(MD5, one round).

use aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use rand::RngCore;

const MAGIC: &[u8; 8] = b"Salted__";

fn passphrase(access_key_id: &str, challenge: &str) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(
        challenge.as_bytes(),
        access_key_id.as_bytes(),
        256,
        &mut out,
    );
    hex::encode(out)
}

/// Key and IV for `passphrase` and `salt` (EVP_BytesToKey with MD5, as CryptoJS derives them).
fn key_iv(passphrase: &str, salt: &[u8; 8]) -> ([u8; 32], [u8; 16]) {
    let mut both = [0u8; 48];
    evpkdf::evpkdf::<md5::Md5>(passphrase.as_bytes(), salt, 1, &mut both);
    let mut key = [0u8; 32];
    let mut iv = [0u8; 16];
    key.copy_from_slice(&both[..32]);
    iv.copy_from_slice(&both[32..]);
    (key, iv)
}

/// `secret` encrypted for the CLI that holds `challenge` (see the module's note).
pub fn encrypt(secret: &str, access_key_id: &str, challenge: &str) -> String {
    let mut salt = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let (key, iv) = key_iv(&passphrase(access_key_id, challenge), &salt);
    let sealed = cbc::Encryptor::<Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(secret.as_bytes());
    let mut out = Vec::with_capacity(16 + sealed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&salt);
    out.extend_from_slice(&sealed);
    STANDARD.encode(out)
}

/// What the CLI does with [`encrypt`]'s text (for checks; the Hub itself never decrypts).
pub fn decrypt(text: &str, access_key_id: &str, challenge: &str) -> Option<String> {
    let raw = STANDARD.decode(text).ok()?;
    let rest = raw.strip_prefix(MAGIC.as_slice())?;
    let (salt, sealed) = rest.split_at_checked(8)?;
    let salt: [u8; 8] = salt.try_into().ok()?;
    let (key, iv) = key_iv(&passphrase(access_key_id, challenge), &salt);
    let plain = cbc::Decryptor::<Aes256>::new(&key.into(), &iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(sealed)
        .ok()?;
    String::from_utf8(plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decrypts_what_cryptojs_wrote() {
        // Made by the CLI's own code path: crypto-js 4.2 `AES.encrypt(text, passphrase)` with the
        // passphrase from Node's `pbkdf2Sync(challenge, accessKeyId, 256, 32, "sha512")`.
        let written = "U2FsdGVkX1+pZmsHt+xyIOW66wIYkW2JmMIuZrd89hvub3jECdjpTa7K4H3hQTVC";
        assert_eq!(
            decrypt(written, "key-id-1", "challenge-1").as_deref(),
            Some("aigne-secret-value")
        );
    }

    #[test]
    fn round_trips_and_fails_with_another_challenge() {
        let text = encrypt("aigne-0123456789abcdef", "0190-key", "c0ffee");
        assert!(text.starts_with("U2FsdGVkX1"), "{text}"); // base64 of "Salted__"
        assert_eq!(
            decrypt(&text, "0190-key", "c0ffee").as_deref(),
            Some("aigne-0123456789abcdef")
        );
        assert_ne!(
            decrypt(&text, "0190-key", "other").as_deref(),
            Some("aigne-0123456789abcdef")
        );
        // A fresh salt each time.
        assert_ne!(
            text,
            encrypt("aigne-0123456789abcdef", "0190-key", "c0ffee")
        );
    }
}
