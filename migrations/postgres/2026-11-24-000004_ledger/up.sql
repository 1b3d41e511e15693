-- Built-in ledger (SPEC §9), allocated first-expiring-first:
--   credit_grants.remaining: what is left of a grant (a debit takes from the grant that expires
--     first, so an expiring grant that was partly spent is not charged twice);
--   credit_accounts: one row per user, the lock two instances take before touching the user's
--     ledger, and the debt a call left when it cost more than the user had (paid by the next grant);
--   credit_reservations: what admitted, unfinished calls may still spend (estimate per call,
--     PostgreSQL; SQLite holds them in memory);
--   credit_transactions.call_count: calls are debited as one `usage` row per user and minute
--     (amount and count add up), so the ledger grows with time, not with traffic; each call's
--     own cost is in model_calls.credits.
ALTER TABLE credit_grants ADD COLUMN remaining TEXT NOT NULL DEFAULT '0';
ALTER TABLE credit_transactions ADD COLUMN call_count BIGINT NOT NULL DEFAULT 0;
UPDATE credit_grants SET remaining = amount;
CREATE INDEX credit_grants_user_expiry_idx ON credit_grants (user_did, expires_at);
DROP INDEX credit_grants_user_idx;

CREATE TABLE credit_accounts (
    user_did TEXT PRIMARY KEY NOT NULL,
    debt TEXT NOT NULL DEFAULT '0',
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE credit_reservations (
    id TEXT PRIMARY KEY NOT NULL,
    user_did TEXT NOT NULL,
    amount TEXT NOT NULL,
    instance_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX credit_reservations_user_idx ON credit_reservations (user_did);
