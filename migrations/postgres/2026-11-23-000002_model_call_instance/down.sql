DROP INDEX model_calls_instance_status_idx;
ALTER TABLE model_calls DROP COLUMN instance_id;
