//! Secrets at rest (SPEC §8): credential encryption, masking, and the 0600 key files the Hub
//! generates in its data dir.

mod cipher;
mod key_file;
mod mask;

pub use cipher::{Cipher, DecryptError};
pub use key_file::{KeyFile, read_or_create_key_file};
pub use mask::{mask, scrub};

use crate::config::Settings;
use secrecy::SecretString;

/// The encryption secret: configured (`AIGNE_HUB_SECRET`, Blocklet `BLOCKLET_APP_EK`) or generated
/// once into `<data dir>/secret.key`.
pub fn encryption_secret(settings: &Settings) -> anyhow::Result<SecretString> {
    if let Some(secret) = &settings.secret {
        return Ok(secret.clone());
    }
    let file = read_or_create_key_file(&settings.data_dir.join("secret.key"), || {
        hex::encode(rand::random::<[u8; 32]>())
    })?;
    if file.created {
        tracing::info!(path = %file.path.display(), "generated the credential-encryption secret");
    }
    Ok(file.value)
}
