-- Foundation schema (SPEC §4). Portable types only, so that `diesel print-schema`
-- yields the same schema.rs on SQLite and PostgreSQL:
--   ids, JSON documents and exact decimals are TEXT; counters are BIGINT;
--   flags are BOOLEAN; times are TIMESTAMP (UTC, written by the Hub).
CREATE TABLE ai_providers (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    base_url TEXT,
    region TEXT,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    config TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE ai_credentials (
    id TEXT PRIMARY KEY NOT NULL,
    provider_id TEXT NOT NULL REFERENCES ai_providers(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    credential_value TEXT NOT NULL,
    credential_type TEXT NOT NULL DEFAULT 'api_key',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    last_used_at TIMESTAMP,
    usage_count BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    weight BIGINT NOT NULL DEFAULT 100,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (provider_id, name)
);
CREATE INDEX ai_credentials_provider_idx ON ai_credentials (provider_id);

CREATE TABLE ai_model_rates (
    id TEXT PRIMARY KEY NOT NULL,
    provider_id TEXT NOT NULL REFERENCES ai_providers(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    model_display TEXT,
    description TEXT,
    type TEXT NOT NULL,
    input_rate TEXT NOT NULL,
    output_rate TEXT NOT NULL,
    unit_costs TEXT,
    caching TEXT,
    model_metadata TEXT,
    deprecated BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (provider_id, model, type)
);
CREATE INDEX ai_model_rates_model_idx ON ai_model_rates (model);

CREATE TABLE model_calls (
    id TEXT PRIMARY KEY NOT NULL,
    provider_id TEXT,
    model TEXT NOT NULL,
    credential_id TEXT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    total_usage BIGINT NOT NULL DEFAULT 0,
    usage_metrics TEXT,
    credits TEXT NOT NULL DEFAULT '0',
    duration_ms BIGINT,
    ttfb_ms BIGINT,
    provider_ttfb_ms BIGINT,
    error_reason TEXT,
    app_did TEXT,
    user_did TEXT,
    request_id TEXT,
    trace_id TEXT,
    metadata TEXT,
    call_time TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX model_calls_user_time_idx ON model_calls (user_did, call_time);
CREATE INDEX model_calls_time_idx ON model_calls (call_time);
CREATE INDEX model_calls_status_idx ON model_calls (status, created_at);

CREATE TABLE model_call_stats (
    id TEXT PRIMARY KEY NOT NULL,
    user_did TEXT NOT NULL DEFAULT '',
    app_did TEXT NOT NULL DEFAULT '',
    time_type TEXT NOT NULL,
    timestamp BIGINT NOT NULL,
    total_calls BIGINT NOT NULL DEFAULT 0,
    success_calls BIGINT NOT NULL DEFAULT 0,
    failed_calls BIGINT NOT NULL DEFAULT 0,
    total_usage BIGINT NOT NULL DEFAULT 0,
    total_credits TEXT NOT NULL DEFAULT '0',
    total_duration_ms BIGINT NOT NULL DEFAULT 0,
    stats TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (user_did, app_did, time_type, timestamp)
);

CREATE TABLE apps (
    id TEXT PRIMARY KEY NOT NULL,
    public_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE projects (
    app_did TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    logo TEXT,
    url TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE ai_model_statuses (
    id TEXT PRIMARY KEY NOT NULL,
    provider_id TEXT NOT NULL REFERENCES ai_providers(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    type TEXT NOT NULL,
    available BOOLEAN NOT NULL,
    error TEXT,
    response_time BIGINT,
    checked_at TIMESTAMP NOT NULL,
    UNIQUE (provider_id, model, type)
);

CREATE TABLE users (
    did TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    starter_credits_granted BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE access_keys (
    id TEXT PRIMARY KEY NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    user_did TEXT NOT NULL REFERENCES users(did) ON DELETE CASCADE,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    expires_at TIMESTAMP,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX access_keys_user_idx ON access_keys (user_did);

CREATE TABLE credit_grants (
    id TEXT PRIMARY KEY NOT NULL,
    user_did TEXT NOT NULL,
    amount TEXT NOT NULL,
    category TEXT NOT NULL,
    expires_at TIMESTAMP,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX credit_grants_user_idx ON credit_grants (user_did);

CREATE TABLE credit_transactions (
    id TEXT PRIMARY KEY NOT NULL,
    user_did TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    grant_id TEXT,
    model_call_id TEXT,
    description TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX credit_transactions_user_idx ON credit_transactions (user_did, created_at);

CREATE TABLE meter_event_outbox (
    id TEXT PRIMARY KEY NOT NULL,
    user_did TEXT NOT NULL,
    app_did TEXT,
    amount TEXT NOT NULL,
    model_call_id TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    identifier TEXT,
    last_error TEXT,
    next_attempt_at TIMESTAMP,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX meter_event_outbox_status_idx ON meter_event_outbox (status, next_attempt_at);
