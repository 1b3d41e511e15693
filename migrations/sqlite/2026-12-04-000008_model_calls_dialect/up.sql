-- The client dialect a call came in on (`openai`, `aigne`, `v1`, `anthropic`, …); rows written
-- before this column existed have none.
ALTER TABLE model_calls ADD COLUMN dialect TEXT;
