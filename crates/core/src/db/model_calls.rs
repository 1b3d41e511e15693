//! Reading `model_calls` (the call log): filtered, newest first.

use super::credits::Credits;
use super::page::{Page, contains_pattern, lower};
use super::schema::model_calls;
use super::{DbBackend, DbConnection};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// `model_calls.type` (and a rate's type), stored as its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallType {
    ChatCompletion,
    Embedding,
    ImageGeneration,
    Video,
    Audio,
}

impl CallType {
    pub const ALL: [CallType; 5] = [
        CallType::ChatCompletion,
        CallType::Embedding,
        CallType::ImageGeneration,
        CallType::Video,
        CallType::Audio,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallType::ChatCompletion => "chatCompletion",
            CallType::Embedding => "embedding",
            CallType::ImageGeneration => "imageGeneration",
            CallType::Video => "video",
            CallType::Audio => "audio",
        }
    }

    /// The stored names, for lists and error messages.
    pub fn names() -> [&'static str; 5] {
        Self::ALL.map(CallType::as_str)
    }

    pub fn parse(text: &str) -> Option<CallType> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = model_calls)]
pub struct CallRecord {
    pub id: String,
    pub provider_id: Option<String>,
    pub model: String,
    pub credential_id: Option<String>,
    #[diesel(column_name = type_)]
    pub kind: String,
    pub status: String,
    pub total_usage: i64,
    pub usage_metrics: Option<String>,
    pub credits: Credits,
    pub duration_ms: Option<i64>,
    pub ttfb_ms: Option<i64>,
    pub provider_ttfb_ms: Option<i64>,
    pub error_reason: Option<String>,
    pub app_did: Option<String>,
    pub user_did: Option<String>,
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
    pub metadata: Option<String>,
    pub call_time: NaiveDateTime,
    /// The client dialect the call came in on (none on rows older than the column).
    pub dialect: Option<String>,
}

/// Filters of the call log; `None` is "any".
#[derive(Debug, Default, Clone)]
pub struct CallFilter {
    /// Only this user's calls (every caller but an admin asking for all users).
    pub user_did: Option<String>,
    pub status: Option<String>,
    /// Matches `provider/model` anywhere, case-insensitively.
    pub model: Option<String>,
    pub kind: Option<String>,
    pub provider_id: Option<String>,
    pub app_did: Option<String>,
    /// `call_time >= start`
    pub start: Option<NaiveDateTime>,
    /// `call_time < end`
    pub end: Option<NaiveDateTime>,
    /// Text found (case-insensitively) in any of the fields.
    pub search: Option<(String, Vec<SearchField>)>,
    /// `duration_ms >= min_duration_ms`
    pub min_duration_ms: Option<i64>,
}

/// Where `search` looks (the real Hub's `searchFields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchField {
    Model,
    TraceId,
    Id,
    UserDid,
}

