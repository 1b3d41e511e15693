-- When the Hub last read a project's `__blocklet__.js` (its name and logo) from its URL; read
-- again weekly, a failed read again after a day.
ALTER TABLE projects ADD COLUMN fetched_at TIMESTAMP;
