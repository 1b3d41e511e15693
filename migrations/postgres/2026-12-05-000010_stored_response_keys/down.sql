CREATE TABLE stored_responses_by_id (
    id TEXT PRIMARY KEY NOT NULL,
    user_did TEXT NOT NULL,
    previous_response_id TEXT,
    input TEXT NOT NULL,
    output TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO stored_responses_by_id
    (id, user_did, previous_response_id, input, output, body, created_at)
SELECT id, user_did, previous_response_id, input, output, body, created_at FROM stored_responses;
DROP TABLE stored_responses;
DROP TABLE stored_response_ids;
ALTER TABLE stored_responses_by_id RENAME TO stored_responses;
CREATE INDEX stored_responses_created_at ON stored_responses (created_at);
