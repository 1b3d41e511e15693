DROP INDEX model_calls_app_time_idx;
