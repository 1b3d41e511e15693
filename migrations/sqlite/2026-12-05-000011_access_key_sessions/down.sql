DROP TABLE access_key_sessions;
