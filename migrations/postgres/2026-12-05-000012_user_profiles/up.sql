-- Profile fields the real Hub answers in `/api/user/info` (`user.fullName` is `name`): set by
-- the user or an admin in standalone mode; on Blocklet Server they come from the login and
-- Blocklet Server's user record.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN avatar TEXT;
