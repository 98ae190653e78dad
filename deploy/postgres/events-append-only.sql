-- The event table, append-only for the application's role: it may add events and read them,
-- never change or remove one. Run it as the owner of the schema (in compose: once, when the
-- events-db volume is first initialised, after events-schema.sql; elsewhere: psql -f, as the
-- role that owns the database). It is safe to run again.
--
-- Two settings name what it works on (defaults: schema clusterlabel, role clusterlabel):
--   SET clusterlabel.schema = 'clusterlabel'; SET clusterlabel.app_role = 'clusterlabel';
--
-- What the application's role gets:
-- - on the schema: USAGE and CREATE, so that it creates and owns the read models' tables, their
--   tracking tables, the API's token table and eventsourcing's insert function and type;
-- - on the event table: SELECT and INSERT, and UPDATE only because PostgreSQL allows
--   `LOCK TABLE ... IN EXCLUSIVE MODE` (which eventsourcing takes on every insert, to keep
--   notification ids in commit order) only to a role with UPDATE, DELETE or TRUNCATE on the table.
--   A trigger the role does not own refuses every UPDATE; DELETE and TRUNCATE are not granted.
-- The table and its row type (created here with eventsourcing 9.5's own definitions: the application,
-- run with CLUSTERLABEL_EVENT_TABLE_APPEND_ONLY=true, does not create them), its triggers and the
-- schema stay the owner's: the application's role cannot drop, alter, truncate or disable them.
DO $grants$
DECLARE
    schema_name text := coalesce(nullif(current_setting('clusterlabel.schema', true), ''), 'clusterlabel');
    app_role text := coalesce(nullif(current_setting('clusterlabel.app_role', true), ''), 'clusterlabel');
    events text := format('%I.clusterlabel_events', schema_name);
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app_role) THEN
        EXECUTE format('CREATE ROLE %I LOGIN', app_role);
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = app_role AND (rolsuper OR rolbypassrls)) THEN
        RAISE WARNING 'role % is a superuser: no grant binds it; connect clusterlabel as a plain role', app_role;
    END IF;
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', schema_name);
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %s (originator_id uuid NOT NULL, originator_version bigint NOT NULL, '
        'topic text, state bytea, notification_id bigserial, PRIMARY KEY (originator_id, originator_version)) '
        'WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000, '
        'autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000, '
        'autovacuum_analyze_scale_factor = 0.01)',
        events
    );
    EXECUTE format(
        'CREATE UNIQUE INDEX IF NOT EXISTS clusterlabel_events_notification_id_idx ON %s (notification_id ASC)', events
    );
    -- The row type eventsourcing inserts events as (it creates it with the table, so here it must too).
    IF NOT EXISTS (
        SELECT FROM pg_type JOIN pg_namespace ON pg_namespace.oid = pg_type.typnamespace
        WHERE typname = 'stored_event_uuid' AND nspname = schema_name
    ) THEN
        EXECUTE format(
            'CREATE TYPE %I.stored_event_uuid AS (originator_id uuid, originator_version bigint, topic text, state bytea)',
            schema_name
        );
    END IF;
    EXECUTE format(
        'CREATE OR REPLACE FUNCTION %I.clusterlabel_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS '
        '$body$BEGIN RAISE EXCEPTION ''the event table is append-only: %% refused'', TG_OP '
        'USING ERRCODE = ''insufficient_privilege''; END;$body$',
        schema_name
    );
    EXECUTE format('DROP TRIGGER IF EXISTS clusterlabel_events_no_update ON %s', events);
    EXECUTE format(
        'CREATE TRIGGER clusterlabel_events_no_update BEFORE UPDATE OR DELETE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION %I.clusterlabel_events_are_append_only()',
        events, schema_name
    );
    EXECUTE format('DROP TRIGGER IF EXISTS clusterlabel_events_no_truncate ON %s', events);
    EXECUTE format(
        'CREATE TRIGGER clusterlabel_events_no_truncate BEFORE TRUNCATE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION %I.clusterlabel_events_are_append_only()',
        events, schema_name
    );
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', events);
    EXECUTE format('REVOKE ALL ON %s FROM %I', events, app_role);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %s TO %I', events, app_role);
    EXECUTE format('GRANT USAGE ON SEQUENCE %I.clusterlabel_events_notification_id_seq TO %I', schema_name, app_role);
    EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', schema_name, app_role);
END
$grants$;
