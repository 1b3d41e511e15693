//! Access-key lookups, cached briefly. A revocation reaches every instance within the TTL
//! (5 s, SPEC §7.1); on the instance that revoked, at once.

use crate::db::access_keys::{self, AccessKeyRow};
use crate::db::{Db, DbError};
use chrono::{NaiveDateTime, Utc};
use moka::sync::Cache;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(5);
/// `last_used_at` is written at most this often per key.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Clone)]
pub struct KeyCache {
    db: Db,
    /// key hash → row (or `None` for a key that does not exist).
    cache: Cache<String, Option<AccessKeyRow>>,
}

impl KeyCache {
    pub fn new(db: Db) -> Self {
        KeyCache {
            db,
            cache: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(TTL)
                .build(),
        }
    }

    /// The row for a key hash, from cache or database.
    pub async fn lookup(&self, hash: String) -> Result<Option<AccessKeyRow>, DbError> {
        if let Some(hit) = self.cache.get(&hash) {
            return Ok(hit);
        }
        let now = Utc::now().naive_utc();
        let key = hash.clone();
        let row = self
            .db
            .run(move |conn| {
                let row = access_keys::find_by_hash(conn, &key)?;
                if let Some(row) = &row
                    && needs_touch(row.last_used_at, now)
                {
                    access_keys::touch(conn, &row.id, now)?;
                }
                Ok::<_, DbError>(row)
            })
            .await?;
        self.cache.insert(hash, row.clone());
        Ok(row)
    }

    /// Drops a cached key (after a revoke on this instance).
    pub fn forget(&self, hash: &str) {
        self.cache.invalidate(hash);
    }
}

fn needs_touch(last: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    last.is_none_or(|t| (now - t).num_seconds() >= TOUCH_EVERY_SECS)
}
