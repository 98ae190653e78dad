"""The versioning rule (domain/base.py, RecordedAggregate) at work on a golden record.

Pretend `Notification.Delivered` moved to version 2: its one `channel` became `channels`, every
channel the message went out on. The golden records were written at version 1; read through
the version-2 class they are upcast, replay, and reach the views with the new field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import eventsourcing.utils
import pytest
from eventsourcing.domain import event

from clusterlabel.domain.base import RecordedAggregate
from clusterlabel.projections import stored_fields
from clusterlabel.projections.stored_fields import StoredFields
from clusterlabel.projections.view import Change
from tests.golden.records import HISTORIES, as_notification
from tests.lifecycle import memory_app

GOLDEN = HISTORIES["notification-delivered"]
AGGREGATE_TOPIC = "domain.notification:Notification"


class Notification(RecordedAggregate):
    """domain.notification.Notification as it would read with version 2 of Delivered."""

    @event("Queued")
    def __init__(
        self,
        recipient: str,
        kind: str,
        subject: str,
        body: str,
        case_id: UUID | None,
        label_id: UUID | None,
        actor: str,
        command_key: str,
    ) -> None:
        self.recipient = recipient
        self.delivered_on: list[str] = []

    class Delivered(RecordedAggregate.Event):
        class_version = 2
        channels: list[str]
        actor: str
        command_key: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["channels"] = [state.pop("channel")]

    @event(Delivered)
    def _delivered(self, channels: list[str], actor: str, command_key: str) -> None:
        self.delivered_on = list(channels)


@pytest.fixture(autouse=True)
def moved_to_version_2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The golden topics resolve to the version-2 class while a test runs (as register_topic would
    make them after a move); the read side forgets which topics it found needing no upcast."""
    topics = {
        AGGREGATE_TOPIC: Notification,
        **{f"{AGGREGATE_TOPIC}.{name}": getattr(Notification, name) for name in ("Queued", "Delivered")},
    }
    for topic, cls in topics.items():
        monkeypatch.setitem(eventsourcing.utils._topic_cache, topic, cls)
    stored_fields._current_version_tail.cache_clear()
    yield
    stored_fields._current_version_tail.cache_clear()


def delivered_record() -> Any:
    (record,) = [record for record in GOLDEN.records if record.topic.endswith(".Delivered")]
    return record


def test_a_version_1_golden_record_is_upcast_on_read() -> None:
    record = delivered_record()
    assert "class_version" not in json.loads(record.state)  # written at version 1

    delivered = memory_app().mapper.to_domain_event(record)

    assert type(delivered) is Notification.Delivered
    assert delivered.channels == ["email"] and not hasattr(delivered, "channel")


def test_the_version_1_history_replays_into_the_version_2_aggregate() -> None:
    app = memory_app()
    app.recorder.insert_events(GOLDEN.records)

    notification = app.repository.get(GOLDEN.originator_id)

    assert isinstance(notification, Notification)
    assert notification.delivered_on == ["email"] and notification.version == 2


def test_a_version_2_event_is_stored_with_its_version_and_not_upcast_again() -> None:
    mapper = memory_app().mapper

    rewritten = mapper.to_stored_event(mapper.to_domain_event(delivered_record()))

    assert json.loads(rewritten.state)["class_version"] == 2
    assert mapper.to_domain_event(rewritten).channels == ["email"]


def test_the_read_side_reads_an_upcast_event_through_the_mapper() -> None:
    record = delivered_record()
    change = Change(as_notification(record), StoredFields(memory_app().mapper))

    assert change.json is None  # its stored JSON still says `channel`
    assert change["channels"] == ["email"]
