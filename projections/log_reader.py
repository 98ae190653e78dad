"""The application's log read as the views need it: a batch of `Change`s, straight from the events table.

Why not the recorder's select_notifications: it builds a Notification per event and an aggregate id
(a UUID) from its text, and the views then turn that id back into text; over 1.7 million events that
was 7 s of a catch-up's 60 on SQLite, where the same rows read as plain columns take under 2. Here the
id is read as text (PostgreSQL casts it), and a Notification is built only for a view that asks for one.

`kinds` (the "Aggregate.Event" part of a topic) leaves out, in SQL, the events no view of a runner
handles, so that they are never built at all. A batch is read up to `stop`, a position the caller read
beforehand (the log's head), so that the caller knows how far it has looked even when no event of that
range was wanted. Other recorders (the in-memory one) are read through select_notifications, unfiltered.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from clusterlabel.projections.change import id_text
from clusterlabel.projections.stored_fields import StoredFields
from clusterlabel.projections.view import Change

# The kind of a stored topic, in SQL, exactly as kind_of() takes it in Python: the text after the first
# colon, or the whole topic when it has none (both functions answer 0 then).
_SQLITE_KIND = "substr(topic, instr(topic, ':') + 1)"
_POSTGRES_KIND = "substr(topic, strpos(topic, ':') + 1)"


class LogReader:
    """Reads batches of one application's log as Changes."""

    def __init__(self, app: Application[Any], stored: StoredFields) -> None:
        self.recorder = app.recorder
        self.stored = stored

    def changes(
        self, after: int, limit: int, stop: int | None = None, kinds: Collection[str] | None = None
    ) -> list[Change]:
        """Up to `limit` events after position `after` (and at most at `stop`), of `kinds` only when given."""
        if isinstance(self.recorder, SQLiteApplicationRecorder):
            return self._sqlite(after, limit, stop, kinds)
        if isinstance(self.recorder, PostgresApplicationRecorder):
            return self._postgres(after, limit, stop, kinds)
        notifications = self.recorder.select_notifications(
            start=after, limit=limit, stop=stop, inclusive_of_start=False
        )
        # Every kind, unfiltered (why: a batch cut short here by the limit, then filtered, would read as the end of
        # what was wanted; the views pass over the kinds they do not handle).
        return [Change(notification, self.stored) for notification in notifications]

    def _sqlite(self, after: int, limit: int, stop: int | None, kinds: Collection[str] | None) -> list[Change]:
        recorder: SQLiteApplicationRecorder = self.recorder  # type: ignore[assignment]
        where: list[str] = ["rowid > ?"]
        params: list[Any] = [after]
        if stop is not None:
            where.append("rowid <= ?")
            params.append(stop)
        if kinds is not None:
            where.append(f"{_SQLITE_KIND} IN ({', '.join('?' for _ in kinds)})")
            params += sorted(kinds)
        sql = (
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {recorder.events_table_name} "
            f"WHERE {' AND '.join(where)} ORDER BY rowid LIMIT ?"
        )
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(sql, [*params, limit])
            return self._built(cursor.fetchall())

    def _postgres(self, after: int, limit: int, stop: int | None, kinds: Collection[str] | None) -> list[Change]:
        recorder: PostgresApplicationRecorder = self.recorder  # type: ignore[assignment]
        params: list[Any] = [after]
        kind = SQL("")
        if kinds is not None:
            kind = SQL(f" AND {_POSTGRES_KIND} = ANY(%s)")
            params.append(sorted(kinds))
        # No upper bound in SQL: with one, a store not analysed yet (one just written in bulk) is read by a
        # bitmap scan of the whole range and a sort (20 times slower, measured); rows past `stop` are cut here.
        sql: Composed = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state FROM {}.{} "
            "WHERE notification_id > %s{} ORDER BY notification_id LIMIT %s"
        ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name), kind)
        # Binary rows: bytea and integers come as they are, not parsed from text.
        with (
            recorder.datastore.get_connection() as connection,
            connection.cursor(row_factory=tuple_row, binary=True) as cursor,
        ):
            cursor.execute(sql, [*params, limit], prepare=True)
            rows = cursor.fetchall()
        if stop is not None and rows and rows[-1][0] > stop:
            rows = [row for row in rows if row[0] <= stop]
        return self._built(rows)

    def _built(self, rows: Sequence[Sequence[Any]]) -> list[Change]:
        stored, row_change = self.stored, Change.from_row
        # Each aggregate's id made canonical text once a batch, not once an event: and its events then share
        # one string, whose hash the views' dicts of rows by id work out once.
        keys: dict[Any, str] = {}
        changes = []
        for position, raw, version, topic, state in rows:
            key = keys.get(raw)
            if key is None:
                key = keys[raw] = id_text(raw)
            changes.append(row_change(position, key, version, topic, state, stored))
        return changes
