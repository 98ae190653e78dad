"""The stored events behind a history, read from the application's event log in one query.

A case's history shows its own events and those of its messages, a cluster's those of all its cases
and labels: several records, each of them an aggregate. eventsourcing's recorder reads one aggregate
a query, and on PostgreSQL each query is a round trip (0.3 to 0.4 ms on this project's machine, most of
a history's time there); so the log is read here with one statement for all the records, on the two
stores this project runs on. Any other recorder is read an aggregate at a time, through its own API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from clusterlabel.projections.stored_fields import StoredFields

# Secrets stay out of histories: they show that a verification code was issued, never the
# code, which only the secretariat reads from the label itself.
_SECRET = frozenset({"verification_code"})
# SQLite's default limit on a statement's parameters is 32,766 (999 before 3.32): a cluster's records
# are read in chunks well under either.
_SQLITE_CHUNK = 500
_COLUMNS = "originator_id, originator_version, topic, state"

Events = dict[str, dict[int, dict[str, Any]]]  # record id (text) -> version -> the event's fields


class EventLog:
    """The events of several records, read at once, as plain data with secrets redacted."""

    def __init__(self, recorder: Any, stored: StoredFields) -> None:
        self.recorder = recorder
        self.stored = stored

    def events(self, versions: Mapping[str, Sequence[int]]) -> Events:
        """Each record's wanted versions (envelope included) as plain data; a version the log does not
        hold is left out."""
        ids = [UUID(record_id) for record_id in versions]
        wanted = {record_id: set(numbers) for record_id, numbers in versions.items()}
        found: Events = {record_id: {} for record_id in versions}
        for event in self._stored_events(ids):
            record_id = str(_uuid(event.originator_id))
            if event.originator_version in wanted[record_id]:
                found[record_id][event.originator_version] = _redacted(self.stored.plain(event))
        return found

    def _stored_events(self, ids: list[UUID]) -> list[StoredEvent]:
        if not ids:
            return []
        if isinstance(self.recorder, PostgresAggregateRecorder):
            return _postgres_events(self.recorder, ids)
        if isinstance(self.recorder, SQLiteAggregateRecorder):
            return _sqlite_events(self.recorder, ids)
        return [event for record_id in ids for event in self.recorder.select_events(record_id)]


# Retried as the recorder's own reads are (the datastore raises eventsourcing's errors, not psycopg's).
@retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
def _postgres_events(recorder: PostgresAggregateRecorder, ids: list[UUID]) -> list[StoredEvent]:
    statement = SQL(f"SELECT {_COLUMNS} FROM {{schema}}.{{table}} WHERE originator_id = ANY(%s)").format(
        schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name)
    )
    as_stored: list[Any] = ids if recorder.datastore.originator_id_type == "uuid" else [str(i) for i in ids]
    with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
        cursor.execute(statement, [as_stored], prepare=True)
        return [_stored(row, row["originator_id"], bytes(row["state"])) for row in cursor.fetchall()]


def _sqlite_events(recorder: SQLiteAggregateRecorder, ids: list[UUID]) -> list[StoredEvent]:
    found: list[StoredEvent] = []
    for start in range(0, len(ids), _SQLITE_CHUNK):
        chunk = [record_id.hex for record_id in ids[start : start + _SQLITE_CHUNK]]  # stored as the recorder does
        marks = ",".join("?" * len(chunk))
        statement = f"SELECT {_COLUMNS} FROM {recorder.events_table_name} WHERE originator_id IN ({marks})"
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, chunk)
            rows = cursor.fetchall()
        found += [_stored(row, recorder.convert_originator_id(row["originator_id"]), row["state"]) for row in rows]
    return found


def _stored(row: Any, originator_id: Any, state: bytes) -> StoredEvent:
    return StoredEvent(
        originator_id=originator_id, originator_version=row["originator_version"], topic=row["topic"], state=state
    )


def _uuid(originator_id: UUID | str) -> UUID:
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)  # a text id: hex or dashed


def _redacted(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: "[redacted]" if key in _SECRET else value for key, value in fields.items()}
