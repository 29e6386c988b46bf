-- Runs once, when the postgres service starts on an empty data volume (docker-entrypoint-initdb.d), as
-- POSTGRES_USER, after POSTGRES_DB (the hub's store, "autohub") was created.
-- The second database: Airflow's metadata, on the same server, apart from the hub's tables.
CREATE DATABASE airflow;
