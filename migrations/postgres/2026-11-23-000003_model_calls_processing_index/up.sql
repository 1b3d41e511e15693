-- Only in-flight rows need finding by status (to fail interrupted calls). A partial index holds
-- just those, so the common case (a row written finished, or finished soon after) costs one
-- index entry less per status change than the full status indexes it replaces.
DROP INDEX model_calls_status_idx;
DROP INDEX model_calls_instance_status_idx;
CREATE INDEX model_calls_processing_idx ON model_calls (instance_id, created_at) WHERE status = 'processing';
