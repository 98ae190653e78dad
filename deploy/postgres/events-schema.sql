-- Runs once, when the events-db volume is first initialised (docker-entrypoint-initdb.d).
-- The event store and every read model live in this schema, named by ?schema= in the
-- database URL; clusterlabel creates its tables there on first start.
CREATE SCHEMA IF NOT EXISTS clusterlabel AUTHORIZATION CURRENT_USER;
