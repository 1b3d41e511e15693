DROP INDEX model_calls_processing_idx;
CREATE INDEX model_calls_status_idx ON model_calls (status, created_at);
CREATE INDEX model_calls_instance_status_idx ON model_calls (instance_id, status);
