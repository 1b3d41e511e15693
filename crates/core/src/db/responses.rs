//! `stored_responses` rows: the Responses API's stored turns, each owned by one user.
//!
//! A turn's id carries its row's key (`resp_` + 16 hex digits of the key + 32 random ones), so
//! the table is one B-tree in key order: a stored turn's write appends to one tree, and
//! retention deletes a key range. The key is time first (milliseconds since [`EPOCH_MS`] shifted
//! left [`LOW_BITS`]), then a per-process counter. The id's random part is checked on every
//! read, so a key is no way into a turn. A turn whose key was taken when it was written (another
//! instance chose the same key in the same millisecond) is written under a fresh key and found
//! through `stored_response_ids`, as are turns stored before keys existed.

use super::DbConnection;
use super::schema::{stored_response_ids, stored_responses};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use std::sync::atomic::{AtomicI64, Ordering};

/// 2025-01-01T00:00:00Z in Unix milliseconds: where keys' clock starts (41 bits of
/// milliseconds from here last until 2094).
pub const EPOCH_MS: i64 = 1_735_689_600_000;
/// Bits under the milliseconds: the counter's.
pub const LOW_BITS: u32 = 22;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stored_responses)]
pub struct StoredResponse {
    pub turn_key: i64,
    pub id: String,
    pub user_did: String,
    pub previous_response_id: Option<String>,
    /// This turn's input items (JSON array).
    pub input: String,
    /// This turn's output items (JSON array).
    pub output: String,
    /// The response object as answered (JSON).
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// The longest conversation a `previous_response_id` may rebuild, in turns.
pub const MAX_CHAIN: usize = 1000;

/// The smallest key of a turn created at `at` (keys below it are older).
pub fn key_floor(at: NaiveDateTime) -> i64 {
    (at.and_utc().timestamp_millis() - EPOCH_MS).max(0) << LOW_BITS
}

/// A new key: now, and above every key this process gave before (so keys are unique within a
/// process however many turns share a millisecond). The counter starts at a random point in
/// each millisecond, so two instances rarely pick the same key; when they do, the second
/// write takes a fresh key (see [`insert`]).
pub fn next_key() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let low = rand::random::<i64>() & ((1 << (LOW_BITS - 1)) - 1);
    let candidate = key_floor(Utc::now().naive_utc()) | low;
    let previous = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(candidate.max(last + 1))
        })
        .unwrap_or(candidate);
    candidate.max(previous + 1)
}

/// A new turn: its key and its id.
pub fn new_turn_id() -> (i64, String) {
    let key = next_key();
    (
        key,
        format!("resp_{key:016x}{}", uuid::Uuid::new_v4().simple()),
    )
}

/// The key an id carries (`None` for ids that carry none: turns stored before keys, or not
/// the Hub's).
pub fn key_in(id: &str) -> Option<i64> {
    let hex = id.strip_prefix("resp_")?;
    if hex.len() != 48 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    i64::from_str_radix(&hex[..16], 16).ok()
}

/// What writing a turn came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Stored,
    /// A turn with this id exists already.
    IdTaken,
}

/// Writes a turn. A taken key (another instance's turn) moves the turn to a fresh key,
/// recorded in `stored_response_ids`; a taken id is [`Written::IdTaken`], with nothing written.
/// Conflicts are answered by `ON CONFLICT DO NOTHING`, never by an error, so the caller's
/// transaction goes on.
pub fn insert(conn: &mut DbConnection, row: &StoredResponse) -> QueryResult<Written> {
    match conn {
        DbConnection::Sqlite(c) => insert_sqlite(c, row),
        DbConnection::Postgres(c) => insert_pg(c, row),
    }
}

// One body for both engines' own connections (the usage writer's batch runs on those; diesel's
// conflict clauses are typed by backend).
macro_rules! insert_on {
    ($name:ident, $conn:ty) => {
        /// [`insert`] on this engine's own connection.
        pub fn $name(c: &mut $conn, row: &StoredResponse) -> QueryResult<Written> {
            let written = diesel::insert_into(stored_responses::table)
                .values(row)
                .on_conflict_do_nothing()
                .execute(c)?;
            if written == 1 {
                return Ok(Written::Stored);
            }
            let holder: Option<String> = stored_responses::table
                .find(row.turn_key)
                .select(stored_responses::id)
                .first(c)
                .optional()?;
            if holder.as_deref() == Some(row.id.as_str()) {
                return Ok(Written::IdTaken);
            }
            // Another turn holds the key: this one moves, and its id says where.
            let moved = StoredResponse {
                turn_key: next_key(),
                ..row.clone()
            };
            let named = diesel::insert_into(stored_response_ids::table)
                .values((
                    stored_response_ids::id.eq(&row.id),
                    stored_response_ids::turn_key.eq(moved.turn_key),
                ))
                .on_conflict_do_nothing()
                .execute(c)?;
            if named == 0 {
                return Ok(Written::IdTaken);
            }
            diesel::insert_into(stored_responses::table)
                .values(&moved)
                .execute(c)?;
            Ok(Written::Stored)
        }
    };
}

