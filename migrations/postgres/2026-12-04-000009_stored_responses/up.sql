-- Responses stored by the OpenAI Responses API (`store`, the default): what a later
-- `previous_response_id` continues from, whichever provider and key serve that turn. `input` and
-- `output` are this turn's items as JSON arrays; `body` is the response object as answered.
-- Rows belong to one user: another user's id is unknown to them.
CREATE TABLE stored_responses (
    id TEXT PRIMARY KEY NOT NULL,
    user_did TEXT NOT NULL,
    previous_response_id TEXT,
    input TEXT NOT NULL,
    output TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX stored_responses_created_at ON stored_responses (created_at);
