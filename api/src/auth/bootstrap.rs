//! The first admin: `AIGNE_HUB_ADMIN_KEY`, or a key generated into `<data dir>/admin.key` (0600)
//! when no usable admin key exists. The path is logged; the key itself never is.

use super::access_key;
use super::keys::{self, KeySpec};
use super::role::Role;
use crate::config::Settings;
use crate::db::access_keys as repo;
use crate::db::{Db, DbError};
use crate::secrets::read_or_create_key_file;
use chrono::Utc;
use secrecy::ExposeSecret;

/// Name of the key row that mirrors `AIGNE_HUB_ADMIN_KEY`.
pub const ENV_KEY_NAME: &str = "AIGNE_HUB_ADMIN_KEY";
/// Name of the key row that mirrors `<data dir>/admin.key`.
pub const FILE_KEY_NAME: &str = "admin.key";

/// How the admin was provided (for the start-up log and tests).
#[derive(Debug, PartialEq, Eq)]
pub enum AdminSource {
    Env,
    /// An admin already existed; the admin.key path if that file exists.
    Existing(Option<std::path::PathBuf>),
    /// Written now (or reused from an existing file whose key was not in the database).
    File(std::path::PathBuf),
}

pub fn ensure_admin(db: &Db, settings: &Settings) -> anyhow::Result<AdminSource> {
    if let Some(secret) = &settings.admin_key {
        let key = access_key::from_plaintext(secret.expose_secret().to_owned());
        db.run_sync(|conn| {
            let hash = key.hash.clone();
            match repo::find_by_hash(conn, &hash)? {
                Some(row) if row.revoked || row.role != "owner" => {
                    anyhow::bail!(
                        "AIGNE_HUB_ADMIN_KEY matches access key {} which is revoked or not an owner key; choose another value",
                        row.id
                    );
                }
                Some(_) => {}
                None => {
                    let spec = KeySpec { name: ENV_KEY_NAME.into(), role: Role::Owner, user_did: None, expires_at: None, app_did: None };
                    insert_tolerating_race(conn, spec, key)?;
                }
            }
            // A changed env value retires the previous one.
            repo::revoke_named_except(conn, ENV_KEY_NAME, &hash)?;
            Ok(())
        })?;
        tracing::info!("admin access: the key in AIGNE_HUB_ADMIN_KEY (owner)");
        return Ok(AdminSource::Env);
    }

    let path = settings.data_dir.join("admin.key");
    let now = Utc::now().naive_utc();
    if db.run_sync(|conn| Ok::<_, DbError>(repo::admin_exists(conn, now)?))? {
        let existing = path
            .is_file()
            .then(|| std::path::absolute(&path).unwrap_or(path.clone()));
        if let Some(p) = &existing {
            tracing::info!(path = %p.display(), "admin key file");
        }
        return Ok(AdminSource::Existing(existing));
    }

    let file = read_or_create_key_file(&path, || access_key::generate().plaintext)?;
    let key = access_key::from_plaintext(file.value.expose_secret().to_owned());
    db.run_sync(|conn| {
        if repo::find_by_hash(conn, &key.hash)?.is_none() {
            let spec = KeySpec {
                name: FILE_KEY_NAME.into(),
                role: Role::Owner,
                user_did: None,
                expires_at: None,
                app_did: None,
            };
            insert_tolerating_race(conn, spec, key)?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    tracing::warn!(
        path = %file.path.display(),
        "no admin existed: an owner access key is in {} (send it as Authorization: Bearer <key>)",
        file.path.display()
    );
    Ok(AdminSource::File(file.path))
}

/// Two instances bootstrapping at once insert the same hash: the loser's unique violation is fine.
fn insert_tolerating_race(
    conn: &mut crate::db::DbConnection,
    spec: KeySpec,
    key: access_key::NewKey,
) -> Result<(), DbError> {
    match keys::store(conn, spec, key) {
        Ok(_) => Ok(()),
        Err(DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => Ok(()),
        Err(e) => Err(e),
    }
}