insert_on!(insert_sqlite, diesel::SqliteConnection);
insert_on!(insert_pg, diesel::PgConnection);

/// The row at `key` if it is `user`'s turn `id`.
fn row_at(
    conn: &mut DbConnection,
    key: i64,
    user: &str,
    id: &str,
) -> QueryResult<Option<StoredResponse>> {
    stored_responses::table
        .find(key)
        .filter(stored_responses::id.eq(id))
        .filter(stored_responses::user_did.eq(user))
        .select(StoredResponse::as_select())
        .first(conn)
        .optional()
}

/// `user`'s response `id` (another user's is as unknown as a missing one): at the key the id
/// carries, else at the one it was moved to.
pub fn get(conn: &mut DbConnection, user: &str, id: &str) -> QueryResult<Option<StoredResponse>> {
    if let Some(key) = key_in(id)
        && let Some(row) = row_at(conn, key, user, id)?
    {
        return Ok(Some(row));
    }
    let moved: Option<i64> = stored_response_ids::table
        .find(id)
        .select(stored_response_ids::turn_key)
        .first(conn)
        .optional()?;
    match moved {
        Some(key) => row_at(conn, key, user, id),
        None => Ok(None),
    }
}

pub fn delete(conn: &mut DbConnection, user: &str, id: &str) -> QueryResult<usize> {
    let Some(row) = get(conn, user, id)? else {
        return Ok(0);
    };
    diesel::delete(stored_response_ids::table.find(id)).execute(conn)?;
    diesel::delete(stored_responses::table.find(row.turn_key)).execute(conn)
}

/// The conversation that ends with `user`'s response `id`, oldest turn first; `None` when `id`
/// is unknown to `user`. A turn whose predecessor was deleted (or expired) starts the chain.
pub fn chain(
    conn: &mut DbConnection,
    user: &str,
    id: &str,
) -> QueryResult<Option<Vec<StoredResponse>>> {
    let Some(last) = get(conn, user, id)? else {
        return Ok(None);
    };
    let mut turns = vec![last];
    while turns.len() < MAX_CHAIN {
        let Some(previous) = turns.last().and_then(|t| t.previous_response_id.clone()) else {
            break;
        };
        match get(conn, user, &previous)? {
            Some(turn) => turns.push(turn),
            None => break,
        }
    }
    turns.reverse();
    Ok(Some(turns))
}

