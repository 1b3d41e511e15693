-- Every change of a model rate: who made it, when, and the rate before and after (JSON
-- `{inputRate, outputRate, unitCosts, caching}`; `previous` is NULL for a new rate, `current`
-- for a deleted one). Kept when the rate itself is deleted.
CREATE TABLE ai_model_rate_histories (
    id TEXT PRIMARY KEY NOT NULL,
    rate_id TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    model TEXT NOT NULL,
    type TEXT NOT NULL,
    change TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    previous TEXT,
    current TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ai_model_rate_histories_created_idx ON ai_model_rate_histories (created_at);
CREATE INDEX ai_model_rate_histories_rate_idx ON ai_model_rate_histories (rate_id, created_at);

-- What the Hub tells operators and users (a key disabled or restored, a rate below cost, credits
-- granted, a low balance). `user_did` is the user it concerns, if any; `data` is JSON.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    data TEXT NOT NULL,
    user_did TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notifications_created_idx ON notifications (created_at);

-- The outbox of notifications: one row per notification and channel (`blocklet`, or a webhook
-- URL), written in the notification's transaction, sent until the receiver accepts it.
CREATE TABLE notification_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    notification_id TEXT NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (delivered_at, next_attempt_at);
CREATE INDEX notification_deliveries_notification_idx ON notification_deliveries (notification_id);
