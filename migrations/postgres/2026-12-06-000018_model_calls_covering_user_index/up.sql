-- A member's filtered call log (status, model, a week) read ~8,000 scattered table rows per
-- page to count its matches at ten million calls (p95 ~80-100 ms). With status and model in the
-- user index the count is an index-only scan (~5 ms); the index grows ~6 bytes per call.
DROP INDEX model_calls_user_time_idx;
CREATE INDEX model_calls_user_time_idx ON model_calls (user_did, call_time) INCLUDE (status, model);
-- PostgreSQL keeps no statistics for a partial index's expression, so it guessed 0.5% of all
-- calls for one trace id and scanned the whole time index backwards for a page of results
-- (seconds at ten million calls). Statistics on the expression itself (PostgreSQL 14+) tell it
-- a trace id matches a handful of rows.
CREATE STATISTICS model_calls_trace_stats ON (substr(trace_id, 4, 32)) FROM model_calls;
-- Likewise the model filter (`lower(model) LIKE '%…%'`): without statistics on the expression
-- the planner expected a handful of matches, read all of a member's week (~21,000 table pages)
-- and sorted it for a page of 20 (~90 ms), where walking the user index backwards reads ~21 rows.
CREATE STATISTICS model_calls_model_stats ON (lower(model)) FROM model_calls;
ANALYZE model_calls;
