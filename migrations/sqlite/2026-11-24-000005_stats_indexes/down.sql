DROP INDEX model_call_stats_time_idx;
DROP INDEX model_call_stats_app_idx;
DROP INDEX model_call_stats_user_idx;
