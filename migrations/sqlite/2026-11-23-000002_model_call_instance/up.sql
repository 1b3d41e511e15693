-- The Hub instance that wrote a call row, so a restarted instance can fail its own interrupted
-- calls at once while other instances' in-flight rows are left alone (PostgreSQL scale-out).
ALTER TABLE model_calls ADD COLUMN instance_id TEXT;
CREATE INDEX model_calls_instance_status_idx ON model_calls (instance_id, status);
