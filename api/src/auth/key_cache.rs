//! Access-key lookups, cached briefly. A revocation reaches every instance within the TTL
//! (5 s, SPEC §7.1); on the instance that revoked, at once.
//!
//! Concurrent misses for one key share one database lookup: under load every in-flight request
//! misses together when the entry expires, and each used to run its own lookup on the blocking
//! pool (measured: 40 blocking threads at the start of a 64-connection run, and a `last_used_at`
//! write per request once a minute, all contending for SQLite's write lock).

use crate::db::access_keys::{self, AccessKeyRow};
use crate::db::{Db, DbError};
use chrono::{NaiveDateTime, Utc};
use moka::future::Cache;
use std::sync::Arc;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(5);
/// `last_used_at` is written at most this often per key.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Clone)]
pub struct KeyCache {
    db: Db,
    /// key hash → row (or `None` for a key that does not exist).
    cache: Cache<String, Option<AccessKeyRow>>,
    /// Database lookups made (the tests count them).
    #[cfg(test)]
    loads: Arc<std::sync::atomic::AtomicUsize>,
}

impl KeyCache {
    pub fn new(db: Db) -> Self {
        KeyCache {
            db,
            cache: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(TTL)
                .build(),
            #[cfg(test)]
            loads: Arc::default(),
        }
    }

    /// The row for a key hash, from cache or database (one lookup however many callers miss
    /// at once; a failed lookup is not cached).
    pub async fn lookup(&self, hash: String) -> Result<Option<AccessKeyRow>, DbError> {
        if let Some(hit) = self.cache.get(&hash).await {
            return Ok(hit);
        }
        let db = self.db.clone();
        let key = hash.clone();
        #[cfg(test)]
        let loads = self.loads.clone();
        let load = async move {
            #[cfg(test)]
            loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let now = Utc::now().naive_utc();
            db.run(move |conn| {
                let row = access_keys::find_by_hash(conn, &key)?;
                if let Some(row) = &row
                    && needs_touch(row.last_used_at, now)
                {
                    access_keys::touch(conn, &row.id, now)?;
                }
                Ok::<_, DbError>(row)
            })
            .await
        };
        self.cache.try_get_with(hash, load).await.map_err(unshared)
    }

    /// Drops a cached key (after a revoke on this instance).
    pub async fn forget(&self, hash: &str) {
        self.cache.invalidate(hash).await;
    }
}

/// A lookup's error, for each caller that waited on it: the error itself when only one did.
fn unshared(e: Arc<DbError>) -> DbError {
    Arc::try_unwrap(e).unwrap_or_else(|shared| DbError::Unavailable(shared.to_string()))
}

fn needs_touch(last: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    last.is_none_or(|t| (now - t).num_seconds() >= TOUCH_EVERY_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::{KeySpec, create};
    use crate::auth::role::Role;
    use crate::db::migrated_sqlite;
    use std::sync::atomic::Ordering;

    #[tokio::test]
    async fn concurrent_misses_share_one_lookup() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = migrated_sqlite(dir.path());
        let spec = KeySpec {
            name: "k".into(),
            role: Role::Member,
            user_did: None,
            expires_at: None,
            app_did: None,
        };
        let (row, plaintext) = db.run_sync(|c| create(c, spec)).expect("create");
        let cache = KeyCache::new(db);
        let hash = crate::auth::access_key::hash(&plaintext);

        let many = (0..32).map(|_| cache.lookup(hash.clone()));
        for found in futures_util::future::join_all(many).await {
            assert_eq!(found.expect("lookup").map(|r| r.id), Some(row.id.clone()));
        }
        assert_eq!(cache.loads.load(Ordering::Relaxed), 1);

        // Unknown keys are cached too (as absent), and a forgotten key is looked up again.
        let unknown = crate::auth::access_key::hash("aigne-nope");
        let twice = [cache.lookup(unknown.clone()), cache.lookup(unknown.clone())];
        for found in futures_util::future::join_all(twice).await {
            assert!(found.expect("lookup").is_none());
        }
        assert_eq!(cache.loads.load(Ordering::Relaxed), 2);
        cache.forget(&hash).await;
        assert!(cache.lookup(hash).await.expect("lookup").is_some());
        assert_eq!(cache.loads.load(Ordering::Relaxed), 3);
    }
}
