-- Payment Kit reports (SPEC §9): each billed call's amount is an outbox row written in the call's
-- transaction; the sender gives a group of rows of one (user, app) one `identifier` before it
-- first sends them (so every retry carries the same identifier), and marks them sent once
-- Payment Kit has the event.
--   instance_id: the instance whose sender reports the row (others take over rows a dead
--     instance left behind, PostgreSQL).
ALTER TABLE meter_event_outbox ADD COLUMN instance_id TEXT;
CREATE INDEX meter_event_outbox_user_status_idx ON meter_event_outbox (user_did, status);
CREATE INDEX meter_event_outbox_identifier_idx ON meter_event_outbox (identifier);
