-- The call log filtered by app, newest first: without it a page of a rare app read the whole
-- time index (180 ms at a million calls). Calls without an app are left out of it.
CREATE INDEX model_calls_app_time_idx ON model_calls (app_did, call_time) WHERE app_did IS NOT NULL;
