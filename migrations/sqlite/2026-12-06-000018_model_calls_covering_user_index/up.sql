-- PostgreSQL only (a covering user index and statistics on the trace id expression). SQLite's
-- planner already answers these searches from its indexes (measured at ten million calls), so
-- this migration exists here only to keep the two folders' names the same.
SELECT 1;
