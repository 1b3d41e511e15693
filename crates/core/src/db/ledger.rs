//! Storage of the built-in ledger (`credit_grants`, `credit_accounts`, `credit_reservations`,
//! `credit_transactions`). The rules (who pays what, in which order) live in `billing::ledger`;
//! this module only reads and writes rows.
//!
//! The writer thread runs ledger work inside its batch transaction on the concrete connection
//! (SQLite or PostgreSQL), the API reads through the pool's [`DbConnection`]: [`LedgerStore`] is
//! implemented for all three by one macro, so the queries are written once.

use super::DbConnection;
use super::cached_sql::{Bind, CachedSql};
use super::credits::Credits;
use super::schema::{
    credit_accounts, credit_grants, credit_reservations, credit_transactions, users,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_grants)]
// None is NULL, so that SQLite takes many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct GrantRow {
    pub id: String,
    pub user_did: String,
    pub amount: Credits,
    pub category: String,
    pub expires_at: Option<NaiveDateTime>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub remaining: Credits,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_transactions)]
// None is NULL, so that SQLite takes many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct TransactionRow {
    pub id: String,
    pub user_did: String,
    /// `grant` (amount > 0) or `usage` (amount < 0: the calls of one user and minute).
    pub kind: String,
    pub amount: Credits,
    pub grant_id: Option<String>,
    pub model_call_id: Option<String>,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
    /// Calls a `usage` row covers.
    pub call_count: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = credit_reservations)]
