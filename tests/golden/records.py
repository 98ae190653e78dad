"""The golden set on disk, and the event types the domain defines today.

One file per aggregate history: its records exactly as the event store holds them (topic,
originator version, and the state bytes as JSON text), oldest first.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

import clusterlabel.domain
from tests.lifecycle import memory_app

GOLDEN_DIR = Path(__file__).parent / "events"


@dataclass(frozen=True)
class GoldenHistory:
    """One aggregate's stored events, as recorded when the golden set was written."""

    name: str
    aggregate_topic: str
    originator_id: UUID
    records: list[StoredEvent]

    @property
    def topics(self) -> set[str]:
        return {record.topic for record in self.records}


def load_histories(directory: Path = GOLDEN_DIR) -> dict[str, GoldenHistory]:
    return {path.stem: _read(path) for path in sorted(directory.glob("*.json"))}


def _read(path: Path) -> GoldenHistory:
    data = json.loads(path.read_text(encoding="utf-8"))
    originator_id = UUID(data["originator_id"])
    records = [
        StoredEvent(
            originator_id=originator_id,
            originator_version=record["originator_version"],
            topic=record["topic"],
            state=record["state"].encode("utf-8"),
        )
        for record in data["records"]
    ]
    return GoldenHistory(path.stem, data["aggregate"], originator_id, records)


HISTORIES = load_histories()
RECORDS = [record for history in HISTORIES.values() for record in history.records]


def golden_id(name: str) -> UUID:
    return HISTORIES[name].originator_id


def replay_all() -> dict[str, Any]:
    """Every golden history written into a fresh store and loaded as the application loads it."""
    app = memory_app()
    app.recorder.insert_events(RECORDS)
    return {
        name: app.load(history.originator_id, resolve_topic(history.aggregate_topic))
        for name, history in HISTORIES.items()
    }


def as_notification(record: StoredEvent, position: int = 1) -> Notification:
    """A golden record as the views receive it from the log."""
    return Notification(
        id=position,
        originator_id=record.originator_id,
        originator_version=record.originator_version,
        topic=record.topic,
        state=record.state,
    )


def history_json(aggregate_topic: str, originator_id: UUID, records: Iterable[Any]) -> str:
    """A history as the golden file holds it; `records` are stored events or notifications."""
    data = {
        "aggregate": aggregate_topic,
        "originator_id": str(originator_id),
        "records": [
            {"originator_version": r.originator_version, "topic": r.topic, "state": bytes(r.state).decode("utf-8")}
            for r in records
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def aggregate_classes() -> list[type[Aggregate]]:
    """Every aggregate class in domain/ that events are stored for (abstract bases left out)."""
    found: list[type[Aggregate]] = []
    for module_info in pkgutil.iter_modules(clusterlabel.domain.__path__, "clusterlabel.domain."):
        module = importlib.import_module(module_info.name)
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, Aggregate) and cls.__module__ == module.__name__
        ]
    return [cls for cls in found if not any(other is not cls and issubclass(other, cls) for other in found)]


def event_classes(aggregate: type[Aggregate]) -> list[type[Aggregate.Event]]:
    """An aggregate's own event types.

    eventsourcing redefines its bases' event classes (Event, Created) on every aggregate; the
    ones the bases do not name are the aggregate's own. (Every aggregate here names its created
    event, e.g. @event("Registered") on __init__, so the redefined Created is never stored.)"""
    inherited = {name for base in aggregate.__mro__[1:] for name in vars(base)}
    return [
        value
        for name, value in vars(aggregate).items()
        if inspect.isclass(value) and issubclass(value, Aggregate.Event) and name not in inherited
    ]


def domain_event_topics() -> dict[str, type[Aggregate.Event]]:
    """The topic of every event type the domain defines today."""
    return {get_topic(cls): cls for aggregate in aggregate_classes() for cls in event_classes(aggregate)}
