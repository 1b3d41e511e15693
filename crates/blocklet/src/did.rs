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

/// The multicodec prefix of an Ed25519 public key (0xed, as an unsigned varint).
const MULTICODEC_ED25519: [u8; 2] = [0xed, 0x01];

/// `did:key:z6Mk…` of an Ed25519 public key (W3C did:key: multibase base58btc of the multicodec
/// key). The `did-key` crate was the suggested tool, but it no longer builds (its `did_url`
/// needs an old `form_urlencoded`) and depends on `ed25519-dalek` 1 / `curve25519-dalek` 3; the
/// Ed25519 form is this one line, checked against the method's published vector below.
pub fn did_key(public_key: &[u8; 32]) -> String {
    let mut bytes = MULTICODEC_ED25519.to_vec();
    bytes.extend_from_slice(public_key);
    format!("did:key:z{}", bs58::encode(bytes).into_string())
}

/// The Ed25519 public key of a `did:key` (other key types are refused).
pub fn did_key_public_key(did: &str) -> Result<[u8; 32], &'static str> {
    let id = did
        .strip_prefix("did:key:")
        .ok_or("a did:key starts with 'did:key:'")?;
    let id = id.split('#').next().unwrap_or(id);
    let body = id
        .strip_prefix('z')
        .ok_or("did:key must be multibase base58btc ('z…')")?;
    let bytes = bs58::decode(body)
        .into_vec()
        .map_err(|_| "did:key is not base58")?;
    let key = bytes
        .strip_prefix(&MULTICODEC_ED25519)
        .ok_or("only Ed25519 did:key identities are accepted")?;
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| "wrong length for an Ed25519 did:key")?;
    ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| "not an Ed25519 public key")?;
    Ok(key)
}

/// A DID where one is expected (a user's or an app's): `did:abt:z…` or a bare `z…` address
/// (checksum checked), or an Ed25519 `did:key`, which becomes the ABT address of its key in `role`
/// (so one key is one identity whichever form it arrives in). Returns the bare address.
pub fn normalize(did: &str, role: DidRole) -> Result<String, &'static str> {
    let did = did.trim();
    if did.starts_with("did:key:") {
        return did_key_public_key(did).map(|pk| address(&pk, role));
    }
    validate(did).map(str::to_owned)
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

    /// The did:key method's first Ed25519 vector: the all-zero seed's public key.
    #[test]
    fn did_key_vector_and_normalize() {
        let pk: [u8; 32] =
            hex::decode("3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29")
                .expect("hex")
                .try_into()
                .expect("32");
        let seed_pk = ed25519_dalek::SigningKey::from_bytes(&[0u8; 32])
            .verifying_key()
            .to_bytes();
        assert_eq!(seed_pk, pk);
        let did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp";
        assert_eq!(did_key(&pk), did);
        assert_eq!(did_key_public_key(did), Ok(pk));
        assert_eq!(did_key_public_key(&format!("{did}#z6Mk")), Ok(pk));
        assert_eq!(
            normalize(did, DidRole::Account),
            Ok(address(&pk, DidRole::Account))
        );
        // A secp256k1 did:key (multicodec 0xe7) is refused, as are broken ones.
        assert!(
            did_key_public_key("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")
                .is_err()
        );
        assert!(
            did_key_public_key("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW").is_err()
        );
        assert!(did_key_public_key("did:key:6Mk").is_err());
        // ABT forms pass through validated.
        assert_eq!(
            normalize(
                "did:abt:z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP",
                DidRole::Account
            )
            .as_deref(),
            Ok("z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP")
        );
        assert!(normalize("z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WQ", DidRole::Account).is_err());
    }
}
