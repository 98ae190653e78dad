"""Stored events of every type written today still decode, replay and read as they did.

The golden records (tests/golden/events/, written once by `python -m tests.golden.generate`)
are what the event store held. These tests fail when an event class is renamed or moved (its
topic no longer resolves), a field is removed, renamed or added without an upcast (the decoded
event no longer has the class's fields), or a field's type changes incompatibly (a decoded
value no longer fits the annotation). The fix is an upcast, never a new golden record: see
the versioning rule in domain/base.py.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from types import UnionType
from typing import Any, TypeVar

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from clusterlabel.activities.application import CertificationApp
from clusterlabel.activities.personal_data import PERSONAL_FIELDS, SEALED
from clusterlabel.projections.factory import VIEW_CLASSES
from clusterlabel.projections.stored_fields import StoredFields, plain_field
from clusterlabel.projections.view import Change
from tests.golden.records import HISTORIES, RECORDS, as_notification, domain_event_topics, replay_all
from tests.lifecycle import memory_app

RECORD_IDS = [f"{name}-v{record.originator_version}" for name, h in HISTORIES.items() for record in h.records]
IDENTITY = {"originator_id", "originator_version"}  # the log's columns, not the stored JSON


@pytest.fixture(scope="module")
def app() -> CertificationApp:
    return memory_app()


def covered_topics() -> set[str]:
    """The topics of the golden records, each named as the domain names its event class today.

    Records written before the project installed as `clusterlabel` carry the old module prefix
    (`domain.…`); resolving them is what proves that the old prefix is still an alias."""
    stored = set().union(*(history.topics for history in HISTORIES.values()))
    return {get_topic(resolve_topic(topic)) for topic in stored}


def test_golden_records_include_topics_stored_under_the_old_module_prefix() -> None:
    stored = set().union(*(history.topics for history in HISTORIES.values()))

    assert any(topic.startswith("domain.") for topic in stored)


def test_every_event_type_the_domain_defines_has_a_golden_record() -> None:
    missing = sorted(set(domain_event_topics()) - covered_topics())

    assert missing == [], "record them: extend tests/golden/story.py and run `python -m tests.golden.generate`"


def test_every_golden_record_names_an_event_type_the_domain_still_defines() -> None:
    assert sorted(covered_topics() - set(domain_event_topics())) == []


@pytest.mark.parametrize("record", RECORDS, ids=RECORD_IDS)
def test_every_event_type_written_today_still_decodes(app: CertificationApp, record: StoredEvent) -> None:
    event = app.mapper.to_domain_event(record)

    assert {field.name for field in dataclasses.fields(type(event))} == set(vars(event))
    hints = typing.get_type_hints(type(event))
    misfits = {name: value for name, value in vars(event).items() if not conforms(value, hints[name])}
    assert misfits == {}, f"stored values no longer fit {type(event).__qualname__}'s annotations"


@pytest.mark.parametrize("record", RECORDS, ids=RECORD_IDS)
def test_the_current_mapper_writes_a_golden_event_back_to_the_same_bytes(
    app: CertificationApp, record: StoredEvent
) -> None:
    """The stored form has not drifted (the read side parses it directly, see projections/stored_fields.py)."""
    event = app.mapper.to_domain_event(record)
    if getattr(type(event), "class_version", 1) > 1:
        pytest.skip("an upcast event is written at its new version")
    written = app.mapper.to_stored_event(event)
    if app.mapper.carries_personal_text(record.topic):
        written = with_the_sealed_text_read(app, written, record)

    assert written == under_the_installed_name(record)


def with_the_sealed_text_read(app: CertificationApp, written: StoredEvent, record: StoredEvent) -> StoredEvent:
    """An event carrying a person's text is written with that text sealed (activities/personal_data.py),
    under a fresh nonce each time: the rest is the same bytes, and the sealed text stands where the
    golden record has the text."""
    field, key = PERSONAL_FIELDS[resolve_topic(record.topic)]
    text = json.loads(record.state)[field][key]
    sealed = re.fullmatch(rb'(.*"%s":)\{"%s":"[A-Za-z0-9+/=]+"\}(.*)' % (key.encode(), SEALED.encode()), written.state)
    assert sealed is not None, "the text is written sealed"
    return dataclasses.replace(written, state=sealed[1] + app.mapper.transcoder.encode(text) + sealed[2])


def under_the_installed_name(record: StoredEvent) -> StoredEvent:
    """The record as it is written today: the same bytes, under the event class's topic today (an
    event created under the old module name keeps its `originator_topic` value: it is a field)."""
    return dataclasses.replace(record, topic=get_topic(resolve_topic(record.topic)))


@pytest.mark.parametrize("record", RECORDS, ids=RECORD_IDS)
def test_the_read_side_reads_every_golden_record_as_the_mapper_decodes_it(
    app: CertificationApp, record: StoredEvent
) -> None:
    change = Change(as_notification(record), StoredFields(app.mapper))
    event = app.mapper.to_domain_event(record)
    decoded = {name: plain_field(value) for name, value in vars(event).items() if name not in IDENTITY}

    # Straight from the stored JSON (no domain object built) unless the record was written at an older
    # version of its class, and so needs its upcast, or carries a person's text, which only the mapper reads.
    written_at = json.loads(record.state).get("class_version", 1)
    current = written_at == getattr(type(event), "class_version", 1)
    assert (change.json is not None) == (current and not app.mapper.carries_personal_text(record.topic))
    assert {name: change[name] for name in decoded} == decoded
    assert change.kind == record.topic.rpartition(":")[2]


def test_every_event_a_view_handles_is_an_event_type_the_domain_defines() -> None:
    kinds = {topic.rpartition(":")[2] for topic in domain_event_topics()}
    handled = {kind for view in VIEW_CLASSES for kind in view.handlers}

    assert sorted(handled - kinds) == []


# The roster opens itself on the first expert's registration, the webhooks' directory on the first
# webhook's; that registration's event names the actor.
WITHOUT_ACTOR = {"domain.expert:ExpertRoster.Opened", "clusterlabel.domain.webhook:WebhookDirectory.Opened"}


def test_every_golden_event_names_its_actor_and_command_key(app: CertificationApp) -> None:
    events = [app.mapper.to_domain_event(record) for record in RECORDS if record.topic not in WITHOUT_ACTOR]

    assert all(isinstance(event.actor, str) and event.actor for event in events)
    assert all(event.command_key.startswith("golden-") for event in events)


def test_every_golden_history_replays_through_the_application() -> None:
    replayed = replay_all()

    for name, history in HISTORIES.items():
        aggregate = replayed[name]
        assert isinstance(aggregate, resolve_topic(history.aggregate_topic)), name
        assert aggregate.version == len(history.records) == history.records[-1].originator_version, name


# ---- helpers -------------------------------------------------------------------------


def conforms(value: Any, hint: Any) -> bool:
    """Whether a decoded value fits a field's annotation (the shapes events use: plain types,
    unions, lists and dicts of them)."""
    if hint is Any or isinstance(hint, TypeVar):
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, UnionType):
        return any(conforms(value, arm) for arm in args)
    if origin is list:
        return isinstance(value, list) and all(conforms(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items())
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is type(None):
        return value is None
    return isinstance(value, hint)