/// Deletes responses created before `cutoff` (retention), at most about `limit` at a time: the
/// oldest keys, as one key range.
pub fn delete_before(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    let below = key_floor(cutoff);
    let last: Option<i64> = stored_responses::table
        .filter(stored_responses::turn_key.lt(below))
        .order(stored_responses::turn_key.asc())
        .select(stored_responses::turn_key)
        .offset((limit - 1).max(0))
        .first(conn)
        .optional()?;
    // Fewer than `limit` left: all of them.
    let upto = last.unwrap_or(below - 1);
    diesel::delete(stored_response_ids::table.filter(stored_response_ids::turn_key.le(upto)))
        .execute(conn)?;
    diesel::delete(stored_responses::table.filter(stored_responses::turn_key.le(upto)))
        .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(key: i64, id: &str, user: &str) -> StoredResponse {
        StoredResponse {
            turn_key: key,
            id: id.into(),
            user_did: user.into(),
            previous_response_id: None,
            input: "[]".into(),
            output: "[]".into(),
            body: "{}".into(),
            created_at: Utc::now().naive_utc(),
        }
    }

    #[test]
    fn ids_carry_their_keys_and_keys_only_grow() {
        let (a, id_a) = new_turn_id();
        let (b, id_b) = new_turn_id();
        assert!(b > a, "{b} after {a}");
        assert_eq!(key_in(&id_a), Some(a));
        assert_eq!(key_in(&id_b), Some(b));
        assert_eq!(id_a.len(), "resp_".len() + 48);
        assert_eq!(key_in("resp_0123"), None);
        assert_eq!(key_in(&format!("resp_{}", "g".repeat(48))), None);
        // A key's time is the turn's: keys made now sort after the floor of a second ago.
        assert!(a >= key_floor(Utc::now().naive_utc() - chrono::Duration::seconds(1)));
    }

    #[test]
    fn a_taken_key_moves_the_turn_and_its_id_still_finds_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::db::migrated_sqlite(dir.path());
        db.run_sync(|c| {
            let (key, first) = new_turn_id();
            // Another instance's id with the same key.
            let second = format!("resp_{key:016x}{}", "ab".repeat(16));
            assert_eq!(insert(c, &turn(key, &first, "zA"))?, Written::Stored);
            assert_eq!(insert(c, &turn(key, &second, "zB"))?, Written::Stored);
            assert_eq!(insert(c, &turn(key, &first, "zA"))?, Written::IdTaken);
            assert_eq!(insert(c, &turn(key, &second, "zB"))?, Written::IdTaken);
            assert_eq!(get(c, "zA", &first)?.map(|t| t.turn_key), Some(key));
            let moved = get(c, "zB", &second)?.expect("moved turn");
            assert_ne!(moved.turn_key, key);
            // Another user's, or a key with the wrong random part, is unknown.
            assert!(get(c, "zA", &second)?.is_none());
            let guessed = format!("resp_{key:016x}{}", "0".repeat(32));
            assert!(get(c, "zA", &guessed)?.is_none());
            assert_eq!(delete(c, "zB", &second)?, 1);
            assert!(get(c, "zB", &second)?.is_none());
            Ok::<_, crate::db::DbError>(())
        })
        .expect("db");
    }

    /// Turns stored before keys existed keep their ids: the migration gives each a key from its
    /// time and names it in `stored_response_ids`, so reads, chains and retention find it.
    #[test]
    fn turns_stored_before_keys_are_found_after_the_migration() {
        use diesel::connection::SimpleConnection;
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::db::migrated_sqlite(dir.path());
        db.run_sync(|c| {
            // Back to before migration 000010 (later ones first).
            for _ in 0..10 {
                let reverted = crate::db::migrate::revert_last_migration(c)
                    .map_err(|e| crate::db::DbError::Unavailable(e.to_string()))?;
                if reverted.contains("000010") {
                    break;
                }
                assert!(reverted.as_str() > "20261205000010", "passed 000010: {reverted}");
            }
            let DbConnection::Sqlite(raw) = c else {
                unreachable!("a SQLite test database")
            };
            raw.batch_execute(
                "INSERT INTO stored_responses (id, user_did, previous_response_id, input, output, body, created_at) VALUES \
                 ('resp_old1', 'zA', NULL, '[1]', '[]', '{}', datetime('now', '-40 days')), \
                 ('resp_old2', 'zA', 'resp_old1', '[2]', '[]', '{}', datetime('now', '-1 days'))",
            )?;
            crate::db::migrate::run_migrations(c)
                .map_err(|e| crate::db::DbError::Unavailable(e.to_string()))?;
            let chain = chain(c, "zA", "resp_old2")?.expect("chain");
            let inputs: Vec<&str> = chain.iter().map(|t| t.input.as_str()).collect();
            assert_eq!(inputs, ["[1]", "[2]"]);
            assert!(get(c, "zB", "resp_old2")?.is_none());
            // A new turn's key sorts after the old ones'.
            assert!(next_key() > chain[1].turn_key);
            let cutoff = Utc::now().naive_utc() - chrono::Duration::days(30);
            assert_eq!(delete_before(c, cutoff, 100)?, 1);
            assert!(get(c, "zA", "resp_old1")?.is_none());
            let names: i64 = stored_response_ids::table.count().get_result(c)?;
            assert_eq!(names, 1, "the deleted turn's name went with it");
            Ok::<_, crate::db::DbError>(())
        })
        .expect("db");
    }

    #[test]
    fn retention_deletes_the_oldest_key_range() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::db::migrated_sqlite(dir.path());
        db.run_sync(|c| {
            let now = Utc::now().naive_utc();
            let day = chrono::Duration::days(1);
            for (n, days) in [(1, 40), (2, 35), (3, 31), (4, 5), (5, 1)] {
                let at = now - day * days;
                let key = key_floor(at) | n;
                let id = format!("resp_{key:016x}{}", "1".repeat(32));
                insert(c, &turn(key, &id, "zA"))?;
            }
            let cutoff = now - day * 30;
            assert_eq!(delete_before(c, cutoff, 2)?, 2);
            assert_eq!(delete_before(c, cutoff, 2)?, 1);
            assert_eq!(delete_before(c, cutoff, 2)?, 0);
            let left: i64 = stored_responses::table.count().get_result(c)?;
            assert_eq!(left, 2);
            Ok::<_, crate::db::DbError>(())
        })
        .expect("db");
    }
}
