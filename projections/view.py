"""A view: tables, and how a batch of the application's events changes them, exactly once.

`Change` is one notification of the application's log, decoded once per batch and shared by
every view. `View.apply()` writes a batch and its tracking in one transaction; a batch (or
the part of it) that another runner already applied is skipped, never applied twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Mapper, Notification, Tracking

from projections.store import Row, ViewStore, plain

_ENVELOPE = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp"})
# Secrets stay out of read models: the history shows that a verification code was issued,
# never the code, which only the secretariat reads from the label itself.
_SECRET = frozenset({"verification_code"})


@dataclass
class Change:
    """One stored event: its place in the log, and the domain event decoded on first use."""

    notification: Notification
    mapper: Mapper[Any] = field(repr=False)

    @property
    def id(self) -> int:
        return self.notification.id

    @cached_property
    def aggregate_id(self) -> UUID:
        originator_id = self.notification.originator_id
        return originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))

    @cached_property
    def key(self) -> str:
        """The aggregate id as text, the form every view stores it in."""
        return str(self.aggregate_id)

    @property
    def version(self) -> int:
        return self.notification.originator_version

    @cached_property
    def kind(self) -> str:
        """"Aggregate.Event", e.g. "Label.Withdrawn" (two aggregates have a "Withdrawn")."""
        return self.notification.topic.rpartition(":")[2]

    @property
    def aggregate_type(self) -> str:
        return self.kind.partition(".")[0]

    @property
    def event_type(self) -> str:
        return self.kind.rpartition(".")[2]

    @cached_property
    def event(self) -> Any:
        return self.mapper.to_domain_event(self.notification)

    def __getitem__(self, name: str) -> Any:
        return getattr(self.event, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self.event, name, default)

    @property
    def timestamp(self) -> datetime:
        return self.event.timestamp

    @cached_property
    def data(self) -> dict[str, Any]:
        """The event's own fields as plain JSON data (without the envelope)."""
        return json.loads(self.data_json)

    @cached_property
    def data_json(self) -> str:
        """The same as JSON text; json's C encoder does the walk (why: it is the audit's hot path)."""
        fields = {k: "[redacted]" if k in _SECRET else v for k, v in vars(self.event).items() if k not in _ENVELOPE}
        return json.dumps(fields, sort_keys=True, default=_plain_scalar)


def _plain_scalar(value: Any) -> Any:
    """What json cannot encode by itself, as plain() would write it."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return plain(value)


class View(ViewStore):
    """A read model. Subclasses list their DDL and handle events by "Aggregate.Event" name."""

    name: ClassVar[str] = ""
    ddl: ClassVar[tuple[str, ...]] = ()
    handlers: ClassVar[dict[str, str]] = {}  # "Label.Issued" -> method name

    def create_table(self) -> None:
        super().create_table()  # the tracking table
        with self.write() as cursor:
            for statement in self.ddl:
                cursor.execute(self.q(statement))

    def apply(self, changes: Sequence[Change], tracking: Tracking) -> int:
        """Apply the changes this view has not seen yet and record tracking; how many applied."""
        try:
            with self.write() as cursor:
                done = self.tracked(cursor, tracking.application_name)
                if tracking.notification_id <= done:
                    return 0  # another runner got there first
                todo = [change for change in changes if change.id > done]
                batch = self.begin_batch(cursor)
                for change in todo:
                    self.handle(cursor, batch, change)
                self.end_batch(cursor, batch)
                self.track(cursor, tracking)
                return len(todo)
        except IntegrityError:
            return 0  # tracking conflict: the same position was recorded by someone else

    def handle(self, cursor: Any, batch: Any, change: Change) -> None:
        method = self.handlers.get(change.kind)
        if method is not None:
            getattr(self, method)(cursor, batch, change)

    def begin_batch(self, cursor: Any) -> Any:
        """State kept across one batch (a row cache); written by end_batch()."""
        return None

    def end_batch(self, cursor: Any, batch: Any) -> None:
        pass

    def reset(self, application_name: str) -> None:
        """Drop and recreate the view's tables and forget its position, in one transaction."""
        with self.write() as cursor:
            for table in self.view_tables:
                cursor.execute(self.q(f"DROP TABLE IF EXISTS {{{table}}}"))
            for statement in self.ddl:
                cursor.execute(self.q(statement))
            cursor.execute(self.q("DELETE FROM {tracking} WHERE application_name = ?"), (application_name,))

    def dump(self) -> dict[str, list[Row]]:
        """Every row of every table, in a stable order (for comparing two builds)."""
        return {
            table: sorted(self.fetch(f"SELECT * FROM {{{table}}}"), key=lambda row: json.dumps(row, sort_keys=True, default=str))
            for table in self.view_tables
        }


class RowCache:
    """The rows of one table a batch touches: each loaded once, written once at the end."""

    def __init__(self, view: View, table: str, key: str, json_columns: tuple[str, ...] = ()) -> None:
        self.view = view
        self.table = table
        self.key = key
        self.json_columns = json_columns
        self.rows: dict[str, Row | None] = {}
        self.dirty: set[str] = set()

    def get(self, cursor: Any, key: str) -> Row | None:
        if key not in self.rows:
            cursor.execute(self.view.q(f"SELECT * FROM {{{self.table}}} WHERE {self.key} = ?"), (key,))
            found = cursor.fetchone()
            self.rows[key] = self._decode(dict(found)) if found else None
        return self.rows[key]

    def put(self, row: Row) -> None:
        key = row[self.key]
        self.rows[key] = row
        self.dirty.add(key)

    def flush(self, cursor: Any) -> None:
        rows = [self._encode(self.rows[key]) for key in sorted(self.dirty) if self.rows[key] is not None]
        self.view.upsert(cursor, self.table, [self.key], rows)  # type: ignore[arg-type]
        self.dirty.clear()

    def _decode(self, row: Row) -> Row:
        for column in self.json_columns:
            row[column] = json.loads(row[column]) if row[column] is not None else None
        return row

    def _encode(self, row: Row) -> Row:
        encoded = dict(row)
        for column in self.json_columns:
            encoded[column] = json.dumps(row[column], sort_keys=True)
        return encoded
