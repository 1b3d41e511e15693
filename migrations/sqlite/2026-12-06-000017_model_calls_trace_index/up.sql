-- A trace id (the 32 hex digits after `00-` in a stored traceparent) pasted into the call log's
-- search is looked up here instead of a LIKE over every row. An expression, not a range of
-- the column: equality does not depend on the database's collation. Only calls that came with
-- a traceparent are in it.
CREATE INDEX model_calls_trace_idx ON model_calls (substr(trace_id, 4, 32)) WHERE trace_id IS NOT NULL;
