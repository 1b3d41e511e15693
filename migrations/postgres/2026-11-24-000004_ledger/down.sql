DROP TABLE credit_reservations;
DROP TABLE credit_accounts;
CREATE INDEX credit_grants_user_idx ON credit_grants (user_did);
DROP INDEX credit_grants_user_expiry_idx;
ALTER TABLE credit_grants DROP COLUMN remaining;
ALTER TABLE credit_transactions DROP COLUMN call_count;