// None is NULL, so that SQLite takes many rows in one INSERT.
#[diesel(treat_none_as_default_value = false)]
pub struct ReservationRow {
    pub id: String,
    pub user_did: String,
    pub amount: Credits,
    pub instance_id: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Rows per multi-row statement (at most 8 parameters each, well under SQLite's 32,766).
const INSERT_ROWS: usize = 500;

/// A grant that can still pay: not expired, something left.
#[derive(Debug, Clone, Queryable)]
pub struct LiveGrant {
    pub id: String,
    pub remaining: Credits,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// The reads of the ledger.
pub trait LedgerRead {
    /// The account's debt, without locking (zero when the user has no account yet).
    fn debt(&mut self, user: &str) -> QueryResult<Credits>;
    /// Unexpired grants with something left (the caller orders them).
    fn live_grants(&mut self, user: &str, now: NaiveDateTime) -> QueryResult<Vec<LiveGrant>>;
    /// Amounts held by admitted, unfinished calls.
    fn reserved(&mut self, user: &str) -> QueryResult<Vec<Credits>>;
}

/// The writes of the ledger (the writer thread's concrete connections only).
pub trait LedgerStore: LedgerRead {
    /// Makes sure the user's account row exists and, on PostgreSQL, locks it until the
    /// transaction ends (SQLite's write transaction already excludes every other writer).
    /// Returns the account's debt.
    fn lock_account(&mut self, user: &str, now: NaiveDateTime) -> QueryResult<Credits>;
    fn set_debt(&mut self, user: &str, debt: Credits, now: NaiveDateTime) -> QueryResult<()>;
    fn set_remaining(&mut self, grant: &str, remaining: Credits) -> QueryResult<()>;
    fn insert_grants(&mut self, rows: &[GrantRow]) -> QueryResult<()>;
    fn insert_transactions(&mut self, rows: &[TransactionRow]) -> QueryResult<()>;
    /// Adds `calls` calls costing `cost` to the user's `usage` row of `minute`.
    fn add_usage(
        &mut self,
        user: &str,
        minute: NaiveDateTime,
        cost: Credits,
        calls: i64,
    ) -> QueryResult<()>;
    /// This instance's lease for the user (zero when it has none).
    fn lease_of(&mut self, instance: &str, user: &str) -> QueryResult<Credits>;
    /// Sets this instance's lease (a `credit_reservations` row; none when zero).
    fn set_lease(
        &mut self,
        instance: &str,
        user: &str,
        amount: Credits,
        now: NaiveDateTime,
    ) -> QueryResult<()>;
    /// Creates the user's row if needed and claims their starter credits: true for exactly one
    /// caller, ever (a conditional update on `users.starter_credits_granted`).
    fn claim_starter(&mut self, user: &str, role: &str, now: NaiveDateTime) -> QueryResult<bool>;
    /// Adds Payment Kit reports to the outbox (`db::outbox`).
    fn insert_reports(&mut self, rows: &[super::outbox::NewOutboxRow<'_>]) -> QueryResult<()>;

    /// [`LedgerStore::lock_account`] then [`LedgerRead::live_grants`] (PostgreSQL: one round
    /// trip once the account exists).
    fn open_account(
        &mut self,
        user: &str,
        now: NaiveDateTime,
    ) -> QueryResult<(Credits, Vec<LiveGrant>)> {
        let debt = self.lock_account(user, now)?;
        Ok((debt, self.live_grants(user, now)?))
    }

    /// The grant remainders (id, remaining) and `usage` additions (minute, cost, calls) of one
    /// user's debits (PostgreSQL: one statement).
    fn save_debits(
        &mut self,
        user: &str,
        remaining: &[(String, Credits)],
        usage: &[(NaiveDateTime, Credits, i64)],
    ) -> QueryResult<()> {
        for (id, left) in remaining {
            self.set_remaining(id, *left)?;
        }
        for (minute, cost, calls) in usage {
            self.add_usage(user, *minute, *cost, *calls)?;
        }
        Ok(())
    }
}

macro_rules! ledger_read {
    ($conn:ty) => {
        impl LedgerRead for $conn {
            fn debt(&mut self, user: &str) -> QueryResult<Credits> {
                Ok(credit_accounts::table
                    .find(user)
                    .select(credit_accounts::debt)
                    .first(self)
                    .optional()?
                    .unwrap_or_default())
            }

            fn live_grants(
                &mut self,
                user: &str,
                now: NaiveDateTime,
            ) -> QueryResult<Vec<LiveGrant>> {
                credit_grants::table
                    .filter(credit_grants::user_did.eq(user))
                    .filter(
                        credit_grants::expires_at
                            .is_null()
                            .or(credit_grants::expires_at.gt(now)),
                    )
                    .filter(credit_grants::remaining.ne("0"))
                    .select((
                        credit_grants::id,
                        credit_grants::remaining,
                        credit_grants::expires_at,
                        credit_grants::created_at,
                    ))
                    .load(self)
            }

            fn reserved(&mut self, user: &str) -> QueryResult<Vec<Credits>> {
                credit_reservations::table
                    .filter(credit_reservations::user_did.eq(user))
                    .select(credit_reservations::amount)
                    .load(self)
            }
        }
    };
}

macro_rules! no_lock {
    ($query:expr) => {
        $query
    };
}
macro_rules! for_update {
    ($query:expr) => {
        $query.for_update()
    };
}

macro_rules! ledger_store {
    ($conn:ty, $lock:ident, { $($extra:tt)* }) => {
        impl LedgerStore for $conn {
            fn lock_account(&mut self, user: &str, now: NaiveDateTime) -> QueryResult<Credits> {
                // The row exists after a user's first call: then one statement that locks it
                // without writing a new row version (PostgreSQL; SQLite's write transaction is
                // exclusive anyway).
                let query = credit_accounts::table
                    .find(user)
                    .select(credit_accounts::debt);
                if let Some(debt) = $lock!(query).first(self).optional()? {
                    return Ok(debt);
                }
                diesel::insert_into(credit_accounts::table)
                    .values((
                        credit_accounts::user_did.eq(user),
                        credit_accounts::debt.eq("0"),
                        credit_accounts::updated_at.eq(now),
                    ))
                    .on_conflict_do_nothing()
                    .execute(self)?;
                let query = credit_accounts::table
                    .find(user)
                    .select(credit_accounts::debt);
                $lock!(query).first(self)
            }

            fn set_debt(&mut self, user: &str, debt: Credits, now: NaiveDateTime) -> QueryResult<()> {
                diesel::update(credit_accounts::table.find(user))
                    .set((
                        credit_accounts::debt.eq(debt),
                        credit_accounts::updated_at.eq(now),
                    ))
                    .execute(self)
                    .map(drop)
            }

            fn set_remaining(&mut self, grant: &str, remaining: Credits) -> QueryResult<()> {
                diesel::update(credit_grants::table.find(grant))
                    .set(credit_grants::remaining.eq(remaining))
                    .execute(self)
                    .map(drop)
            }

            fn insert_grants(&mut self, rows: &[GrantRow]) -> QueryResult<()> {
                for chunk in rows.chunks(INSERT_ROWS) {
                    diesel::insert_into(credit_grants::table)
                        .values(chunk)
                        .execute(self)?;
                }
                Ok(())
            }

            fn insert_transactions(&mut self, rows: &[TransactionRow]) -> QueryResult<()> {
                for chunk in rows.chunks(INSERT_ROWS) {
                    diesel::insert_into(credit_transactions::table)
                        .values(chunk)
                        .execute(self)?;
                }
                Ok(())
            }

            $($extra)*

            fn lease_of(&mut self, instance: &str, user: &str) -> QueryResult<Credits> {
                Ok(credit_reservations::table
                    .find(lease_id(instance, user))
                    .select(credit_reservations::amount)
                    .first(self)
                    .optional()?
                    .unwrap_or_default())
            }

            fn set_lease(
                &mut self,
                instance: &str,
                user: &str,
                amount: Credits,
                now: NaiveDateTime,
            ) -> QueryResult<()> {
                let id = lease_id(instance, user);
                if amount.is_zero() {
                    diesel::delete(credit_reservations::table.find(&id)).execute(self)?;
                    return Ok(());
                }
                diesel::insert_into(credit_reservations::table)
                    .values(&ReservationRow {
                        id: id.clone(),
                        user_did: user.to_owned(),
                        amount,
                        instance_id: Some(instance.to_owned()),
                        created_at: now,
                    })
                    .on_conflict_do_nothing()
                    .execute(self)?;
                diesel::update(credit_reservations::table.find(&id))
                    .set((
                        credit_reservations::amount.eq(amount),
                        credit_reservations::created_at.eq(now),
                    ))
                    .execute(self)
                    .map(drop)
            }

            fn claim_starter(
                &mut self,
                user: &str,
                role: &str,
                now: NaiveDateTime,
            ) -> QueryResult<bool> {
                diesel::insert_into(users::table)
                    .values((
                        users::did.eq(user),
                        users::role.eq(role),
                        users::created_at.eq(now),
                        users::starter_credits_granted.eq(false),
                    ))
                    .on_conflict_do_nothing()
                    .execute(self)?;
                let claimed = diesel::update(
                    users::table
                        .find(user)
                        .filter(users::starter_credits_granted.eq(false)),
                )
                .set(users::starter_credits_granted.eq(true))
                .execute(self)?;
                Ok(claimed == 1)
            }

            fn insert_reports(
                &mut self,
                rows: &[super::outbox::NewOutboxRow<'_>],
            ) -> QueryResult<()> {
                for chunk in rows.chunks(INSERT_ROWS) {
                    diesel::insert_into(super::schema::meter_event_outbox::table)
                        .values(chunk)
                        .execute(self)?;
                }
                Ok(())
            }
        }
    };
}

ledger_read!(SqliteConnection);
ledger_read!(PgConnection);
// Reads only (the API); every ledger write goes through the writer thread.
ledger_read!(DbConnection);
ledger_store!(SqliteConnection, no_lock, {
    fn add_usage(
        &mut self,
        user: &str,
        minute: NaiveDateTime,
        cost: Credits,
        calls: i64,
    ) -> QueryResult<()> {
        use credit_transactions::dsl as t;
        let id = usage_id(user, minute);
        diesel::insert_into(credit_transactions::table)
            .values((
                t::id.eq(&id),
                t::user_did.eq(user),
                t::kind.eq("usage"),
                t::amount.eq("0"),
                t::created_at.eq(minute),
                t::call_count.eq(0),
            ))
            .on_conflict_do_nothing()
            .execute(self)?;
        let (amount, count): (Credits, i64) = credit_transactions::table
            .find(&id)
            .select((t::amount, t::call_count))
            .first(self)?;
        diesel::update(credit_transactions::table.find(&id))
            .set((t::amount.eq(amount - cost), t::call_count.eq(count + calls)))
            .execute(self)
            .map(drop)
    }
});
ledger_store!(PgConnection, for_update, {
    // Every statement here runs with each writer batch: prepared once per connection
    // (`CachedSql`), not planned again each time.
    fn open_account(
        &mut self,
        user: &str,
        now: NaiveDateTime,
    ) -> QueryResult<(Credits, Vec<LiveGrant>)> {
        let rows: Vec<AccountGrant> = CachedSql::new(
            "WITH a AS (SELECT debt FROM credit_accounts WHERE user_did = ? FOR UPDATE) \
             SELECT a.debt, g.id, g.remaining, g.expires_at, g.created_at FROM a \
             LEFT JOIN credit_grants g ON g.user_did = ? \
             AND (g.expires_at IS NULL OR g.expires_at > ?) AND g.remaining <> '0'",
        )
        .text(user)
        .text(user)
        .bind(Bind::Timestamp(now))
        .load(self)?;
        let Some(first) = rows.first() else {
            // The user's first debit: create the account (and lock it), then read.
            let debt = self.lock_account(user, now)?;
            return Ok((debt, self.live_grants(user, now)?));
        };
        let debt = first.debt;
        let grants = rows
            .into_iter()
            .filter_map(|r| {
                Some(LiveGrant {
                    id: r.id?,
                    remaining: r.remaining?,
                    expires_at: r.expires_at,
                    created_at: r.created_at?,
                })
            })
            .collect();
        Ok((debt, grants))
    }

    // One statement: the remainders and the `usage` rows (PostgreSQL adds the decimals itself;
    // `trim_scale` keeps the stored form free of trailing zeros, as `Credits` writes it).
    fn save_debits(
        &mut self,
        user: &str,
        remaining: &[(String, Credits)],
        usage: &[(NaiveDateTime, Credits, i64)],
    ) -> QueryResult<()> {
        if remaining.is_empty() && usage.is_empty() {
            return Ok(());
        }
        let mut sql = String::new();
        if !remaining.is_empty() {
            sql.push_str(&format!(
                "WITH g AS (UPDATE credit_grants AS c SET remaining = v.r \
                 FROM (VALUES {}) AS v(id, r) WHERE c.id = v.id RETURNING 1) ",
                vec!["(?::TEXT, ?::TEXT)"; remaining.len()].join(", ")
            ));
        }
        if usage.is_empty() {
            sql.push_str("SELECT count(*) FROM g");
        } else {
            sql.push_str(&format!(
                "INSERT INTO credit_transactions (id, user_did, kind, amount, created_at, call_count) \
                 VALUES {} ON CONFLICT (id) DO UPDATE SET \
                 amount = trim_scale(CAST(credit_transactions.amount AS NUMERIC) \
                                     + CAST(EXCLUDED.amount AS NUMERIC))::TEXT, \
                 call_count = credit_transactions.call_count + EXCLUDED.call_count",
                vec!["(?, ?, 'usage', ?, ?, ?)"; usage.len()].join(", ")
            ));
        }
        let mut query = CachedSql::new(sql);
        for (id, left) in remaining {
            query = query.text(id.as_str()).text(left.text());
        }
        for (minute, cost, calls) in usage {
            query = query
                .text(usage_id(user, *minute))
                .text(user)
                .text((-*cost).text())
                .bind(Bind::Timestamp(*minute))
                .bind(Bind::BigInt(*calls));
        }
        query.execute(self).map(drop)
    }

    fn add_usage(
        &mut self,
        user: &str,
        minute: NaiveDateTime,
        cost: Credits,
        calls: i64,
    ) -> QueryResult<()> {
        self.save_debits(user, &[], &[(minute, cost, calls)])
    }
});

/// A row of [`LedgerStore::open_account`] on PostgreSQL: the account's debt and one live grant
/// (none: NULLs).
#[derive(QueryableByName)]
struct AccountGrant {
    #[diesel(sql_type = diesel::sql_types::Text)]
    debt: Credits,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    id: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    remaining: Option<Credits>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    expires_at: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    created_at: Option<NaiveDateTime>,
}

/// The id of an instance's lease row for a user.
pub fn lease_id(instance: &str, user: &str) -> String {
    format!("lease-{instance}-{user}")
}

/// The id of a user's `usage` row for one minute (deterministic, so every instance adds to the
/// same row).
pub fn usage_id(user: &str, minute: NaiveDateTime) -> String {
    format!("usage-{}-{user}", minute.and_utc().timestamp())
}

/// A user's transactions, newest first.
pub fn transactions(
    conn: &mut DbConnection,
    user: &str,
    page: super::Page,
) -> QueryResult<(i64, Vec<TransactionRow>)> {
    let count = credit_transactions::table
        .filter(credit_transactions::user_did.eq(user))
        .count()
        .get_result(conn)?;
    let list = credit_transactions::table
        .filter(credit_transactions::user_did.eq(user))
        .order((
            credit_transactions::created_at.desc(),
            credit_transactions::id.desc(),
        ))
        .limit(page.page_size)
        .offset(page.offset())
        .select(TransactionRow::as_select())
        .load(conn)?;
    Ok((count, list))
}

/// Reservations a crashed process left behind: on SQLite (one process owns the file) all of
/// them; on PostgreSQL this instance's own, and anyone's older than 30 minutes.
pub fn drop_stale_reservations(
    conn: &mut DbConnection,
    backend: super::Backend,
    instance_id: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let stale = now - chrono::Duration::minutes(30);
    let mut query = diesel::delete(credit_reservations::table).into_boxed();
    if backend == super::Backend::Postgres {
        query = match instance_id {
            Some(id) => query.filter(
                credit_reservations::instance_id
                    .eq(id.to_owned())
                    .or(credit_reservations::created_at.lt(stale)),
            ),
            None => query.filter(credit_reservations::created_at.lt(stale)),
        };
    }
    query.execute(conn)
}

/// A user's grants, newest first (spent and expired ones too).
pub fn grants(
    conn: &mut DbConnection,
    user: &str,
    page: super::Page,
) -> QueryResult<(i64, Vec<GrantRow>)> {
    let count = credit_grants::table
        .filter(credit_grants::user_did.eq(user))
        .count()
        .get_result(conn)?;
    let list = credit_grants::table
        .filter(credit_grants::user_did.eq(user))
        .order((credit_grants::created_at.desc(), credit_grants::id.desc()))
        .limit(page.page_size)
        .offset(page.offset())
        .select(GrantRow::as_select())
        .load(conn)?;
    Ok((count, list))
}

/// What the user's unexpired grants with something left were granted, and how many they are
/// (the real Hub's `creditBalance.total` and `grantCount`).
pub fn live_grant_totals(
    conn: &mut DbConnection,
    user: &str,
    now: NaiveDateTime,
) -> QueryResult<(Credits, i64)> {
    let amounts: Vec<Credits> = credit_grants::table
        .filter(credit_grants::user_did.eq(user))
        .filter(
            credit_grants::expires_at
                .is_null()
                .or(credit_grants::expires_at.gt(now)),
        )
        .filter(credit_grants::remaining.ne("0"))
        .select(credit_grants::amount)
        .load(conn)?;
    let count = amounts.len() as i64;
    Ok((amounts.into_iter().sum(), count))
}
