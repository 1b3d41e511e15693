-- The app (project) an access key calls for, when it was made for one: a call through the key
-- counts for that app unless the caller names another (`x-aigne-hub-client-did`).
ALTER TABLE access_keys ADD COLUMN app_did TEXT;
