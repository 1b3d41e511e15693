-- Usage charts read rollups by user (any app), by app (any user) and by time; retention deletes
-- by time.
CREATE INDEX model_call_stats_user_idx ON model_call_stats (user_did, time_type, timestamp);
CREATE INDEX model_call_stats_app_idx ON model_call_stats (app_did, time_type, timestamp);
CREATE INDEX model_call_stats_time_idx ON model_call_stats (timestamp);