impl SearchField {
    pub const ALL: [SearchField; 4] = [
        SearchField::Model,
        SearchField::TraceId,
        SearchField::Id,
        SearchField::UserDid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SearchField::Model => "model",
            SearchField::TraceId => "traceId",
            SearchField::Id => "id",
            SearchField::UserDid => "userDid",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

type Condition =
    Box<dyn BoxableExpression<model_calls::table, DbBackend, SqlType = diesel::sql_types::Bool>>;

/// What a whole identifier pasted into the search box is: each is looked up through an index
/// instead of a scan, which a rare term would otherwise need over the whole table.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identifier {
    /// A call id (a UUID, `8-4-4-4-12` hex digits).
    CallId(String),
    /// A W3C trace id (32 hex digits): the second part of a stored `traceparent`.
    TraceId(String),
    /// A whole `traceparent` (`00-<trace id>-<parent id>-<flags>`).
    TraceParent(String),
    /// A DID (base58, as user DIDs are stored), with or without `did:abt:`.
    Did(String),
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Identifier {
    fn of(needle: &str) -> Option<Identifier> {
        let parts: Vec<&str> = needle.split('-').collect();
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        if parts.iter().all(|p| is_hex(p)) {
            match lens.as_slice() {
                [8, 4, 4, 4, 12] => return Some(Identifier::CallId(needle.to_lowercase())),
                [32] => return Some(Identifier::TraceId(needle.to_lowercase())),
                [2, 32, 16, 2] => return Some(Identifier::TraceParent(needle.to_lowercase())),
                _ => {}
            }
        }
        let did = needle.strip_prefix("did:abt:").unwrap_or(needle);
        let base58 = |b: u8| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'O' | b'I' | b'l');
        (did.starts_with('z') && (30..=60).contains(&did.len()) && did.bytes().all(base58))
            .then(|| Identifier::Did(did.to_owned()))
    }

    /// The field this identifier can be found in, if `fields` holds it. No other field can
    /// hold one as a part: call ids and DIDs are whole values of fixed shape, model names hold
    /// none of these shapes, and a trace id stands between the fixed parts of a `traceparent`.
    fn condition(&self, fields: &[SearchField]) -> Option<Condition> {
        let wants = |f| fields.contains(&f);
        match self {
            Identifier::CallId(id) if wants(SearchField::Id) => {
                Some(Box::new(model_calls::id.eq(id.clone())))
            }
            Identifier::TraceId(id) if wants(SearchField::TraceId) => Some(trace_is(id)),
            Identifier::TraceParent(t) if wants(SearchField::TraceId) => Some(Box::new(
                trace_is(&t[3..35]).and(model_calls::trace_id.assume_not_null().eq(t.clone())),
            )),
            Identifier::Did(did) if wants(SearchField::UserDid) => Some(Box::new(
                model_calls::user_did.assume_not_null().eq(did.clone()),
            )),
            _ => None,
        }
    }
}

/// Calls whose traceparent carries trace id `id`: the expression `model_calls_trace_idx` is
/// built on, written out (SQLite matches an index expression only to the same constants).
fn trace_is(id: &str) -> Condition {
    Box::new(
        diesel::dsl::sql::<diesel::sql_types::Bool>(
            "(trace_id IS NOT NULL AND substr(trace_id, 4, 32) = ",
        )
        .bind::<diesel::sql_types::Text, _>(id.to_owned())
        .sql(")"),
    )
}

/// `needle` in any of `fields`, case-insensitively; a whole identifier by its index.
fn search_condition(needle: &str, fields: &[SearchField]) -> Option<Condition> {
    if let Some(exact) = Identifier::of(needle).and_then(|i| i.condition(fields)) {
        return Some(exact);
    }
    let pattern = contains_pattern(needle);
    fields.iter().fold(None, |any: Option<Condition>, field| {
        let p = pattern.clone();
        let one: Condition = match field {
            SearchField::Model => Box::new(lower(model_calls::model).like(p).escape('\\')),
            SearchField::Id => Box::new(lower(model_calls::id).like(p).escape('\\')),
            SearchField::TraceId => Box::new(
                lower(model_calls::trace_id.assume_not_null())
                    .like(p)
                    .escape('\\'),
            ),
            SearchField::UserDid => Box::new(
                lower(model_calls::user_did.assume_not_null())
                    .like(p)
                    .escape('\\'),
            ),
        };
        Some(match any {
            None => one,
            Some(prev) => Box::new(prev.or(one)),
        })
    })
}

fn filtered(f: &CallFilter) -> model_calls::BoxedQuery<'static, DbBackend> {
    let mut q = model_calls::table.into_boxed();
    if let Some(v) = &f.user_did {
        q = q.filter(model_calls::user_did.eq(v.clone()));
    }
    if let Some(v) = &f.status {
        q = q.filter(model_calls::status.eq(v.clone()));
    }
    if let Some(v) = &f.model {
        q = q.filter(
            lower(model_calls::model)
                .like(contains_pattern(v))
                .escape('\\'),
        );
    }
    if let Some(v) = &f.kind {
        q = q.filter(model_calls::type_.eq(v.clone()));
    }
    if let Some(v) = &f.provider_id {
        q = q.filter(model_calls::provider_id.eq(v.clone()));
    }
    if let Some(v) = &f.app_did {
        q = q.filter(model_calls::app_did.eq(v.clone()));
    }
    if let Some(v) = f.start {
        q = q.filter(model_calls::call_time.ge(v));
    }
    if let Some(v) = f.end {
        q = q.filter(model_calls::call_time.lt(v));
    }
    if let Some(cond) = f
        .search
        .as_ref()
        .and_then(|(needle, fields)| search_condition(needle, fields))
    {
        q = q.filter(cond);
    }
    if let Some(v) = f.min_duration_ms {
        q = q.filter(model_calls::duration_ms.ge(v));
    }
    q
}

