"""One stored event as every view reads it: its place in the log, and its fields as plain values.

A `Change` is built once per event and batch and shared by every view of a runner. Its fields are
parsed on first use; the Notification it stands for is built only for a view (or a mapper) that asks.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from clusterlabel.projections.stored_fields import StoredFields, plain_field
from clusterlabel.projections.view_store import Row

_UNREAD: Any = object()  # not looked at yet
_CANONICAL_ID = len("00000000-0000-0000-0000-000000000000")
_HEX_ID = len("00000000000000000000000000000000")
_HEX_DIGITS = "0123456789abcdef"


def kind_of(topic: str) -> str:
    """A topic's "Aggregate.Event" part, e.g. "Label.Withdrawn" (two aggregates have a "Withdrawn"): what
    follows the topic's first colon (its only one), the whole topic when it has none (as the log readers
    take it in SQL, projections/log_reader.py)."""
    return topic[topic.find(":") + 1 :]


# A topic's (kind, aggregate type, event type), worked out once per topic: a log holds a few dozen
# topics, and every view reads these of every event (why: about a microsecond an event, each time).
_TOPIC_PARTS: dict[str, tuple[str, str, str]] = {}


def _topic_parts(topic: str) -> tuple[str, str, str]:
    parts = _TOPIC_PARTS.get(topic)
    if parts is None:
        kind = kind_of(topic)
        parts = _TOPIC_PARTS[topic] = (kind, kind.partition(".")[0], kind.rpartition(".")[2])
    return parts


def id_text(originator_id: Any) -> str:
    """An aggregate id as the canonical UUID text every view stores it in.

    Without a UUID built per event where the text allows (SQLite stores an id as its 32 hex digits,
    PostgreSQL's uuid reads as canonical text), as str(UUID(text)) would make it."""
    if type(originator_id) is str:
        if len(originator_id) == _HEX_ID and not originator_id.strip(_HEX_DIGITS):
            h = originator_id
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        canonical = len(originator_id) == _CANONICAL_ID and originator_id[8:24:5] == "----"
        if canonical and not originator_id.strip(_HEX_DIGITS + "-"):
            return originator_id
    return str(originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id)))


class Change:
    """One stored event, read once per batch and shared by every view.

    A plain class with slots (why: it is built once per event and read by every view, and
    functools.cached_property takes a lock on every first read in this Python)."""

    __slots__ = (
        "_fields",
        "_json",
        "_notification",
        "_values",
        "aggregate_type",
        "event_type",
        "id",
        "key",
        "kind",
        "state",
        "stored",
        "topic",
        "version",
    )
    _notification: Notification | None

    def __init__(self, notification: Notification, stored: StoredFields) -> None:
        self._read(
            notification.id,
            id_text(notification.originator_id),
            notification.originator_version,
            notification.topic,
            notification.state,
            stored,
        )
        self._notification = notification

    @classmethod
    def from_row(cls, position: int, key: str, version: int, topic: str, state: bytes, stored: StoredFields) -> Change:
        """A change from the columns of a row of the events table, `key` the aggregate id as id_text() gives it."""
        change = cls.__new__(cls)
        change._read(position, key, version, topic, state, stored)
        change._notification = None
        return change

    def _read(self, position: int, key: str, version: int, topic: str, state: bytes, stored: StoredFields) -> None:
        self.id = position
        self.key = key  # the aggregate id as text, the form every view stores it in
        self.version = version
        self.topic = topic
        self.state = state
        self.kind, self.aggregate_type, self.event_type = _TOPIC_PARTS.get(topic) or _topic_parts(topic)
        self.stored = stored
        self._json: bytes | None = _UNREAD
        self._fields: dict[str, Any] | None = None
        self._values: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Change(id={self.id}, kind={self.kind!r}, key={self.key!r}, version={self.version})"

    @property
    def notification(self) -> Notification:
        """The stored event as the recorder gives it (built on first use for a change read as a row)."""
        if self._notification is None:
            self._notification = Notification(
                id=self.id,
                originator_id=self.aggregate_id,
                originator_version=self.version,
                topic=self.topic,
                state=self.state,
            )
        return self._notification

    @property
    def aggregate_id(self) -> UUID:
        return UUID(self.key)

    @property
    def json(self) -> bytes | None:
        """The stored JSON, when the event can be read without its mapper."""
        if self._json is _UNREAD:
            self._json = self.stored.json(self)
        return self._json

    @property
    def fields(self) -> dict[str, Any]:
        if self._fields is None:
            stored = self.json
            self._fields = self.stored.fields(self.notification if stored is None else None, stored)
        return self._fields

    def __getitem__(self, name: str) -> Any:
        """A field as plain data: ids as UUID text, instants as stamps (converted once for all views)."""
        value = self._values.get(name, _UNREAD)  # why not catch a KeyError: most reads are a field's first
        if value is _UNREAD:
            raw = (self._fields or self.fields)[name]
            value = self._values[name] = raw if type(raw) is str else plain_field(raw)  # text is plain already
        return value

    def get(self, name: str, default: Any = None) -> Any:
        if name not in self._values and name not in (self._fields or self.fields):
            return default  # a field the event lacks, told without raising and catching a KeyError
        try:
            return self[name]
        except KeyError:
            return default

    def columns(self, *names: str) -> Row:
        """The named fields, as a row's columns of the same names."""
        return {name: self[name] for name in names}

    @property
    def recorded_at(self) -> str:
        """When the event was stored, as a stamp."""
        return self["timestamp"]
