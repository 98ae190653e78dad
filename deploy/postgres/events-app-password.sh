#!/bin/sh
# Runs once, when the events-db volume is first initialised, after events-append-only.sql made the
# application's role `clusterlabel`: it logs in with the events_db_password secret, the password in
# the database URL. The superuser that owns the schema and the event table is another role.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=password="$(cat /run/secrets/events_db_password)" <<'SQL'
ALTER ROLE clusterlabel PASSWORD :'password';
SQL