/// Matches counted at most: past this a count would read every matching row of a large
/// table on each page view; lists say "more than" instead.
pub const COUNT_CAP: i64 = 2_000;

/// One page of calls, newest first, and how many match (at most [`COUNT_CAP`] + 1, which
/// means "more than [`COUNT_CAP`]").
pub fn list(
    conn: &mut DbConnection,
    filter: &CallFilter,
    page: Page,
) -> QueryResult<(i64, Vec<CallRecord>)> {
    let matches: Vec<i32> = filtered(filter)
        .select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
        .limit(COUNT_CAP + 1)
        .load(conn)?;
    let count = matches.len() as i64;
    let rows = filtered(filter)
        .select(CallRecord::as_select())
        .order((model_calls::call_time.desc(), model_calls::id.desc()))
        .limit(page.page_size)
        .offset(page.offset())
        .load(conn)?;
    Ok((count, rows))
}

/// Up to `limit` calls, newest first, after (older than) `after` = (call time, id) of the last
/// call of the previous page: exports read page by page, each an index range.
pub fn export_page(
    conn: &mut DbConnection,
    filter: &CallFilter,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<CallRecord>> {
    let mut q = filtered(filter);
    if let Some((t, id)) = after {
        q = q.filter(
            model_calls::call_time.lt(*t).or(model_calls::call_time
                .eq(*t)
                .and(model_calls::id.lt(id.clone()))),
        );
    }
    q.select(CallRecord::as_select())
        .order((model_calls::call_time.desc(), model_calls::id.desc()))
        .limit(limit)
        .load(conn)
}

/// What usage statistics need of a call.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = model_calls)]
pub struct CallPoint {
    pub call_time: NaiveDateTime,
    pub status: String,
    pub model: String,
    pub total_usage: i64,
    pub credits: Credits,
    pub duration_ms: Option<i64>,
    pub ttfb_ms: Option<i64>,
}

/// The calls of `filter` (finished ones; `processing` rows are still moving), oldest first, at
/// most `limit + 1` so the caller can tell the range was too large.
pub fn points(
    conn: &mut DbConnection,
    filter: &CallFilter,
    limit: i64,
) -> QueryResult<Vec<CallPoint>> {
    filtered(filter)
        .filter(model_calls::status.ne("processing"))
        .select(CallPoint::as_select())
        .order(model_calls::call_time.asc())
        .limit(limit + 1)
        .load(conn)
}

/// Deletes up to `limit` calls made before `before`; returns how many.
pub fn delete_before(
    conn: &mut DbConnection,
    before: chrono::NaiveDateTime,
    limit: i64,
) -> QueryResult<usize> {
    let ids: Vec<String> = model_calls::table
        .filter(model_calls::call_time.lt(before))
        .select(model_calls::id)
        .limit(limit)
        .load(conn)?;
    delete_ids(conn, &ids)
}

/// Deletes the calls `ids`.
pub fn delete_ids(conn: &mut DbConnection, ids: &[String]) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(model_calls::table.filter(model_calls::id.eq_any(ids))).execute(conn)
}

/// What an app's usage report needs of a call.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = model_calls)]
pub struct UsagePoint {
    pub call_time: NaiveDateTime,
    pub model: String,
    pub credits: Credits,
    pub usage_metrics: Option<String>,
}

