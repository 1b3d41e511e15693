DROP STATISTICS model_calls_model_stats;
DROP STATISTICS model_calls_trace_stats;
DROP INDEX model_calls_user_time_idx;
CREATE INDEX model_calls_user_time_idx ON model_calls (user_did, call_time);
