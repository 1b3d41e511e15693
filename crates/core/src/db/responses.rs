//! `stored_responses` rows: the Responses API's stored turns, each owned by one user.

use super::DbConnection;
use super::schema::stored_responses;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = stored_responses)]
pub struct StoredResponse {
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

pub fn insert(conn: &mut DbConnection, row: &StoredResponse) -> QueryResult<()> {
    diesel::insert_into(stored_responses::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

/// `user`'s response `id` (another user's is as unknown as a missing one).
pub fn get(conn: &mut DbConnection, user: &str, id: &str) -> QueryResult<Option<StoredResponse>> {
    stored_responses::table
        .filter(stored_responses::id.eq(id))
        .filter(stored_responses::user_did.eq(user))
        .select(StoredResponse::as_select())
        .first(conn)
        .optional()
}

pub fn delete(conn: &mut DbConnection, user: &str, id: &str) -> QueryResult<usize> {
    diesel::delete(
        stored_responses::table
            .filter(stored_responses::id.eq(id))
            .filter(stored_responses::user_did.eq(user)),
    )
    .execute(conn)
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

/// Deletes responses created before `cutoff` (retention), at most `limit` at a time.
pub fn delete_before(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    let ids: Vec<String> = stored_responses::table
        .filter(stored_responses::created_at.lt(cutoff))
        .select(stored_responses::id)
        .limit(limit)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(stored_responses::table.filter(stored_responses::id.eq_any(ids))).execute(conn)
}
