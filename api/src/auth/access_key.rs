//! Hub access keys: `aigne-` + 40 random base62 characters. Only the SHA-256 is stored, with a
//! short display prefix.

use rand::Rng;
use sha2::{Digest, Sha256};

pub const KEY_PREFIX: &str = "aigne-";
const RANDOM_LEN: usize = 40;
const DISPLAY_LEN: usize = 12;
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A freshly generated key: the plaintext is shown once, never stored.
pub struct NewKey {
    pub plaintext: String,
    pub prefix: String,
    pub hash: String,
}

pub fn generate() -> NewKey {
    let mut rng = rand::rngs::OsRng;
    let random: String = (0..RANDOM_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    let plaintext = format!("{KEY_PREFIX}{random}");
    from_plaintext(plaintext)
}

/// The stored form of a given secret (used for `AIGNE_HUB_ADMIN_KEY`).
pub fn from_plaintext(plaintext: String) -> NewKey {
    NewKey {
        prefix: display_prefix(&plaintext),
        hash: hash(&plaintext),
        plaintext,
    }
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn display_prefix(token: &str) -> String {
    let head: String = token.chars().take(DISPLAY_LEN).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_distinct_keys() {
        let a = generate();
        let b = generate();
        assert!(a.plaintext.starts_with("aigne-"));
        assert_eq!(a.plaintext.len(), 46);
        assert_ne!(a.plaintext, b.plaintext);
        assert_eq!(a.hash, hash(&a.plaintext));
        assert_eq!(a.hash.len(), 64);
        assert!(a.plaintext.starts_with(a.prefix.trim_end_matches('…')));
        assert!(!a.hash.contains(&a.plaintext[6..]));
    }
}
