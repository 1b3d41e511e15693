ALTER TABLE projects DROP COLUMN fetched_at;
