-- A stored turn is found by an integer key that its id carries (`resp_` + 16 hex digits of the
-- key + 32 random hex digits): one index per stored turn instead of three, and retention deletes
-- a key range. Key = milliseconds since 2025-01-01 UTC shifted left 22 bits, low bits from a
-- per-process counter. A turn whose key another instance took, and every turn stored before
-- this change, is found through `stored_response_ids` (its id → its key).
CREATE TABLE stored_responses_keyed (
    turn_key BIGINT PRIMARY KEY NOT NULL,
    id TEXT NOT NULL,
    user_did TEXT NOT NULL,
    previous_response_id TEXT,
    input TEXT NOT NULL,
    output TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO stored_responses_keyed
    (turn_key, id, user_did, previous_response_id, input, output, body, created_at)
SELECT (GREATEST(0, FLOOR(EXTRACT(EPOCH FROM (created_at - TIMESTAMP '2025-01-01')) * 1000))::bigint << 22)
       | (ROW_NUMBER() OVER (ORDER BY created_at, id) & 4194303),
       id, user_did, previous_response_id, input, output, body, created_at
FROM stored_responses;
CREATE TABLE stored_response_ids (
    id TEXT PRIMARY KEY NOT NULL,
    turn_key BIGINT NOT NULL
);
CREATE INDEX stored_response_ids_key ON stored_response_ids (turn_key);
INSERT INTO stored_response_ids (id, turn_key) SELECT id, turn_key FROM stored_responses_keyed;
DROP TABLE stored_responses;
ALTER TABLE stored_responses_keyed RENAME TO stored_responses;
