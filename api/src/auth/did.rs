//! ArcBlock DIDs (SPEC §7.4): `z` + base58btc(type(2) ‖ sha3_256(pk)[..20] ‖ checksum(4)).

use sha3::{Digest, Sha3_256};

/// The DID roles the Hub derives addresses for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DidRole {
    Account = 0,
    Application = 3,
}

const KEY_ED25519: u16 = 0;
const HASH_SHA3: u16 = 1;

fn type_bytes(role: DidRole) -> [u8; 2] {
    ((role as u16) << 10 | KEY_ED25519 << 5 | HASH_SHA3).to_be_bytes()
}

/// The address of an Ed25519 public key in `role`.
pub fn address(public_key: &[u8; 32], role: DidRole) -> String {
    let hash = Sha3_256::digest(public_key);
    let mut body = Vec::with_capacity(26);
    body.extend_from_slice(&type_bytes(role));
    body.extend_from_slice(&hash[..20]);
    let checksum = Sha3_256::digest(&body);
    body.extend_from_slice(&checksum[..4]);
    format!("z{}", bs58::encode(body).into_string())
}

/// Strips `did:abt:` and checks the base58 body and its checksum; returns the bare address.
pub fn validate(did: &str) -> Result<&str, &'static str> {
    let addr = did.strip_prefix("did:abt:").unwrap_or(did);
    let body = addr
        .strip_prefix('z')
        .ok_or("a DID address starts with 'z'")?;
    let bytes = bs58::decode(body).into_vec().map_err(|_| "not base58")?;
    if bytes.len() != 26 {
        return Err("wrong length for a DID address");
    }
    let checksum = Sha3_256::digest(&bytes[..22]);
    if checksum[..4] != bytes[22..] {
        return Err("checksum mismatch");
    }
    Ok(addr)
}

/// A stable application DID derived from the Hub's secret (its standalone identity).
pub fn application_did_from_secret(secret: &secrecy::SecretString) -> String {
    use secrecy::ExposeSecret;
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"aigne-hub"), secret.expose_secret().as_bytes());
    let mut seed = [0u8; 32];
    if hk.expand(b"aigne-hub app identity v1", &mut seed).is_err() {
        unreachable!("HKDF-SHA256 can always produce 32 bytes");
    }
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    address(&signing.verifying_key().to_bytes(), DidRole::Application)
}

/// A new random account DID (for users created without one).
pub fn new_account_did() -> String {
    let signing = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    address(&signing.verifying_key().to_bytes(), DidRole::Account)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SPEC §7.4 vector (interop-vectors/did-address.js, fixed key of its README).
    #[test]
    fn reproduces_spec_vectors() {
        let pk: [u8; 32] =
            hex::decode("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")
                .expect("hex")
                .try_into()
                .expect("32 bytes");
        assert_eq!(
            address(&pk, DidRole::Account),
            "z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP"
        );
        assert_eq!(
            address(&pk, DidRole::Application),
            "zNKa5mpgjBK9h5KQ5BxCSSPmy8F5NJwuSmxQ"
        );
    }

    #[test]
    fn validates_checksums() {
        assert_eq!(
            validate("did:abt:z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP"),
            Ok("z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP")
        );
        assert!(validate("z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WQ").is_err());
        assert!(validate("1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP").is_err());
        assert!(validate("z0OIl").is_err());
        let fresh = new_account_did();
        assert_eq!(validate(&fresh), Ok(fresh.as_str()));
    }
}
