//! Raw SQL that PostgreSQL prepares once per connection. diesel never caches `sql_query` (nor
//! any UPDATE or upsert), so a statement run with every writer batch would be parsed and planned
//! every time; measured on the ledger's two statements, that planning was the whole cost of
//! billing on PostgreSQL. [`CachedSql`] is the same text with `?` for each bind, cached by its
//! text like any other safe query.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text, Timestamp, Untyped};
use diesel::{PgConnection, QueryResult, RunQueryDsl};

/// One bound value.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Timestamp(NaiveDateTime),
    BigInt(i64),
}

/// `sql` with a `?` in place of each of `binds`, in order (no other `?` may appear).
#[derive(Debug, Clone)]
pub struct CachedSql {
    sql: String,
    binds: Vec<Bind>,
}

impl CachedSql {
    pub fn new(sql: impl Into<String>) -> CachedSql {
        CachedSql {
            sql: sql.into(),
            binds: Vec::new(),
        }
    }

    pub fn bind(mut self, value: Bind) -> CachedSql {
        self.binds.push(value);
        self
    }

    pub fn text(self, value: impl Into<String>) -> CachedSql {
        self.bind(Bind::Text(value.into()))
    }
}

impl QueryId for CachedSql {
    type QueryId = ();
    // Not static: cached by its SQL text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for CachedSql {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for CachedSql {}

impl QueryFragment<Pg> for CachedSql {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut parts = self.sql.split('?');
        if let Some(first) = parts.next() {
            out.push_sql(first);
        }
        let mut binds = self.binds.iter();
        for part in parts {
            match binds.next() {
                Some(Bind::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                Some(Bind::Timestamp(v)) => out.push_bind_param::<Timestamp, _>(v)?,
                Some(Bind::BigInt(v)) => out.push_bind_param::<BigInt, _>(v)?,
                None => {
                    return Err(diesel::result::Error::QueryBuilderError(
                        "more placeholders than binds".into(),
                    ));
                }
            }
            out.push_sql(part);
        }
        if binds.next().is_some() {
            return Err(diesel::result::Error::QueryBuilderError(
                "more binds than placeholders".into(),
            ));
        }
        Ok(())
    }
}
