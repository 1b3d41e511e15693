ALTER TABLE access_keys DROP COLUMN app_did;
