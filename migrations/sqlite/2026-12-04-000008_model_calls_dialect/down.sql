ALTER TABLE model_calls DROP COLUMN dialect;
