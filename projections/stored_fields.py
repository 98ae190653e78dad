"""An event's fields read straight from its stored JSON, as the plain values views keep.

Views store text: ids as canonical UUID text, instants as fixed-width UTC stamps. Building
the domain event first (eventsourcing's JSON transcoder runs a Python hook on every JSON
object) and then turning its values back into text cost more than all the views' own work,
so views parse the stored JSON with pydantic-core's parser (faster than json's C parser, and
already here) and convert only the fields they read.

The stored form is eventsourcing's: `{"_type_": "uuid_hex", "_data_": ...}` for an id,
`datetime_iso` for an instant, `decimal_str` for a decimal. An application whose events
cannot be read that way (another transcoder, transcodings of its own, an event class that
upcasts old versions, an event carrying a person's sealed text) is read through its mapper
instead; the values come out the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper, Notification, StoredEvent
from eventsourcing.utils import resolve_topic
from pydantic_core import from_json

from clusterlabel.projections.view_store import plain, stamp

# Stored beside every event's own fields; not part of what the event says.
ENVELOPE = frozenset({"timestamp", "originator_topic", "originator_id", "originator_version", "class_version"})
# Kept in the log's own columns, not in the stored text (an event read through its mapper has them).
_IDENTITY = frozenset({"originator_id", "originator_version"})
_DEFAULT_TRANSCODINGS = frozenset({"uuid_hex", "datetime_iso", "decimal_str"})
_STAMP_WIDTH = len("2026-01-01T00:00:00.000000+00:00")


def _uuid_text(hex_digits: str) -> str:
    h = hex_digits.lower()
    if len(h) != 32:
        return str(UUID(hex_digits))
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"  # str(UUID(h)), without building it


def _instant_text(iso: str) -> str:
    # isoformat() of a UTC instant with microseconds is already the stamp.
    if len(iso) == _STAMP_WIDTH and iso.endswith("+00:00"):
        return iso
    return stamp(datetime.fromisoformat(iso))  # type: ignore[return-value]


_TYPED: dict[str, Callable[[str], str]] = {"uuid_hex": _uuid_text, "datetime_iso": _instant_text, "decimal_str": str}


def _is_typed(value: dict[str, Any]) -> bool:
    return len(value) == 2 and "_type_" in value and "_data_" in value


def plain_field(value: Any) -> Any:
    """A stored (or decoded) field value as plain JSON data: ids and instants as text."""
    kind = type(value)
    if kind is str or kind is int or value is None or kind is bool or kind is float:
        return value
    if kind is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:  # _is_typed(), without a call per field
            return _TYPED[value["_type_"]](value["_data_"])
        return {key: plain_field(item) for key, item in value.items()}
    if kind is list:
        return [plain_field(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return plain(value)  # domain objects, when the event was read through the mapper


def _plain_object(value: dict[str, Any]) -> Any:
    return _TYPED[value["_type_"]](value["_data_"]) if _is_typed(value) else value


def event_from_json(stored: bytes) -> dict[str, Any]:
    """An event's fields (envelope included) as plain data, from its stored JSON."""
    return json.loads(stored, object_hook=_plain_object)


@lru_cache(maxsize=256)
def _current_version_tail(topic: str) -> bytes | None:
    """How the stored JSON of an event of this topic ends when it was written at its class's current
    version (eventsourcing's mapper adds `class_version` last, compactly); None for an unversioned one."""
    version = getattr(resolve_topic(topic), "class_version", 1)
    return f',"class_version":{version}}}'.encode() if version > 1 else None


class Stored(Protocol):
    """What is read of a stored event: a StoredEvent, a Notification, a Change."""

    @property
    def topic(self) -> str: ...

    @property
    def state(self) -> bytes: ...


class StoredFields:
    """Reads events of one application: directly when its stored form allows, else via its mapper."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        self.direct = isinstance(transcoder, JSONTranscoder) and set(transcoder.names) <= _DEFAULT_TRANSCODINGS
        # An event carrying a person's sealed text is read only through the mapper, which unseals it or,
        # once the person is erased, reads "erased person" (activities/personal_data.py).
        self.personal: Callable[[str], bool] = getattr(mapper, "carries_personal_text", lambda topic: False)

    def json(self, event: Stored) -> bytes | None:
        """The event's stored JSON (its fields, without the version marker), or None when it must go
        through the mapper: an event written at an older version of its class, whose upcast runs there,
        or one that carries a person's text."""
        if not self.direct or self.personal(event.topic):
            return None
        state = event.state
        if self.mapper.cipher:
            state = self.mapper.cipher.decrypt(state)
        if self.mapper.compressor:
            state = self.mapper.compressor.decompress(state)
        stored = bytes(state)
        tail = _current_version_tail(event.topic)
        if tail is None:
            return stored
        return stored[: -len(tail)] + b"}" if stored.endswith(tail) else None

    def plain(self, event: StoredEvent) -> dict[str, Any]:
        """A stored event's fields (envelope included) as plain data."""
        stored = self.json(event)
        if stored is not None:
            return event_from_json(stored)
        fields = vars(self.mapper.to_domain_event(event))
        return {key: plain_field(value) for key, value in fields.items() if key not in _IDENTITY}

    def fields(self, notification: Notification | None, stored: bytes | None) -> dict[str, Any]:
        """The event's fields (envelope included), values still in stored or domain form: parsed from `stored`,
        its stored JSON, when given, else read from `notification` through the mapper."""
        if stored is not None:
            return from_json(stored)
        assert notification is not None, "an event without its stored JSON is read through the mapper"
        return dict(vars(self.mapper.to_domain_event(notification)))
