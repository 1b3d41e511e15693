DROP TABLE model_aliases;
