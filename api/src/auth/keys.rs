//! Creating access keys (CLI, admin API and bootstrap share this).

use super::access_key::{self, NewKey};
use super::did;
use super::role::Role;
use crate::db::access_keys::{self as repo, AccessKeyRow};
use crate::db::users::{self, UserRow};
use crate::db::{DbConnection, DbError};
use chrono::{NaiveDateTime, Utc};

/// What to create.
pub struct KeySpec {
    pub name: String,
    pub role: Role,
    /// The owner; a new account DID is made when absent.
    pub user_did: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    /// The app (project) the key calls for.
    pub app_did: Option<String>,
}

/// Stores a key (and its user, if new) in one transaction. Returns the row and the plaintext,
/// which is never stored.
pub fn create(conn: &mut DbConnection, spec: KeySpec) -> Result<(AccessKeyRow, String), DbError> {
    store(conn, spec, access_key::generate())
}

/// Stores a given key (bootstrap from `AIGNE_HUB_ADMIN_KEY` or `admin.key`).
pub fn store(
    conn: &mut DbConnection,
    spec: KeySpec,
    key: NewKey,
) -> Result<(AccessKeyRow, String), DbError> {
    let now = Utc::now().naive_utc();
    let user_did = spec.user_did.unwrap_or_else(did::new_account_did);
    let row = AccessKeyRow {
        id: uuid::Uuid::now_v7().to_string(),
        prefix: key.prefix,
        key_hash: key.hash,
        user_did: user_did.clone(),
        role: spec.role.as_str().to_owned(),
        name: spec.name,
        created_at: now,
        last_used_at: None,
        expires_at: spec.expires_at,
        revoked: false,
        app_did: spec.app_did,
    };
    crate::db::write_transaction(conn, |c| {
        users::ensure(
            c,
            &UserRow {
                did: user_did,
                name: None,
                role: spec.role.as_str().to_owned(),
                created_at: now,
                starter_credits_granted: false,
                email: None,
                avatar: None,
            },
        )?;
        repo::insert(c, &row)
    })?;
    Ok((row, key.plaintext))
}
