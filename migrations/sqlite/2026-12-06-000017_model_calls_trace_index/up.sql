-- A trace id or a whole traceparent pasted into the call log's search is looked up here
-- instead of a LIKE over every row. Only calls that came with a traceparent are in it.
CREATE INDEX model_calls_trace_idx ON model_calls (trace_id) WHERE trace_id IS NOT NULL;
