-- Connect sessions (`aigne hub connect` on a standalone Hub): a CLI opens one, a signed-in user
-- approves or refuses it in the console, and the CLI polls it for the access key minted on
-- approval. `id` is the session's only secret (it travels in the approval page's URL). Until the
-- CLI deletes it (or it expires, in minutes), the minted key waits here sealed with the Hub's
-- secret key, never in plaintext.
CREATE TABLE access_key_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    challenge TEXT NOT NULL,
    status TEXT NOT NULL,
    user_did TEXT,
    access_key_id TEXT,
    sealed_key TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX access_key_sessions_expires ON access_key_sessions (expires_at);