/// The finished calls of `filter`, oldest first, at most `limit + 1` (the caller tells a
/// range too large by the extra one).
pub fn usage_points(
    conn: &mut DbConnection,
    filter: &CallFilter,
    limit: i64,
) -> QueryResult<Vec<UsagePoint>> {
    filtered(filter)
        .filter(model_calls::status.ne("processing"))
        .select(UsagePoint::as_select())
        .order(model_calls::call_time.asc())
        .limit(limit + 1)
        .load(conn)
}

/// The last call of each of `apps` at or after `since` (one user's, or everyone's).
pub fn last_calls(
    conn: &mut DbConnection,
    user_did: Option<&str>,
    apps: &[String],
    since: NaiveDateTime,
) -> QueryResult<Vec<(Option<String>, Option<NaiveDateTime>)>> {
    if apps.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = model_calls::table
        .filter(model_calls::call_time.ge(since))
        .filter(model_calls::app_did.eq_any(apps.to_vec()))
        .group_by(model_calls::app_did)
        .select((
            model_calls::app_did,
            diesel::dsl::max(model_calls::call_time),
        ))
        .into_boxed();
    if let Some(user) = user_did {
        query = query.filter(model_calls::user_did.eq(user.to_owned()));
    }
    query.load(conn)
}

/// Users with billed calls since `since` (by call time), with their role and their latest
/// credit grant's id (the low-balance notice is once per grant).
pub fn billed_users(
    conn: &mut DbConnection,
    since: NaiveDateTime,
) -> QueryResult<Vec<(String, String, Option<String>)>> {
    use super::schema::{credit_grants, users};
    let dids: Vec<Option<String>> = model_calls::table
        .filter(model_calls::call_time.ge(since))
        .filter(model_calls::user_did.is_not_null())
        .filter(model_calls::credits.ne("0"))
        .select(model_calls::user_did)
        .distinct()
        .limit(10_000)
        .load(conn)?;
    let mut out = Vec::new();
    for did in dids.into_iter().flatten() {
        let role: Option<String> = users::table
            .filter(users::did.eq(&did))
            .select(users::role)
            .first(conn)
            .optional()?;
        let grant: Option<String> = credit_grants::table
            .filter(credit_grants::user_did.eq(&did))
            .order((credit_grants::created_at.desc(), credit_grants::id.desc()))
            .select(credit_grants::id)
            .first(conn)
            .optional()?;
        out.push((did, role.unwrap_or_else(|| "guest".into()), grant));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::Identifier;

    #[test]
    fn whole_identifiers_are_recognised() {
        let call = "6F1C0A52-3b7e-4d2a-9c61-0b5e8f3a7d19";
        assert_eq!(
            Identifier::of(call),
            Some(Identifier::CallId(call.to_lowercase()))
        );
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(
            Identifier::of(trace),
            Some(Identifier::TraceId(trace.into()))
        );
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            Identifier::of(parent),
            Some(Identifier::TraceParent(parent.into()))
        );
        let did = "z1XqSbMTqLa1pTrBfRgxDgQdWbUcpxBrXyv";
        assert_eq!(Identifier::of(did), Some(Identifier::Did(did.into())));
        assert_eq!(
            Identifier::of(&format!("did:abt:{did}")),
            Some(Identifier::Did(did.into()))
        );
    }

    #[test]
    fn parts_and_other_text_are_searched_as_text() {
        for text in [
            "claude",
            "6f1c0a52-3b7e",
            "4bf92f3577b34da6",
            "gpt-4o-mini",
            "z1XqSbMTqLa1",
            // A 0 is not base58: not a DID.
            "z1XqSbMTqLa1pTrBfRgxDgQdWbUcpxBrXy0",
            "6f1c0a52-3b7e-4d2a-9c61-0b5e8f3a7d1g",
        ] {
            assert_eq!(Identifier::of(text), None, "{text}");
        }
    }
}
